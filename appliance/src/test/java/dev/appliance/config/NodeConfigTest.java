package dev.appliance.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
    private static final String MINIMAL = "node.id = n1\ndata.dir = /var/lib/appliance\nhost = 10.0.0.1\n"
            + "peers = n1=10.0.0.1:7000, n2=10.0.0.2:7000, n3=10.0.0.3:7000\n";

    @Test
    void aMinimalFileGetsEveryDefault(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("a.conf"), "# a node\n" + MINIMAL);
        NodeConfig c = NodeConfig.from(f, Map.of());
        assertEquals(MemberId.of("n1"), c.id());
        assertEquals(3, c.peers().size());
        assertEquals(Duration.ofMillis(500), c.engine().heartbeat());
        assertEquals(Duration.ofSeconds(3), c.engine().ttl());
        assertEquals(16L << 20, c.engine().maxSyncLagBytes());
        assertEquals(5432, c.postgresPort());
        assertTrue(c.postgresMemoryBytes() >= 256L << 20);
        assertEquals(List.of("10.0.0.1", "10.0.0.2", "10.0.0.3"), c.pgSettings(List.of()).peerHosts());
        assertEquals("10.0.0.1:7000", c.storeConfig().address());
    }

    @Test
    void environmentVariablesWinOverTheFile(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("a.conf"), MINIMAL + "ttl = 4s\n");
        NodeConfig c = NodeConfig.from(f, Map.of("APPLIANCE_TTL", "6s", "APPLIANCE_POSTGRES_SET_WORK_MEM", "64MB",
                "PATH", "/usr/bin"));
        assertEquals(Duration.ofSeconds(6), c.engine().ttl());
        assertEquals(Map.of("work_mem", "64MB"), c.postgresOverrides());
    }

    @Test
    void everyProblemIsListedWithWhereItCameFrom(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("bad.conf"), "node.id = N1!\nraft.prot = 7001\nheartbeat = 500\n"
                + "ttl = 3s\nttl = 4s\njust words\npeers = n2=10.0.0.2:7000\nhost = 10.0.0.1\n");
        NodeConfig.ConfigException e = assertThrows(NodeConfig.ConfigException.class,
                () -> NodeConfig.from(f, Map.of("APPLIANCE_SYNC_MAX_LAGG", "1MB", "APPLIANCE_JAVA_OPTS", "-Xmx1g")));
        String all = String.join("\n", e.problems());
        assertTrue(all.contains("bad.conf:2: unknown setting 'raft.prot'; did you mean 'raft.port'?"), all);
        assertTrue(all.contains("bad.conf:5: 'ttl' is set twice (first at " + f + ":4)"), all);
        assertTrue(all.contains("bad.conf:6: expected 'key = value'"), all);
        assertTrue(all.contains("bad.conf:1: node.id: invalid member id 'N1!'"), all);
        assertTrue(all.contains("data.dir is required"), all);
        assertTrue(all.contains("bad.conf:3: heartbeat: '500' is not a duration"), all);
        assertTrue(all.contains("APPLIANCE_SYNC_MAX_LAGG is not a setting; did you mean 'APPLIANCE_SYNC_MAX_LAG'?"), all);
        assertFalse(all.contains("APPLIANCE_JAVA_OPTS"), "the launcher's variable is no setting, and no problem: " + all);
        assertTrue(e.getMessage().startsWith("the configuration has " + e.problems().size() + " problems"));
    }

    @Test
    void contradictionsAreCaught(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("c.conf"), "node.id = n1\ndata.dir = /d\nhost = 10.0.0.1\n"
                + "peers = n2=10.0.0.2:7000\nheartbeat = 2s\nttl = 3s\napi.port = 7000\n");
        String all = String.join("\n", assertThrows(NodeConfig.ConfigException.class, () -> NodeConfig.from(f, Map.of()))
                .problems());
        assertTrue(all.contains("this node (n1) is not in the list"), all);
        assertTrue(all.contains("ttl (PT3S) must be at least twice the heartbeat"), all);
        assertTrue(all.contains("must all differ"), all);
    }

    @Test
    void aSingletonNeedsNoPeers(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("s.conf"), "node.id = solo\ndata.dir = /d\nhost = 127.0.0.5\nsingleton = true\n");
        NodeConfig c = NodeConfig.from(f, Map.of());
        assertEquals(Map.of(MemberId.of("solo"), "127.0.0.5:7000"), c.peers());
        assertTrue(c.engine().singleton());
    }

    @Test
    void theDocumentationListsEverySettingWithItsDefault() throws Exception {
        String doc = Files.readString(Path.of("../docs/configuration.md"));
        for (Setting s : Settings.ALL) {
            String row = "| `" + s.key() + "` | " + (s.required() ? "(required)" : s.defaultValue().isEmpty() ? "(empty)"
                    : "`" + s.defaultValue() + "`") + " |";
            assertTrue(doc.contains(row), "docs/configuration.md lacks the row " + row);
        }
    }
}
