package dev.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.harness.LocalCluster;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@code appliance} command against a live 3-node cluster of real daemons and postgres on 127.0.0.94-96:
 * resources, the console, dumps and restores, facts, the operator's commands, through a failover, and bad input.
 */
class CliClusterTest {
    private static LocalCluster cluster;
    private static Path dir;

    private record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return ApiClient.JSON.readTree(out);
        }

        @Override
        public String toString() {
            return "exit " + code + "\nstdout: " + out + "\nstderr: " + err;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        String why = LocalCluster.whyPostgresCannotRun();
        if (why != null) {
            System.out.println("SKIPPED: the CLI cluster test: " + why);
        }
        assumeTrue(why == null, why);
        dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-cli-it-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        cluster = LocalCluster.in(dir, 3, 94, Map.of("drills", "true"));
        cluster.startAll();
        cluster.superviseDrillCrashes(Duration.ofSeconds(2), line -> System.out.println("  " + line));
        cluster.awaitHealthy(Duration.ofMinutes(3), line -> System.out.println("  " + line));
        cluster.leaderRoute();
        // What 'cluster up' leaves behind for the CLI: the token next to the nodes' configs.
        Files.writeString(dir.resolve("appliance.env"), "APPLIANCE_TOKEN=" + cluster.token().orElseThrow() + "\n");
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Run cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (all.stream().noneMatch(a -> a.startsWith("--url") || a.startsWith("--dir"))) {
            int end = all.indexOf("--");
            all.add(end < 0 ? all.size() : end, "--dir=" + dir);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    private static Run ok(String... args) {
        Run r = cli(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + " failed: " + r);
        return r;
    }

    private static Run failed(String... args) {
        Run r = cli(args);
        assertEquals(1, r.code(), () -> String.join(" ", args) + " should fail: " + r);
        assertTrue(r.err().startsWith("appliance: ") || r.err().contains("\nappliance: "),
                () -> "one clear line (after any progress), no stack trace: " + r);
        assertFalse(r.err().contains("\tat "), () -> "no stack trace without --debug: " + r);
        return r;
    }

    private static Connection connect(JsonNode env) throws Exception {
        StringBuilder url = new StringBuilder("jdbc:postgresql://");
        String[] hosts = env.path("PGHOST").asText().split(",");
        for (int i = 0; i < hosts.length; i++) {
            url.append(i == 0 ? "" : ",").append(hosts[i]).append(':').append(env.path("PGPORT").asText());
        }
        Properties p = new Properties();
        p.setProperty("user", env.path("PGUSER").asText());
        p.setProperty("password", env.path("PGPASSWORD").asText());
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(url + "/" + env.path("PGDATABASE").asText(), p);
    }

    private static String fingerprint(JsonNode env) throws Exception {
        try (Connection c = connect(env); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*), sum(id), md5(string_agg(v, ',' ORDER BY id)) FROM items")) {
            rs.next();
            return rs.getLong(1) + "/" + rs.getLong(2) + "/" + rs.getString(3);
        }
    }

    @Test
    void everyCommandWorksOnALiveClusterAndThroughAFailover() throws Exception {
        Run added = ok("resource", "add", "postgres", "--id", "shop", "--json");
        JsonNode shop = added.json().path("env");
        for (String k : ResourceCommand.ENV) {
            assertFalse(shop.path(k).asText().isEmpty(), k + " in " + added.out());
        }
        Run plain = ok("resource", "add", "postgres");
        assertTrue(plain.out().startsWith("Created resource db"), plain.out());
        assertTrue(plain.out().contains("\nDATABASE_URL=postgres://"), plain.out());
        try (Connection c = connect(shop); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE items (id int PRIMARY KEY, v text)");
            st.execute("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
        }
        String before = fingerprint(shop);
        JsonNode list = ok("resource", "list", "--json").json();
        assertTrue(list.toString().contains("\"shop\""), list.toString());
        assertEquals("available", ok("pg", "info", "-r", "shop", "--json").json().path("status").asText());
        assertTrue(ok("pg", "info", "-r", "shop").out().contains("Tables:       1"));
        assertTrue(ok("pg", "extensions", "-r", "shop", "--json").out().contains("\"plpgsql\""));
        Run psql = ok("pg", "psql", "-r", "shop", "--", "-c", "SELECT count(*) FROM items");
        assertTrue(psql.out().contains("20000"), "psql with the resource's credentials: " + psql);

        // The built-in console (for machines without psql): statements over several lines, aligned tables, errors.
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Console.run(shop, new java.io.ByteArrayInputStream(("SELECT count(*) AS n,\n max(id) AS top FROM items;"
                + "\n\\dt\nUPDATE items SET v = v WHERE id <= 3;\nSELECT nope;\nSELECT 'never';\n").getBytes()),
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(1, code, "a script stops at its first error");
        assertEquals("   n   |  top\n-------+-------\n 20000 | 20000\n(1 row)\n\n", out.toString().substring(0,
                out.toString().indexOf("(1 row)") + 9), out.toString());
        assertTrue(out.toString().contains(" public | items | shop"), out.toString());
        assertTrue(out.toString().contains("UPDATE 3"), out.toString());
        assertFalse(out.toString().contains("never"), out.toString());
        assertTrue(err.toString().startsWith("ERROR:  column \"nope\" does not exist"), err.toString());

        // A dump, restored into another resource, holds the same data; pg_restore itself reads the file.
        Path dump = dir.resolve("shop.dump");
        ok("pg", "dump", "-r", "shop", "-f", dump.toString());
        Process list2 = new ProcessBuilder(dev.appliance.postgres.PgBinaries.discover().tool("pg_restore").toString(),
                "--list", dump.toString()).redirectErrorStream(true).start();
        assertTrue(new String(list2.getInputStream().readAllBytes()).contains("TABLE public items"));
        assertEquals(0, list2.waitFor());
        JsonNode copy = ok("resource", "add", "postgres", "--id", "copy", "--json").json().path("env");
        ok("pg", "restore", "-r", "copy", "-f", dump.toString());
        assertEquals(before, fingerprint(copy));
        Run again = cli("pg", "restore", "-r", "copy", "-f", dump.toString());
        assertEquals(1, again.code(), again.toString());
        assertTrue(again.err().contains("already exists"), "the first error is shown: " + again);
        assertEquals(before, fingerprint(copy), "a failed restore changes nothing");
        ok("pg", "restore", "-r", "copy", "-f", dump.toString(), "--clean");
        assertEquals(before, fingerprint(copy));

        // A replica is rebuilt from a fresh clone; the primary is not.
        JsonNode st = cluster.status();
        String async = st.path("asyncs").get(0).asText();
        assertTrue(failed("node", "rebuild", st.path("primary").asText()).err().contains("is the primary"));
        assertTrue(failed("node", "rebuild", "n9").err().contains("no member n9"));
        Run rebuilt = ok("node", "rebuild", async, "--timeout", "180");
        assertTrue(rebuilt.out().contains(async + " is rebuilt and serves again"), rebuilt.out());
        assertTrue(Files.isDirectory(cluster.node(MemberId.of(async)).dir().resolve("data").resolve("pgdata.replaced")),
                "the old data directory is kept");
        assertTrue(failed("node", "remove", async, "--yes").err().contains("daemon is running"));

        // Bad input: a clear error, and nothing changes.
        Path corrupt = dir.resolve("corrupt.dump");
        Files.write(corrupt, "not a dump at all".repeat(100).getBytes());
        assertTrue(failed("pg", "restore", "-r", "copy", "-f", corrupt.toString(), "--clean").err()
                .contains("not an archive"));
        assertEquals(before, fingerprint(copy));
        assertTrue(failed("pg", "restore", "-r", "copy", "-f", dir.resolve("missing.dump").toString()).err()
                .contains("no such file"));
        assertTrue(failed("switchover", "--to", "n9").err().contains("n9"));
        assertTrue(failed("pg", "info", "-r", "nosuch").err().contains("no resource nosuch"));
        assertTrue(failed("resource", "list", "--url", "http://127.0.0.99:1").err().contains("no daemon answered"));
        Path wrong = Files.createDirectories(dir.resolve("wrong-token"));
        Files.writeString(wrong.resolve("appliance.env"), "APPLIANCE_URL=" + cluster.nodes().get(0).api()
                + "\nAPPLIANCE_TOKEN=wrong\n");
        assertTrue(failed("resource", "list", "--dir", wrong.toString()).err().contains("bearer token"));
        assertEquals(2, cli("pg", "dump").code(), "a missing required option is a usage error");
        assertTrue(failed("resource", "add", "postgres", "--id", "shop").err().contains("already exists"));
        assertEquals(before, fingerprint(shop));

        // postgres_fdw is untrusted: the resource's role may not create it, --enable does (as the superuser). After
        // the dumps: a dump holding it restores only where it was enabled first.
        try (Connection c = connect(shop); Statement fdw = c.createStatement()) {
            assertTrue(assertThrows(java.sql.SQLException.class, () -> fdw.execute("CREATE EXTENSION postgres_fdw"))
                    .getMessage().contains("permission denied"));
        }
        assertTrue(ok("pg", "extensions", "-r", "shop", "--enable", "postgres_fdw").out()
                .contains("Extension postgres_fdw"));
        boolean installed = false;
        for (JsonNode e : ok("pg", "extensions", "-r", "shop", "--json").json().path("extensions")) {
            installed |= e.path("name").asText().equals("postgres_fdw") && e.path("installed").asBoolean();
        }
        assertTrue(installed, "postgres_fdw installed in shop");
        assertTrue(failed("pg", "extensions", "-r", "shop", "--enable", "nosuch").err().contains("no extension 'nosuch'"));

        // Drills under writes through the route: a planned switchover, then a crash of the primary (restarted by
        // its supervisor, here the harness); nothing acknowledged is lost and the cluster is healthy again.
        Run drill = ok("drill", "switchover", "--before", "2", "--after", "3");
        assertTrue(drill.out().contains(" 0 lost") && drill.out().contains("RESULT drill=switchover"), drill.out());
        String crashed = cluster.status().path("primary").asText();
        JsonNode crash = ok("drill", "kill-primary", "--before", "2", "--after", "3", "--json").json();
        assertEquals(0, crash.path("lost").asLong(), crash.toString());
        assertTrue(crash.path("healthy").asBoolean() && crash.path("acknowledged").asLong() > 0, crash.toString());
        assertEquals(crashed, crash.path("oldPrimary").asText());
        assertFalse(crash.path("newPrimary").asText().equals(crashed), crash.toString());
        assertTrue(failed("drill", "partition-primary", "--before", "1").err().contains("loopback"),
                "members on one machine's loopback cannot be partitioned by address");
        assertEquals(2, cli("drill", "explode").code());
        assertFalse(ok("resource", "list", "--json").out().contains("\"drill\""), "the drill's resource is removed");
        assertEquals(before, fingerprint(shop), "through the route, after the drills");

        // Operators: history, freeze refuses a switchover, a switchover, then a failover.
        ok("freeze", "--reason", "cli test");
        assertTrue(failed("switchover").err().contains("frozen"));
        ok("unfreeze");
        String first = cluster.status().path("primary").asText();
        assertTrue(ok("switchover").out().contains("switchover done"));
        String second = cluster.status().path("primary").asText();
        assertFalse(first.equals(second), "the primary moved");
        assertTrue(ok("cluster", "history", "--json").out().contains("switchover requested"));
        assertEquals(before, fingerprint(shop), "through the route, after a switchover");

        cluster.kill(MemberId.of(second));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode s = cluster.status();
            if (!s.path("primary").asText().equals(second) && !s.path("primary").asText().isEmpty()) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals(before, fingerprint(shop), "the resource's credentials work through the route after a failover");
        assertTrue(ok("resource", "list").out().contains("copy"));
        assertEquals("available", ok("pg", "info", "-r", "shop", "--json").json().path("status").asText());
        Run status = ok("cluster", "status", "--json");
        assertFalse(status.json().path("primary").asText().equals(second), status.out());

        // The dead member is removed for good: no role, no vote, no registry entry; the cluster writes on.
        ok("node", "remove", second, "--yes");
        JsonNode after = cluster.status();
        assertFalse(after.toString().contains("\"" + second + "\""), after.toString());
        try (Connection c = connect(shop); Statement st2 = c.createStatement()) {
            st2.execute("INSERT INTO items VALUES (20001, 'after the removal')");
        }

        assertTrue(failed("resource", "remove", "nosuch", "--yes").err().contains("no resource nosuch"));
        ok("resource", "remove", "copy", "--yes");
        assertFalse(ok("resource", "list", "--json").out().contains("\"copy\""));
    }
}
