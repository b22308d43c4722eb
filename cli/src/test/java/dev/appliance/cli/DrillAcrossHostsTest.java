package dev.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.harness.Commands;
import dev.appliance.harness.LocalCluster;
import dev.appliance.harness.NamespaceNetwork;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The partition drill where it is meant to run: each member a host of its own (a network namespace with its
 * own address and firewall), the operator's CLI outside them all. The drill cuts the primary off from the other
 * members for a while; the sync takes over, nothing acknowledged is lost, and the old primary rejoins.
 */
class DrillAcrossHostsTest {
    @Test
    void aPartitionDrillCutsThePrimaryOffAndLosesNothing() throws Exception {
        String why = LocalCluster.whyPostgresCannotRun();
        if (why == null) {
            why = NamespaceNetwork.unavailable().orElse(null);
        }
        if (why == null && !Commands.succeeds("iptables", "-w", "-L", "-n")) {
            why = "iptables is not installed or does not work here (Debian: apt-get install iptables)";
        }
        if (why != null) {
            System.out.println("SKIPPED: the partition drill across hosts: " + why);
        }
        assumeTrue(why == null, why);
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-drill-it-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (NamespaceNetwork net = NamespaceNetwork.create(3);
                LocalCluster cluster = LocalCluster.in(dir, 3, NamespaceNetwork.PREFIX, 1, Map.of("drills", "true"))) {
            cluster.runWith(NamespaceNetwork.runner());
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofMinutes(3), line -> System.out.println("  " + line));
            cluster.leaderRoute();
            Files.writeString(dir.resolve("appliance.env"), "APPLIANCE_TOKEN=" + cluster.token().orElseThrow() + "\n");
            String primary = cluster.status().path("primary").asText();

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "drill", "partition-primary",
                    "--before", "2", "--after", "3", "--json", "--dir=" + dir);
            assertEquals(0, code, () -> "stdout: " + out + "\nstderr: " + err);
            JsonNode drill = ApiClient.JSON.readTree(out.toString());
            System.out.println("partition drill across hosts: " + drill);
            assertEquals(0, drill.path("lost").asLong(), drill.toString());
            assertTrue(drill.path("acknowledged").asLong() > 0 && drill.path("healthy").asBoolean(), drill.toString());
            assertEquals(primary, drill.path("oldPrimary").asText());
            assertNotEquals(primary, drill.path("newPrimary").asText(), "the sync took over from the cut-off primary");
        }
    }
}
