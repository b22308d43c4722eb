package dev.appliance.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.appliance.harness.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The CI subset of bin/jepsen: one short run of every fault in turn, on real daemons (127.0.0.104-106). */
class JepsenSmokeTest {
    @Test
    void aShortMixedRunLosesNothingAndEveryCheckerPasses() throws Exception {
        String why = LocalCluster.whyPostgresCannotRun();
        if (why != null) {
            System.out.println("SKIPPED: the Jepsen smoke run: " + why);
        }
        assumeTrue(why == null, why);
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-jepsen-");
        JepsenRun.Outcome o = JepsenRun.run(new JepsenRun.Options(Duration.ofSeconds(40), "mix", 104, 11,
                Duration.ofSeconds(4), Duration.ofSeconds(7), Duration.ofSeconds(60), "process", 3), dir);
        String summary = Files.readString(dir.resolve("summary.json"));
        System.out.println(summary);
        assertTrue(o.valid(), summary);
        assertEquals(0, o.lost(), summary);
        assertTrue(o.faults() >= 3, "every fault once at least: " + summary);
        assertTrue(Files.size(dir.resolve("history.jsonl")) > 0);
    }
}
