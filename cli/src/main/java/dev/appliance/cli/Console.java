package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The built-in SQL console of {@code pg psql}, for machines without a Postgres client: JDBC through the leader
 * route, line editing and history on a terminal (JLine), statements that run over several lines until a
 * semicolon, and results as aligned tables in psql's style. With stdin from a pipe it reads the script and
 * stops at the first error, with exit code 1.
 */
final class Console {
    private Console() {
    }

    static int run(JsonNode env, java.io.InputStream stdin, PrintWriter out, PrintWriter err) throws IOException {
        String[] hosts = env.path("PGHOST").asText().split(",");
        String port = env.path("PGPORT").asText();
        StringBuilder url = new StringBuilder("jdbc:postgresql://");
        for (int i = 0; i < hosts.length; i++) {
            url.append(i == 0 ? "" : ",").append(hosts[i]).append(':').append(port);
        }
        url.append('/').append(env.path("PGDATABASE").asText());
        Properties p = new Properties();
        p.setProperty("user", env.path("PGUSER").asText());
        p.setProperty("password", env.path("PGPASSWORD").asText());
        p.setProperty("ApplicationName", "appliance pg psql");
        p.setProperty("connectTimeout", "10");
        String db = env.path("PGDATABASE").asText();
        boolean interactive = stdin == System.in && System.console() != null;
        try (Connection c = DriverManager.getConnection(url.toString(), p)) {
            if (interactive) {
                try (Terminal t = TerminalBuilder.builder().system(true).build()) {
                    LineReader reader = LineReaderBuilder.builder().terminal(t).appName("appliance").build();
                    out.println("appliance console (PostgreSQL " + c.getMetaData().getDatabaseProductVersion()
                            + "). End statements with ';'. \\q quits, \\dt lists tables.");
                    out.flush();
                    return loop(c, continuing -> {
                        try {
                            return reader.readLine(db + (continuing ? "-> " : "=> "));
                        } catch (EndOfFileException e) {
                            return null;
                        }
                    }, out, err, false);
                }
            }
            BufferedReader in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
            return loop(c, continuing -> in.readLine(), out, err, true);
        } catch (SQLException e) {
            err.println("appliance: cannot connect to " + db + " through the leader route (" + url + "): " + e.getMessage());
            err.flush();
            return 1;
        }
    }

    /** Where lines come from: the next one (a continuation of an unfinished statement or not), null at the end. */
    private interface Lines {
        String next(boolean continuing) throws IOException;
    }

    private static int loop(Connection c, Lines lines, PrintWriter out, PrintWriter err, boolean stopOnError)
            throws IOException {
        StringBuilder statement = new StringBuilder();
        SqlSplitter splitter = new SqlSplitter();
        while (true) {
            String line;
            try {
                line = lines.next(statement.length() > 0);
            } catch (UserInterruptException e) {
                statement.setLength(0);    // Ctrl-C drops the statement being typed, as psql does
                continue;
            }
            if (line == null) {
                break;
            }
            if (statement.length() == 0 && line.strip().startsWith("\\")) {
                String cmd = line.strip();
                if (cmd.equals("\\q")) {
                    return 0;
                }
                String sql = switch (cmd) {
                    case "\\dt" -> "SELECT schemaname AS schema, tablename AS name, tableowner AS owner FROM pg_tables "
                            + "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2";
                    case "\\l" -> "SELECT datname AS name, pg_get_userbyid(datdba) AS owner FROM pg_database ORDER BY 1";
                    case "\\dx" -> "SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY 1";
                    default -> null;
                };
                if (sql == null) {
                    err.println("only \\q, \\dt, \\l and \\dx here; install psql for the others");
                    err.flush();
                    continue;
                }
                if (!execute(c, sql, out, err) && stopOnError) {
                    return 1;
                }
                continue;
            }
            statement.append(line).append('\n');
            for (String sql : splitter.complete(statement)) {
                if (!execute(c, sql, out, err) && stopOnError) {
                    return 1;
                }
            }
        }
        if (!statement.toString().isBlank()) {
            return execute(c, statement.toString(), out, err) || !stopOnError ? 0 : 1;
        }
        return 0;
    }

    /** Runs one statement and prints what it returned, as psql would; false when it failed. */
    static boolean execute(Connection c, String sql, PrintWriter out, PrintWriter err) {
        try (Statement st = c.createStatement()) {
            boolean rows = st.execute(sql);
            printWarnings(st.getWarnings(), err);
            while (true) {
                if (rows) {
                    try (ResultSet rs = st.getResultSet()) {
                        printTable(rs, out);
                    }
                } else {
                    int count = st.getUpdateCount();
                    if (count == -1) {
                        break;
                    }
                    out.println(tag(sql, count));
                }
                rows = st.getMoreResults();
            }
            out.flush();
            return true;
        } catch (SQLException e) {
            err.println("ERROR:  " + e.getMessage().replaceFirst("^ERROR: ", ""));
            err.flush();
            return false;
        }
    }

    private static void printWarnings(SQLWarning w, PrintWriter err) {
        for (; w != null; w = w.getNextWarning()) {
            err.println(w.getMessage());
        }
    }

    /** psql's command tag, from the statement's first word and the rows it touched. */
    static String tag(String sql, int count) {
        String word = sql.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT).replace(";", "");
        return switch (word) {
            case "INSERT" -> "INSERT 0 " + count;
            case "UPDATE", "DELETE", "MERGE", "COPY", "MOVE", "FETCH" -> word + " " + count;
            case "SELECT" -> "SELECT " + count;
            default -> word;
        };
    }

    static void printTable(ResultSet rs, PrintWriter out) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        List<String[]> rows = new ArrayList<>();
        int[] width = new int[n];
        boolean[] numeric = new boolean[n];
        String[] head = new String[n];
        for (int i = 0; i < n; i++) {
            head[i] = md.getColumnLabel(i + 1);
            width[i] = head[i].length();
            int type = md.getColumnType(i + 1);
            numeric[i] = type == java.sql.Types.INTEGER || type == java.sql.Types.BIGINT || type == java.sql.Types.SMALLINT
                    || type == java.sql.Types.NUMERIC || type == java.sql.Types.DOUBLE || type == java.sql.Types.REAL;
        }
        while (rs.next()) {
            String[] r = new String[n];
            for (int i = 0; i < n; i++) {
                String v = rs.getString(i + 1);
                r[i] = v == null ? "" : v;
                width[i] = Math.max(width[i], r[i].length());
            }
            rows.add(r);
        }
        StringBuilder line = new StringBuilder();
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int pad = width[i] - head[i].length();
            line.append(i == 0 ? " " : " | ").append(" ".repeat(pad / 2)).append(head[i]).append(" ".repeat(pad - pad / 2));
            rule.append(i == 0 ? "" : "+").append("-".repeat(width[i] + 2));
        }
        out.println(line.toString().stripTrailing());
        out.println(rule);
        for (String[] r : rows) {
            line.setLength(0);
            for (int i = 0; i < n; i++) {
                String v = r[i];
                String cell = numeric[i] ? " ".repeat(width[i] - v.length()) + v : v + " ".repeat(width[i] - v.length());
                line.append(i == 0 ? " " : " | ").append(cell);
            }
            out.println(line.toString().stripTrailing());
        }
        out.println("(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
        out.println();
    }
}
