package dev.appliance.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.appliance.api.ApiClient;
import dev.appliance.config.NodeConfig;
import dev.appliance.consensus.state.Role;
import dev.appliance.harness.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The embedding API's example (docs/embedding.md) run for real: a one-node cluster in this JVM on 127.0.0.37. */
class EmbeddedNodeTest {
    @Test
    void anEmbeddedNodeBecomesPrimaryReportsItAndStopsCleanly() throws Exception {
        String why = LocalCluster.whyPostgresCannotRun();
        if (why != null) {
            System.out.println("SKIPPED: the embedded node: " + why);
        }
        assumeTrue(why == null, why);
        Path root = Files.createTempDirectory(Path.of("/tmp"), "appliance-embed-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));    // postgres reaches below
        Path dataDir = root.resolve("n1");

        // -- the example in docs/embedding.md, as it stands there --
        BlockingQueue<EmbeddedNode.RoleChange> changes = new LinkedBlockingQueue<>();
        EmbeddedNode node = EmbeddedNode.builder()
                .nodeId("n1")
                .host("127.0.0.37")
                .dataDir(dataDir)
                .singleton()
                .set("postgres.memory", "256MB")
                .onRoleChange(changes::add)
                .start();
        EmbeddedNode.RoleChange change = changes.poll(120, TimeUnit.SECONDS);
        while (change != null && !(change.to() == Role.PRIMARY && change.serving())) {
            change = changes.poll(120, TimeUnit.SECONDS);
        }
        EmbeddedNode.Status status = node.status();
        node.close();
        // -- end of the example --

        assertTrue(change != null && change.to() == Role.PRIMARY && change.serving() && !change.failed(),
                "the listener heard: " + change);
        assertEquals(Role.PRIMARY, status.role(), status.toString());
        assertTrue(status.serving(), status.toString());
        assertEquals("n1", status.primary());
        assertTrue(status.postgresRunning() && status.generation() >= 1 && !status.stopped(), status.toString());
        assertTrue(node.status().stopped());
        assertThrows(java.io.IOException.class, () -> new java.net.Socket("127.0.0.37", 5432).close(),
                "postgres stopped with the node");

        // The data directory's lock went with it: the node starts again on the same data, as the same primary,
        // and its API answers the probes.
        try (EmbeddedNode again = EmbeddedNode.builder().nodeId("n1").host("127.0.0.37").dataDir(dataDir).singleton()
                .set("postgres.memory", "256MB").start()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (again.status().role() != Role.PRIMARY || !again.status().serving()) {
                assertTrue(System.nanoTime() < deadline, "not primary again: " + again.status());
                Thread.sleep(100);
            }
            assertTrue(again.status().generation() >= status.generation(), again.status().toString());
            ApiClient probes = new ApiClient(List.of("http://127.0.0.37:8008"), "");
            assertEquals(200, probes.get("/liveness").status());
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (probes.get("/primary").status() != 200) {
                assertTrue(System.nanoTime() < deadline, "/primary: " + probes.get("/primary").body());
                Thread.sleep(100);
            }
        }
    }

    @Test
    void unusableSettingsAreRefusedWithEveryProblemAndStartNothing() {
        NodeConfig.ConfigException e = assertThrows(NodeConfig.ConfigException.class, () -> EmbeddedNode.builder()
                .nodeId("N 1").host("127.0.0.37").set("raft.prot", "7001").start());
        String all = String.join("\n", e.problems());
        assertTrue(all.contains("invalid member id"), all);
        assertTrue(all.contains("data.dir is required"), all);
        assertTrue(all.contains("APPLIANCE_RAFT_PROT is not a setting"), all);
    }
}
