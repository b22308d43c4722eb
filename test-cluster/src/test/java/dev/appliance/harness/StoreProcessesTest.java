package dev.appliance.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.store.Command;
import dev.appliance.consensus.store.StoreClient;
import dev.appliance.consensus.store.WriteResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store with each node in its own JVM: real SIGKILL, SIGSTOP and restarts from disk. */
class StoreProcessesTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static Command.Put put(String key, long expected, String value) {
        return new Command.Put(key, expected, value, List.of(), "test", "process test");
    }

    @Test
    void sigkillOfTheLeaderElectsANewOneAndLosesNothing() throws Exception {
        try (StoreProcesses c = StoreProcesses.start("kill", dir, 21, 3, Map.of());
                StoreClient client = c.client()) {
            MemberId old = c.awaitLeader(client, WAIT);
            Map<String, Long> written = new TreeMap<>();
            for (int i = 0; i < 20; i++) {
                WriteResult r = client.put(put("doc/" + i, 0, "value " + i));
                assertTrue(r.ok(), r.toString());
                written.put("doc/" + i, r.version());
            }
            c.awaitSessions(client, c.ids(), WAIT);
            c.node(old).kill();
            MemberId next = c.awaitLeader(client, WAIT);
            assertNotEquals(old, next);
            for (Map.Entry<String, Long> e : written.entrySet()) {
                Optional<Versioned<String>> v = client.read(e.getKey());
                assertEquals(e.getValue(), v.orElseThrow().version(), e.getKey());
            }
            List<MemberId> survivors = c.ids().stream().filter(id -> !id.equals(old)).toList();
            c.awaitSessions(client, survivors, WAIT);
            assertTrue(client.put(put("after", 0, "written after the kill")).ok());
            c.restart(old);
            c.awaitSessions(client, c.ids(), WAIT);
        }
    }

    @Test
    void everyNodeKilledAndRestartedFromDiskHoldsTheSameState() throws Exception {
        Map<String, Long> written = new TreeMap<>();
        try (StoreProcesses c = StoreProcesses.start("restart", dir, 24, 3, Map.of())) {
            try (StoreClient client = c.client()) {
                c.awaitLeader(client, WAIT);
                for (int i = 0; i < 30; i++) {
                    written.put("members/n" + i, client.put(put("members/n" + i, 0, "m" + i)).version());
                }
            }
            for (MemberId id : c.ids()) {
                c.node(id).kill();
            }
            for (MemberId id : c.ids()) {
                c.restart(id);
            }
            try (StoreClient client = c.client()) {
                c.awaitLeader(client, WAIT);
                for (Map.Entry<String, Long> e : written.entrySet()) {
                    assertEquals(e.getValue(), client.read(e.getKey()).orElseThrow().version(), e.getKey());
                }
            }
        }
    }

    @Test
    void aPauseLongerThanTheCloseThresholdMakesTheNodeExitNonZero() throws Exception {
        try (StoreProcesses c = StoreProcesses.start("pause", dir, 27, 3, Map.of("closeThresholdMs", "3000"));
                StoreClient client = c.client()) {
            MemberId leader = c.awaitLeader(client, WAIT);
            MemberId victim = c.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            NodeProcess node = c.node(victim);
            node.pause();
            Thread.sleep(6000);
            node.resume();
            int code = node.awaitExit(WAIT);
            assertEquals(StoreNode.EXIT_FATAL, code, "the node exits non-zero so its supervisor restarts it");
            assertTrue(node.fatalLines().stream().anyMatch(l -> l.contains("must restart")), node.fatalLines().toString());
            assertTrue(client.put(put("still", 0, "the others go on")).ok());
        }
    }
}
