package dev.appliance.cluster;

import static dev.appliance.cluster.ClusterFixture.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.harness.AckedWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two other shapes a cluster takes: one node alone, and five. */
class SingletonAndFiveNodeClusterTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    @Test
    void aSingletonServesAloneAndComesBackWithItsDataAfterACrash() throws Exception {
        try (ClusterFixture f = ClusterFixture.start(1, 31, Map.of())) {
            try {
                assertTrue(f.status().path("singleton").asBoolean());
                assertEquals("n1", f.primary());
                AckedWriter writer = AckedWriter.start(f.cluster, f.cluster.appDatabase());
                writer.awaitMore(50, Duration.ofSeconds(30));
                f.cluster.kill(id("n1"));
                f.cluster.start(id("n1"));
                f.awaitCluster("the singleton serving again", LIMIT, () -> f.member("n1").path("healthy").asBoolean());
                ClusterFixture.finishWithNothingLost(writer, 20, LIMIT);
            } catch (AssertionError | Exception e) {
                f.markFailed();
                throw e;
            }
        }
    }

    @Test
    void fiveNodesFormWithThreeAsyncsAndSurviveTheLossOfThePrimary() throws Exception {
        try (ClusterFixture f = ClusterFixture.start(5, 41, Map.of())) {
            try {
                assertEquals(3, f.asyncs().size(), f.status().toString());
                AckedWriter writer = AckedWriter.start(f.cluster, f.cluster.appDatabase());
                writer.awaitMore(50, Duration.ofSeconds(30));
                String primary = f.primary();
                String sync = f.sync();
                f.cluster.kill(id(primary));
                f.awaitCluster("the sync taking over with a new sync and two asyncs", LIMIT,
                        () -> sync.equals(f.primary()) && !f.sync().isEmpty() && f.asyncs().size() == 2);
                ClusterFixture.finishWithNothingLost(writer, 20, LIMIT);
            } catch (AssertionError | Exception e) {
                f.markFailed();
                throw e;
            }
        }
    }
}
