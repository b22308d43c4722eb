package dev.appliance.cluster;

import static dev.appliance.cluster.ClusterFixture.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.harness.AckedWriter;
import dev.appliance.harness.LocalCluster;
import dev.appliance.harness.LoopbackPartitions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A node cut off from the majority by a real network partition (iptables on loopback). */
class PartitionTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void aPrimaryCutOffFromTheMajorityFencesItselfWhileTheSyncTakesOverAndItRejoinsAfterTheHeal() throws Exception {
        Optional<String> why = LoopbackPartitions.unavailable();
        why.ifPresent(w -> System.out.println("SKIPPED: a network-partition test: " + w));
        assumeTrue(why.isEmpty(), why.orElse(""));
        try (LoopbackPartitions net = LoopbackPartitions.create();
                ClusterFixture f = ClusterFixture.start(3, 51, Map.of(), c -> c.placeIn(n -> {
                    try {
                        return net.cgroup(n.id().value(), n.host());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }))) {
            try {
                AckedWriter writer = AckedWriter.start(f.cluster, f.cluster.appDatabase());
                writer.awaitMore(50, Duration.ofSeconds(30));
                String primary = f.primary();
                String sync = f.sync();
                LocalCluster.NodeSpec cutOff = f.cluster.node(id(primary));
                LocalCluster.AppDatabase app = f.cluster.appDatabase();
                int port = f.cluster.leaderRoute();
                LocalCluster.NodeSpec majorityNode = f.cluster.node(id(sync));
                java.sql.Connection toOldPrimary = ProxyClusterTest.connect(app, majorityNode, port);
                try (java.sql.Statement st = toOldPrimary.createStatement()) {
                    assertEquals(cutOff.host(), ProxyClusterTest.serverAddress(st));
                }
                List<String> others = f.cluster.nodes().stream().filter(n -> !n.id().value().equals(primary))
                        .map(LocalCluster.NodeSpec::host).toList();
                net.isolate(cutOff.host(), others);

                ApiClient isolated = new ApiClient(List.of(cutOff.api()), f.cluster.token().orElse(""));
                f.awaitCluster("the cut-off primary fencing itself", LIMIT, () -> {
                    JsonNode s = isolated.get("/status").body();
                    return s.path("fenced").asBoolean() && !s.path("postgres").path("writable").asBoolean();
                });
                f.awaitCluster("the sync taking over", LIMIT, () -> sync.equals(f.primary()));
                // Across the partition nothing would ever end that connection: the route change must close it.
                f.awaitCluster("the proxy closing its connection to the deposed primary", Duration.ofSeconds(10), () -> {
                    try (java.sql.Statement st = toOldPrimary.createStatement()) {
                        st.setQueryTimeout(2);
                        st.execute("SELECT 1");
                        return false;
                    } catch (java.sql.SQLException e) {
                        return toOldPrimary.isClosed() || "08006".equals(e.getSQLState());
                    }
                });
                try (java.sql.Connection c = ProxyClusterTest.connect(app, majorityNode, port);
                        java.sql.Statement st = c.createStatement()) {
                    assertEquals(majorityNode.host(), ProxyClusterTest.serverAddress(st), "the route follows the takeover");
                }
                java.sql.SQLException refused = assertThrows(java.sql.SQLException.class,
                        () -> ProxyClusterTest.connect(app, cutOff, port).close(), "the cut-off node must not route");
                assertEquals("57P03", refused.getSQLState(), refused.getMessage());
                writer.awaitMore(20, LIMIT);
                ClusterFixture.assertNothingLost(writer);
                assertFalse(isolated.get("/primary").ok(), "the cut-off node does not pass the primary probe");

                net.heal();
                f.awaitCluster(primary + " rejoining as a healthy replica", Duration.ofSeconds(90),
                        () -> f.member(primary).path("healthy").asBoolean()
                                && List.of("sync", "async").contains(f.member(primary).path("role").asText()));
                ClusterFixture.finishWithNothingLost(writer, 20, LIMIT);
            } catch (AssertionError | Exception e) {
                f.markFailed();
                throw e;
            }
        }
    }
}
