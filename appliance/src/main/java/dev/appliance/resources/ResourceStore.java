package dev.appliance.resources;

import dev.appliance.postgres.PgCredentials;
import dev.appliance.postgres.PgSql;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Supplier;
import org.postgresql.util.PasswordUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, lists and removes resources on the primary, as the appliance superuser. Each resource is a login role
 * and a database of the same name, private to that role, and a row in {@code appliance.resources} (in the
 * {@code postgres} database) with its password sealed by {@link CredentialCipher}. Every statement commits
 * through synchronous replication like any other write, so a resource that was reported created survives a
 * failover.
 */
public final class ResourceStore {
    private static final Logger LOG = LoggerFactory.getLogger(ResourceStore.class);
    private static final String ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Supplier<PrimaryAddress> primary;
    private final PgCredentials credentials;
    private final CredentialCipher cipher;

    /** @param primary the current primary; throws {@link IllegalStateException} saying why there is none */
    public ResourceStore(Supplier<PrimaryAddress> primary, PgCredentials credentials) {
        this.primary = primary;
        this.credentials = credentials;
        this.cipher = new CredentialCipher(credentials.superuserPassword());
    }

    public PrimaryAddress primary() {
        return primary.get();
    }

    /** A superuser connection to {@code database} on the primary. */
    public Connection connect(String database) throws SQLException {
        PrimaryAddress p = primary.get();
        return PgSql.superuser(p.host(), p.port(), credentials, database).connect();
    }

    /**
     * Creates a resource named {@code requestedId} (or a generated name when null).
     *
     * @throws IllegalArgumentException the id cannot name a resource
     * @throws IllegalStateException    the id is taken
     */
    public Resource create(String requestedId, String by) throws SQLException {
        String id = requestedId == null ? generateId() : requestedId;
        String invalid = Resource.invalidId(id);
        if (invalid != null) {
            throw new IllegalArgumentException(invalid);
        }
        String password = PgCredentials.randomSecret();
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            ensureSchema(st);
            if (find(c, id) != null) {
                throw new IllegalStateException("resource " + id + " already exists");
            }
            if (exists(c, "SELECT 1 FROM pg_roles WHERE rolname = ?", id)
                    || exists(c, "SELECT 1 FROM pg_database WHERE datname = ?", id)) {
                throw new IllegalStateException("a role or database named " + id + " already exists in postgres; "
                        + "choose another id");
            }
            // Only the SCRAM verifier travels to the server: the password never appears in a statement or a log.
            st.execute("CREATE ROLE " + quote(id) + " LOGIN PASSWORD '" + PasswordUtil.encodeScramSha256(password.toCharArray())
                    + "'");
            try {
                st.execute("CREATE DATABASE " + quote(id) + " OWNER " + quote(id));
                st.execute("REVOKE ALL ON DATABASE " + quote(id) + " FROM PUBLIC");
                try (PreparedStatement ins = c.prepareStatement("INSERT INTO appliance.resources "
                        + "(id, service, database, username, password_sealed, created_by) VALUES (?, ?, ?, ?, ?, ?)")) {
                    ins.setString(1, id);
                    ins.setString(2, Resource.POSTGRES);
                    ins.setString(3, id);
                    ins.setString(4, id);
                    ins.setString(5, cipher.seal(password, id));
                    ins.setString(6, by);
                    ins.executeUpdate();
                }
            } catch (SQLException e) {
                undo(st, id);
                throw e;
            }
            LOG.info("resource {} created (database and role {}) by {}", id, id, by);
            return find(c, id);
        }
    }

    public List<Resource> list() throws SQLException {
        try (Connection c = connect("postgres")) {
            if (!schemaExists(c)) {
                return List.of();
            }
            List<Resource> out = new ArrayList<>();
            try (PreparedStatement q = c.prepareStatement(SELECT + " ORDER BY created_at, id"); ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        }
    }

    /** @throws NoSuchElementException there is no such resource */
    public Resource get(String id) throws SQLException {
        try (Connection c = connect("postgres")) {
            Resource r = schemaExists(c) ? find(c, id) : null;
            if (r == null) {
                throw new NoSuchElementException(noSuch(id));
            }
            return r;
        }
    }

    /** Drops the resource's database (ending its sessions) and role, then its row. */
    public Resource remove(String id, String by) throws SQLException {
        try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
            Resource r = schemaExists(c) ? find(c, id) : null;
            if (r == null) {
                throw new NoSuchElementException(noSuch(id));
            }
            st.execute("DROP DATABASE IF EXISTS " + quote(r.database()) + " WITH (FORCE)");
            st.execute("DROP ROLE IF EXISTS " + quote(r.user()));
            try (PreparedStatement del = c.prepareStatement("DELETE FROM appliance.resources WHERE id = ?")) {
                del.setString(1, id);
                del.executeUpdate();
            }
            LOG.info("resource {} removed (database and role dropped) by {}", id, by);
            return r;
        }
    }

    /** The resource's database at a glance: version, size, connections, tables and rows. */
    public DatabaseFacts facts(Resource r) throws SQLException {
        PrimaryAddress p = primary();
        try (Connection c = connect(r.database()); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('server_version'), "
                        + "pg_database_size(current_database()), "
                        + "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()), "
                        + "current_setting('max_connections')::int, "
                        + "(SELECT count(*) FROM pg_stat_user_tables), "
                        + "(SELECT coalesce(sum(n_live_tup), 0) FROM pg_stat_user_tables), "
                        + "pg_postmaster_start_time()")) {
            rs.next();
            return new DatabaseFacts(p.member(), rs.getString(1), rs.getLong(2), rs.getInt(3), rs.getInt(4), rs.getInt(5),
                    rs.getLong(6), rs.getTimestamp(7).toInstant());
        }
    }

    /** The extensions available to the resource's database, and which are installed. */
    public List<Extension> extensions(Resource r) throws SQLException {
        List<Extension> out = new ArrayList<>();
        try (Connection c = connect(r.database()); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT name, default_version, installed_version, comment "
                        + "FROM pg_available_extensions ORDER BY name")) {
            while (rs.next()) {
                out.add(new Extension(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
            }
        }
        return out;
    }

    /**
     * Creates the extension {@code name} (and what it needs) in the resource's database as the appliance's superuser:
     * PostGIS and other extensions a resource's own role may not create. Creating one already there changes nothing.
     *
     * @throws java.util.NoSuchElementException no such extension is installed on the servers
     */
    public Extension enableExtension(Resource r, String name) throws SQLException {
        try (Connection c = connect(r.database())) {
            try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM pg_available_extensions WHERE name = ?")) {
                q.setString(1, name);
                try (ResultSet rs = q.executeQuery()) {
                    if (!rs.next()) {
                        throw new java.util.NoSuchElementException("no extension '" + name + "' is available on these servers"
                                + " (appliance pg extensions lists them)");
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.execute("CREATE EXTENSION IF NOT EXISTS \"" + name.replace("\"", "\"\"") + "\" CASCADE");
            }
        }
        LOG.info("extension {} enabled in resource {}", name, r.id());
        return extensions(r).stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow();
    }

    private static final String SELECT = "SELECT id, service, database, username, password_sealed, created_at, created_by "
            + "FROM appliance.resources";

    private Resource find(Connection c, String id) throws SQLException {
        try (PreparedStatement q = c.prepareStatement(SELECT + " WHERE id = ?")) {
            q.setString(1, id);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next() ? row(rs) : null;
            }
        }
    }

    private Resource row(ResultSet rs) throws SQLException {
        String id = rs.getString(1);
        return new Resource(id, rs.getString(2), rs.getString(3), rs.getString(4), cipher.open(rs.getString(5), id),
                rs.getTimestamp(6).toInstant(), rs.getString(7));
    }

    private static void ensureSchema(Statement st) throws SQLException {
        st.execute("CREATE SCHEMA IF NOT EXISTS appliance");
        st.execute("REVOKE ALL ON SCHEMA appliance FROM PUBLIC");
        st.execute("CREATE TABLE IF NOT EXISTS appliance.resources (id text PRIMARY KEY, service text NOT NULL, "
                + "database text NOT NULL, username text NOT NULL, password_sealed text NOT NULL, "
                + "created_at timestamptz NOT NULL DEFAULT now(), created_by text NOT NULL)");
    }

    private static boolean schemaExists(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT to_regclass('appliance.resources') IS NOT NULL")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private static boolean exists(Connection c, String sql, String value) throws SQLException {
        try (PreparedStatement q = c.prepareStatement(sql)) {
            q.setString(1, value);
            try (ResultSet rs = q.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void undo(Statement st, String id) {
        try {
            st.execute("DROP DATABASE IF EXISTS " + quote(id) + " WITH (FORCE)");
            st.execute("DROP ROLE IF EXISTS " + quote(id));
        } catch (SQLException e) {
            LOG.warn("creating resource {} failed, and so did removing what was made of it: {}; drop database and "
                    + "role {} by hand", id, e.getMessage(), id);
        }
    }

    private static String noSuch(String id) {
        return "no resource " + id + " (see 'appliance resource list')";
    }

    /** Ids are validated by {@link Resource#invalidId} before they reach SQL; quoting is belt and braces. */
    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static String generateId() {
        StringBuilder b = new StringBuilder("db");
        for (int i = 0; i < 10; i++) {
            b.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
        }
        return b.toString();
    }
}
