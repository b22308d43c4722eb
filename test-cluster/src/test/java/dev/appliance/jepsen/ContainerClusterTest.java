package dev.appliance.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.appliance.harness.ContainerRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The packaged image under fire: three nodes in containers of the project's image (127.0.0.111-113, host network),
 * the Jepsen workloads through the leader route, and the primary's container killed again and again. Needs a
 * Docker engine and the image (bin/build-image); .ci/run provides both where an engine can be started.
 */
class ContainerClusterTest {
    @Test
    void killingThePrimaryContainerLosesNothing() throws Exception {
        Optional<String> why = ContainerRunner.unavailable(ContainerRunner.IMAGE);
        why.ifPresent(w -> System.out.println("SKIPPED: the container cluster: " + w));
        assumeTrue(why.isEmpty(), why.orElse(""));
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-containers-");
        JepsenRun.Outcome o = JepsenRun.run(new JepsenRun.Options(Duration.ofSeconds(40), "kill", 111, 17,
                Duration.ofSeconds(5), Duration.ofSeconds(6), Duration.ofSeconds(60), "containers"), dir);
        String summary = Files.readString(dir.resolve("summary.json"));
        System.out.println(summary);
        assertTrue(o.valid(), summary);
        assertEquals(0, o.lost(), summary);
        assertTrue(o.faults() >= 2, "the primary killed twice at least: " + summary);
    }
}
