package dev.appliance.cluster;

import static dev.appliance.cluster.ClusterFixture.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.api.ApiClient;
import dev.appliance.harness.AckedWriter;
import dev.appliance.harness.LocalCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Three daemons as real processes, with real postgres and Raft, through the faults of a cluster's life, in
 * order, while a client commits rows through whichever node is primary. After each fault every acknowledged
 * row must be on the primary.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ThreeNodeClusterTest {
    private static final Duration FAILOVER = Duration.ofSeconds(60);
    private static ClusterFixture f;
    private static AckedWriter writer;

    @RegisterExtension
    static final TestWatcher KEEP_LOGS_ON_FAILURE = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (f != null) {
                f.markFailed();
            }
        }
    };

    @BeforeAll
    static void formCluster() throws Exception {
        f = ClusterFixture.start(3, 21, Map.of());
        LocalCluster.AppDatabase app = f.cluster.appDatabase();
        writer = AckedWriter.start(f.cluster, app);
    }

    @AfterAll
    static void stop() throws Exception {
        if (writer != null) {
            writer.close();
        }
        if (f != null) {
            f.close();
        }
    }

    private static void assertNothingLost() throws Exception {
        ClusterFixture.assertNothingLost(writer);
    }

    /** Starts a killed replica again and waits until it is back as a healthy async. */
    private static void restartAsAsync(String member) throws Exception {
        f.cluster.start(id(member));
        f.awaitCluster(member + " back as a healthy async", FAILOVER, () -> f.asyncs().contains(member)
                && f.member(member).path("healthy").asBoolean());
    }

    @Test
    @Order(1)
    void threeNodesFormPrimarySyncAndAsyncAndAcknowledgeCommits() throws Exception {
        assertFalse(f.primary().isEmpty());
        assertFalse(f.sync().isEmpty());
        assertEquals(1, f.asyncs().size());
        // The async re-points from the primary to the sync once the sync runs (cascading), and is unhealthy for
        // the moment that takes, which may fall just after the fixture saw everyone healthy.
        f.awaitCluster("every member healthy", Duration.ofSeconds(30), () -> {
            boolean all = true;
            for (var m : f.status().path("members")) {
                all &= m.path("healthy").asBoolean();
            }
            return all;
        });
        for (var m : f.status().path("members")) {
            assertTrue(m.path("daemonPid").asLong() > 0 && m.path("postgresPid").asLong() > 0, m.toString());
        }
        writer.awaitMore(50, Duration.ofSeconds(30));
        assertNothingLost();
        // Patroni's probes, open to load balancers; everything else needs the token.
        for (LocalCluster.NodeSpec n : f.cluster.nodes()) {
            String role = f.member(n.id().value()).path("role").asText();
            ApiClient open = new ApiClient(List.of(n.api()), "");
            assertEquals(role.equals("primary") ? 200 : 503, open.get("/primary").status(), n.id() + " /primary");
            assertEquals(role.equals("primary") ? 503 : 200, open.get("/replica?lag=16MB").status(), n.id() + " /replica");
            assertEquals(role.equals("sync") ? 200 : 503, open.get("/sync").status(), n.id() + " /sync");
            assertEquals(200, open.get("/health").status());
            assertEquals(200, open.get("/liveness").status(), n.id() + " /liveness: its loop runs");
            assertEquals(401, open.get("/status").status());
            assertEquals(400, open.get("/replica?lag=lots").status());
        }
        String metrics;
        try (var in = java.net.URI.create(f.cluster.nodes().get(0).api() + "/metrics").toURL().openStream()) {
            metrics = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertTrue(metrics.contains("appliance_generation{") && metrics.contains("appliance_role{"), metrics);
    }

    @Test
    @Order(2)
    void killingThePrimaryPromotesTheSyncTheAsyncBecomesSyncAndNoAcknowledgedRowIsLost() throws Exception {
        String primary = f.primary();
        String sync = f.sync();
        String async = f.asyncs().get(0);
        long generation = f.generation();
        writer.awaitMore(20, Duration.ofSeconds(30));
        f.cluster.kill(id(primary));
        f.awaitCluster("the sync taking over", FAILOVER, () -> sync.equals(f.primary()) && async.equals(f.sync()));
        assertTrue(f.generation() > generation);
        assertEquals("deposed", f.member(primary).path("role").asText());
        writer.awaitMore(20, FAILOVER);
        assertNothingLost();
    }

    @Test
    @Order(3)
    void theOldPrimaryRestartsIsRewoundAndRejoinsAsAnAsync() throws Exception {
        String old = f.status().path("members").findValues("role").toString().contains("deposed")
                ? deposed() : null;
        assertTrue(old != null, "a deposed member");
        f.cluster.start(id(old));
        f.awaitCluster(old + " rejoining as a healthy async", FAILOVER, () -> "async".equals(f.member(old).path("role").asText())
                && f.member(old).path("healthy").asBoolean());
        writer.awaitMore(20, FAILOVER);
        assertNothingLost();
    }

    /** Every live node's own view shows {@code field} = {@code value} in {@code /cluster}. */
    private static boolean allSee(String field, boolean value) throws Exception {
        for (LocalCluster.NodeSpec n : f.cluster.nodes()) {
            if (f.cluster.running(n.id())) {
                ApiClient one = new ApiClient(List.of(n.api()), f.cluster.token().orElse(""));
                if (one.get("/cluster").body().path(field).asBoolean() != value) {
                    return false;
                }
            }
        }
        return true;
    }

    private static String deposed() throws Exception {
        for (var m : f.status().path("members")) {
            if ("deposed".equals(m.path("role").asText())) {
                return m.path("id").asText();
            }
        }
        return null;
    }

    @Test
    @Order(4)
    void whenTheSyncDiesThePrimaryChoosesANewOne() throws Exception {
        String sync = f.sync();
        String async = f.asyncs().get(0);
        f.cluster.kill(id(sync));
        f.awaitCluster("the async becoming the sync", FAILOVER, () -> async.equals(f.sync()));
        writer.awaitMore(20, FAILOVER);
        restartAsAsync(sync);
        assertNothingLost();
    }

    @Test
    @Order(5)
    void aFrozenClusterChangesNothingUntilUnfrozen() throws Exception {
        ApiClient.Answer frozen = f.post("/freeze", "{\"reason\": \"integration test\"}");
        assertTrue(frozen.ok(), frozen.body().toString());
        f.awaitCluster("every node seeing the freeze", Duration.ofSeconds(10), () -> allSee("frozen", true));
        String sync = f.sync();
        long generation = f.generation();
        f.cluster.kill(id(sync));
        Thread.sleep(8000);
        assertEquals(sync, f.sync(), "frozen: the dead sync is not replaced");
        assertEquals(generation, f.generation());
        ApiClient.Answer refused = f.post("/switchover", "{}");
        assertEquals(409, refused.status(), refused.body().toString());

        assertTrue(f.post("/unfreeze", "{}").ok());
        f.awaitCluster("every node seeing the unfreeze", Duration.ofSeconds(10), () -> allSee("frozen", false));
        f.awaitCluster("a new sync after the unfreeze", FAILOVER, () -> !sync.equals(f.sync()) && !f.sync().isEmpty());
        writer.awaitMore(20, FAILOVER);
        restartAsAsync(sync);
        assertNothingLost();
    }

    @Test
    @Order(6)
    void aPlannedSwitchoverHandsThePrimaryToTheSync() throws Exception {
        String primary = f.primary();
        String sync = f.sync();
        ApiClient.Answer bad = f.post("/switchover", "{\"to\": 42}");
        assertEquals(400, bad.status());
        assertEquals("to", bad.body().path("field").asText());
        ApiClient.Answer asked = f.post("/switchover", "{}");
        assertEquals(202, asked.status(), asked.body().toString());
        f.awaitCluster("the sync becoming primary", FAILOVER, () -> sync.equals(f.primary()));
        f.awaitCluster(primary + " following as a healthy replica", FAILOVER, () -> f.member(primary).path("healthy").asBoolean()
                && List.of("sync", "async").contains(f.member(primary).path("role").asText()));
        writer.awaitMore(20, FAILOVER);
        assertNothingLost();
    }

    @Test
    @Order(7)
    void sigtermOfThePrimaryHandsOverBeforeItStops() throws Exception {
        String primary = f.primary();
        String sync = f.sync();
        int exit = f.cluster.terminate(id(primary), Duration.ofSeconds(150));
        assertEquals(143, exit, () -> "the daemon exits cleanly after SIGTERM (-1: still running; 1: its stop deadline"
                + " passed). Its log ends:\n" + f.cluster.logTail(id(primary), 120));
        assertEquals(sync, f.primary(), "the sync was made primary before the old one stopped");
        writer.awaitMore(20, FAILOVER);
        f.cluster.start(id(primary));
        f.awaitCluster(primary + " back as a healthy replica", FAILOVER, () -> f.member(primary).path("healthy").asBoolean());
        assertNothingLost();
        assertTrue(writer.ackedCount() > 200, "acknowledged " + writer.ackedCount());
    }
}
