package dev.appliance.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.harness.ContainerRunner;
import dev.appliance.harness.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The packaged image under fire: three nodes in containers of the project's image (127.0.0.111-113, host network),
 * the Jepsen workloads through the leader route, and the primary's container killed again and again. Needs a
 * Docker engine and the image (bin/build-image); .ci/run provides both where an engine can be started. And SIGTERM
 * to the primary's container (127.0.0.114-116): tini passes it on, and the daemon hands over before it exits.
 */
class ContainerClusterTest {
    @Test
    void killingThePrimaryContainerLosesNothing() throws Exception {
        skipWithoutContainers("the container cluster");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-containers-");
        JepsenRun.Outcome o = JepsenRun.run(new JepsenRun.Options(Duration.ofSeconds(40), "kill", 111, 17,
                Duration.ofSeconds(5), Duration.ofSeconds(6), Duration.ofSeconds(60), "containers", 3), dir);
        String summary = Files.readString(dir.resolve("summary.json"));
        System.out.println(summary);
        assertTrue(o.valid(), summary);
        assertEquals(0, o.lost(), summary);
        assertTrue(o.faults() >= 2, "the primary killed twice at least: " + summary);
    }

    @Test
    void sigtermToThePrimarysContainerHandsOverFirst() throws Exception {
        skipWithoutContainers("the container hand-over");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-containers-");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        LocalCluster cluster = LocalCluster.in(dir, 3, 114, java.util.Map.of());
        cluster.runWith(new ContainerRunner(ContainerRunner.IMAGE));
        try {
            cluster.startAll();
            JsonNode healthy = cluster.awaitHealthy(Duration.ofMinutes(3), line -> System.out.println("  " + line));
            String primary = healthy.path("primary").asText();
            String sync = healthy.path("sync").asText();
            // docker's SIGTERM goes to tini (PID 1), which passes it to the daemon: a primary hands over, then exits.
            int exit = cluster.terminate(MemberId.of(primary), Duration.ofSeconds(120));
            assertEquals(143, exit, () -> "the daemon's exit after SIGTERM; its log ends:\n"
                    + cluster.logTail(MemberId.of(primary), 60));
            assertEquals(sync, cluster.status().path("primary").asText(), "the sync took over before the primary left");
            assertTrue(cluster.logTail(MemberId.of(primary), 400).contains("handing over to " + sync));
        } finally {
            cluster.close();
        }
    }

    private static void skipWithoutContainers(String what) {
        Optional<String> why = ContainerRunner.unavailable(ContainerRunner.IMAGE);
        why.ifPresent(w -> System.out.println("SKIPPED: " + what + ": " + w));
        assumeTrue(why.isEmpty(), why.orElse(""));
    }
}
