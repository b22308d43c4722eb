package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgConfigFilesTest {
    private static final PgNodeSettings SETTINGS = new PgNodeSettings(MemberId.of("n1"), "10.0.0.1", 5432, "postgres",
            8L << 30, 4, Map.of("work_mem", "64MB"), 1024, List.of("10.0.0.2", "10.0.0.3"), "10.0.0.0/16");

    @Test
    void aSocketDirectoryTooLongForASocketMovesUnderTmp() {
        PgLayout near = new PgLayout(java.nio.file.Path.of("/srv/appliance/n1"));
        assertEquals(java.nio.file.Path.of("/srv/appliance/n1/pg/run"), near.socketDir());
        PgLayout deep = new PgLayout(java.nio.file.Path.of("/work/jepsen-batch/new/2026-11-22T17-22-49.602242482Z-partition-"
                + "majority-1/cluster/n1/data"));
        String dir = deep.socketDir().toString();
        assertTrue(dir.matches("/tmp/appliance-pg-[0-9a-f]{12}"), dir);
        assertEquals(dir, new PgLayout(java.nio.file.Path.of(deep.nodeDir().toString())).socketDir().toString(), "stable");
        assertTrue((dir + "/.s.PGSQL.65535.lock").length() <= 107);
    }

    @Test
    void theSyncIsNamedExactlyAndAllRequiredSyncsMustFlush() {
        assertEquals("", PgConfigFiles.syncNames(Set.of()));
        assertEquals("FIRST 1 (\"n2\")", PgConfigFiles.syncNames(Set.of(MemberId.of("n2"))));
        assertEquals("FIRST 2 (\"n2\", \"n3\")", PgConfigFiles.syncNames(Set.of(MemberId.of("n3"), MemberId.of("n2"))));
    }

    @Test
    void filesAreWrittenOnlyWhenTheirContentChanges(@TempDir Path dir) throws Exception {
        PgLayout layout = new PgLayout(dir);
        PgConfigFiles.RoleSettings primary = new PgConfigFiles.RoleSettings.AsPrimary(Set.of(MemberId.of("n2")), false);
        assertTrue(PgConfigFiles.write(layout, SETTINGS, primary, PgConfigFiles.ClientAccess.CLOSED));
        assertFalse(PgConfigFiles.write(layout, SETTINGS, primary, PgConfigFiles.ClientAccess.CLOSED));
        assertTrue(PgConfigFiles.write(layout, SETTINGS, primary, PgConfigFiles.ClientAccess.OPEN));

        String role = Files.readString(layout.confD().resolve("90-role.conf"));
        assertTrue(role.contains("synchronous_standby_names = 'FIRST 1 (\"n2\")'"), role);
        String tuning = Files.readString(layout.confD().resolve("10-tuning.conf"));
        assertTrue(tuning.contains("shared_buffers = 2048MB"), tuning);
        List<String> conf = Files.list(layout.confD()).map(p -> p.getFileName().toString()).sorted().toList();
        assertEquals("99-overrides.conf", conf.get(conf.size() - 1), "the operator's overrides are read last");
        assertTrue(Files.readString(layout.confD().resolve("99-overrides.conf")).contains("work_mem = 64MB"));
        assertTrue(Files.readString(layout.configFile()).contains("include_dir = '" + layout.confD() + "'"));
    }

    @Test
    void aStandbyStreamsFromItsUpstreamUnderItsOwnNameAndSlot(@TempDir Path dir) throws Exception {
        PgLayout layout = new PgLayout(dir);
        PgConfigFiles.write(layout, SETTINGS, new PgConfigFiles.RoleSettings.AsStandby("10.0.0.2", 5433, MemberId.of("n2")),
                PgConfigFiles.ClientAccess.CLOSED);
        String role = Files.readString(layout.confD().resolve("90-role.conf"));
        assertTrue(role.contains("host=10.0.0.2 port=5433 user=appliance_replication passfile=" + layout.passfile()
                + " application_name=n1 connect_timeout=2"), role);
        assertTrue(role.contains("tcp_user_timeout=5000"), "a silent upstream ends the stream, not TCP's back-off: " + role);
        assertTrue(role.contains("primary_slot_name = 'appliance_n1'"), role);
        assertFalse(role.contains("password"), "no secret in the configuration");
        PgConfigFiles.write(layout, SETTINGS, new PgConfigFiles.RoleSettings.AsStandby(null, 0, null),
                PgConfigFiles.ClientAccess.CLOSED);
        assertTrue(Files.readString(layout.confD().resolve("90-role.conf")).contains("primary_conninfo = ''"));
    }

    @Test
    void clientsAreRejectedWhileClosedAndPeersMayAlwaysReplicate(@TempDir Path dir) throws Exception {
        PgLayout layout = new PgLayout(dir);
        PgConfigFiles.RoleSettings primary = new PgConfigFiles.RoleSettings.AsPrimary(Set.of(), false);
        PgConfigFiles.write(layout, SETTINGS, primary, PgConfigFiles.ClientAccess.CLOSED);
        String closed = Files.readString(layout.hbaFile());
        assertTrue(closed.contains("reject"), closed);
        assertFalse(closed.contains("10.0.0.0/16"), closed);
        for (String peer : List.of("10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32")) {
            assertTrue(closed.matches("(?s).*host +replication +appliance_replication +" + peer.replace(".", "\\.")
                    + " +scram-sha-256.*"), closed);
        }
        PgConfigFiles.write(layout, SETTINGS, primary, PgConfigFiles.ClientAccess.OPEN);
        String open = Files.readString(layout.hbaFile());
        assertTrue(open.matches("(?s).*host +all +all +10\\.0\\.0\\.0/16 +scram-sha-256.*"), open);
        assertFalse(open.contains("reject"), open);
    }

    @Test
    void loopbackPeersAreAllowedAsTheLoopbackNetwork() {
        assertEquals("127.0.0.0/8", PgConfigFiles.hbaAddress("127.0.0.12"));
        assertEquals("10.1.2.3/32", PgConfigFiles.hbaAddress("10.1.2.3"));
        assertEquals("fd00::1/128", PgConfigFiles.hbaAddress("fd00::1"));
        assertEquals("db2.internal", PgConfigFiles.hbaAddress("db2.internal"));
    }

    @Test
    void badOverridesAreRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PgNodeSettings(MemberId.of("n1"),
                "10.0.0.1", 5432, null, 1L << 30, 1, Map.of("work_mem", "1MB\nfsync = off"), 64, List.of(), null));
        assertTrue(e.getMessage().contains("spans lines"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new PgNodeSettings(MemberId.of("n1"), "10.0.0.1", 5432, "root",
                1L << 30, 1, Map.of(), 64, List.of(), null));
    }
}
