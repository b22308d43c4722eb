package dev.appliance.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * The daemon's own connections to a postgres (its own or the primary's as the superuser, a peer's as the
 * replication role), bounded in time.
 */
public final class PgSql {
    private final String url;
    private final Properties props = new Properties();

    PgSql(String host, int port, String user, String password) {
        this(host, port, user, password, "postgres");
    }

    /** The appliance superuser's connections to {@code database} on a member's postgres. */
    public static PgSql superuser(String host, int port, PgCredentials credentials, String database) {
        return new PgSql(host, port, PgCredentials.SUPERUSER, credentials.superuserPassword(), database);
    }

    private PgSql(String host, int port, String user, String password, String database) {
        this.url = "jdbc:postgresql://" + host + ":" + port + "/" + database;
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "3");
        props.setProperty("loginTimeout", "5");
        props.setProperty("socketTimeout", "30");
        props.setProperty("tcpKeepAlive", "true");
        props.setProperty("ApplicationName", "appliance-daemon");
        props.setProperty("assumeMinServerVersion", "15");
    }

    /** The same connections, with other bounds on logging in and on waiting for an answer. */
    public PgSql withTimeouts(java.time.Duration login, java.time.Duration answer) {
        PgSql copy = new PgSql(url, props);
        copy.props.setProperty("connectTimeout", Long.toString(Math.max(1, login.toSeconds())));
        copy.props.setProperty("loginTimeout", Long.toString(Math.max(1, login.toSeconds())));
        copy.props.setProperty("socketTimeout", Long.toString(Math.max(1, answer.toSeconds())));
        return copy;
    }

    private PgSql(String url, Properties props) {
        this.url = url;
        this.props.putAll(props);
    }

    /** The server replied (a refusal, an error), as opposed to a timeout or a broken connection. */
    public static boolean answeredByServer(SQLException e) {
        return e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null;
    }

    public Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection(url, props);
        try (var st = c.createStatement()) {
            if (PgCredentials.SUPERUSER.equals(props.getProperty("user"))) {
                // Never let a failing statement (which may carry a secret) reach the server log.
                st.execute("SET log_min_error_statement = panic");
            }
            st.execute("SET statement_timeout = '60s'");
        }
        return c;
    }
}
