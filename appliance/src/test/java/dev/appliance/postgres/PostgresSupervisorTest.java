package dev.appliance.postgres;

import static dev.appliance.postgres.PgTestNodes.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The supervisor against real PostgreSQL: each test builds its own nodes on 127.0.0.x. */
class PostgresSupervisorTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aPrimaryWithTwoStandbysStreamsAndItsCommitsWaitForTheSync() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(60, 3)) {
            MemberId sync = nodes.id(1);
            nodes.primaryWithStandbys(Set.of(sync), 1, 2);
            PgStatus status = nodes.node(0).status();
            PgObservation primary = status.observation();
            assertEquals(PgState.PRIMARY, primary.state());
            assertTrue(primary.writable());
            assertEquals(Set.of(sync), primary.syncRequired(), "the sync is read back from postgres");
            assertEquals(Set.of(nodes.id(1), nodes.id(2)), primary.replicas().keySet());
            assertEquals("sync", row(status, nodes.id(1)).syncState());
            assertEquals("async", row(status, nodes.id(2)).syncState());
            PgObservation standby = nodes.node(2).observe();
            assertEquals(PgState.STANDBY, standby.state());
            assertTrue(standby.streaming());
            assertEquals(nodes.id(0), standby.upstream());
            assertEquals(1, standby.timeline());

            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t (v int)");
                st.execute("INSERT INTO t VALUES (1)");
            }
            nodes.node(1).stop();
            try (Connection c = nodes.connect(0)) {
                CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("INSERT INTO t VALUES (2)");
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                await("the commit waiting for the sync", () -> waitingForSync(nodes) == 1, WAIT);
                assertFalse(commit.isDone(), "a commit is not acknowledged while the sync is down");
                // A4: a client's cancel must not end that wait (postgres would acknowledge the commit).
                GuardedCancel guarded = new GuardedCancel(nodes.credentials);
                int waiting = (int) count(nodes, 0, "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
                assertEquals(GuardedCancel.Outcome.DROPPED_WAITING_FOR_SYNC, guarded.cancel(nodes.host(0), nodes.port(0), waiting));
                Thread.sleep(300);
                assertFalse(commit.isDone(), "a dropped cancel leaves the commit waiting for the sync");
                try (Connection other = nodes.connect(0); Statement st = other.createStatement()) {
                    CompletableFuture<SQLException> sleeping = CompletableFuture.supplyAsync(() -> {
                        try {
                            st.execute("SELECT pg_sleep(30)");
                            return null;
                        } catch (SQLException e) {
                            return e;
                        }
                    });
                    await("the sleeper running", () -> count(nodes, 0,
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'") == 1, WAIT);
                    int sleeper = (int) count(nodes, 0, "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep'");
                    assertEquals(GuardedCancel.Outcome.CANCELLED, guarded.cancel(nodes.host(0), nodes.port(0), sleeper));
                    assertEquals("57014", sleeping.get(10, TimeUnit.SECONDS).getSQLState(), "any other query is cancelled");
                }
                nodes.node(1).startAsStandby(nodes.upstream(0));
                commit.get(30, TimeUnit.SECONDS);
            }
            await("row 2 on the async standby", () -> count(nodes, 2, "SELECT count(*) FROM t") == 2, WAIT);
            assertEquals(2, count(nodes, 1, "SELECT count(*) FROM t"), "the acknowledged commit is on the sync");

            assertFalse(nodes.node(0).reconfigurePrimary(Set.of(nodes.id(2)), false), "changing the sync needs no restart");
            await("the new sync in effect", () -> "sync".equals(row(statusOf(nodes, 0), nodes.id(2)).syncState()), WAIT);
            assertEquals(Set.of(nodes.id(2)), nodes.node(0).observe().syncRequired());

            // Slots the standbys stream from are in use: dropping them is refused, and that is no failure.
            nodes.node(0).ensureSlots(Set.of());
            assertEquals(2, count(nodes, 0, "SELECT count(*) FROM pg_replication_slots WHERE active"));
            nodes.node(2).stop();
            await("the stopped standby's slot free", () -> count(nodes, 0,
                    "SELECT count(*) FROM pg_replication_slots WHERE active") == 1, WAIT);
            nodes.node(0).ensureSlots(Set.of(nodes.id(1)));
            assertEquals(1, count(nodes, 0, "SELECT count(*) FROM pg_replication_slots"), "the free slot is dropped");
        }
    }

    @Test
    void aPromotedStandbyLeadsAndTheOtherStandbyFollowsTheNewTimeline() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(63, 3)) {
            nodes.primaryWithStandbys(Set.of(nodes.id(1)), 1, 2);
            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t (v int)");
                st.execute("INSERT INTO t SELECT generate_series(1, 1000)");
            }
            // A switchover: the primary stops cleanly, and the target must hold everything it wrote.
            nodes.node(0).stop();
            WalPosition end = nodes.node(0).observe().cleanShutdownAt();
            assertTrue(end != null && end.compareTo(WalPosition.ZERO) > 0, "a clean stop records where the WAL ends");
            await("the sync holding the primary's whole WAL", () -> nodes.node(1).observe().flush().equals(end), WAIT);

            nodes.node(1).ensureSlots(Set.of(nodes.id(0), nodes.id(2)));
            nodes.node(1).promote(Set.of(nodes.id(2)), false);
            assertTrue(nodes.node(2).observe().timeline() == 1);
            assertFalse(nodes.node(2).reconfigureStandby(nodes.upstream(1)), "a new upstream needs no restart");
            await("the other standby streaming from the new primary",
                    () -> nodes.node(1).observe().replicas().containsKey(nodes.id(2)), WAIT);
            PgObservation leader = nodes.node(1).observe();
            assertEquals(PgState.PRIMARY, leader.state());
            assertEquals(2, leader.timeline());
            assertEquals(Set.of(nodes.id(2)), leader.syncRequired());
            assertTrue(leader.servingSince().compareTo(end) >= 0);
            try (Connection c = nodes.connect(1); Statement st = c.createStatement()) {
                st.execute("INSERT INTO t VALUES (1001)");
            }
            assertEquals(1001, count(nodes, 2, "SELECT count(*) FROM t"), "the sync standby holds the new commit");
            PgObservation follower = nodes.node(2).observe();
            assertEquals(2, follower.timeline());
            assertEquals(nodes.id(1), follower.upstream());
            assertTrue(follower.streaming());

            // The old primary stopped cleanly with nothing the new one lacks: it follows without a rewind.
            nodes.node(0).startAsStandby(nodes.upstream(1));
            await("the old primary streaming from the new one",
                    () -> nodes.node(1).observe().replicas().containsKey(nodes.id(0)), WAIT);
            assertEquals(1001, count(nodes, 0, "SELECT count(*) FROM t"));
            assertFalse(nodes.node(0).observe().diverged());
        }
    }

    @Test
    void aDeposedPrimaryIsRewoundAndItsUnacknowledgedCommitIsNamedInTheForensicsReport() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(66, 3)) {
            long xid = deposeWithAnUnacknowledgedCommit(nodes, false);

            PgRebuilds rebuilds = new PgRebuilds(nodes.node(0));
            WalPosition fork = rebuilds.rewind(nodes.upstream(1), 2).orElseThrow();
            assertTrue(fork.compareTo(WalPosition.ZERO) > 0);
            Path forensics = nodes.nodeDir(0).resolve("forensics").resolve("2");
            String report = Files.readString(forensics.resolve("report.txt"), StandardCharsets.UTF_8);
            System.out.println("forensics report:\n" + report);
            assertTrue(report.contains("xid " + xid + ": COMMIT"), "the discarded transaction is named:\n" + report);
            assertTrue(Files.list(forensics.resolve("wal")).findAny().isPresent(), "the discarded WAL is archived");
            assertTrue(Files.readString(forensics.resolve("waldump.txt")).contains(String.format("tx: %10d", xid)),
                    "the decoded WAL holds the transaction");
            PgObservation rewound = nodes.node(0).observe();
            assertEquals(2, rewound.rebuiltForGeneration());
            assertFalse(rewound.rewindFailed());

            nodes.node(0).startAsStandby(nodes.upstream(1));
            await("the rewound node streaming from the new primary",
                    () -> nodes.node(1).observe().replicas().containsKey(nodes.id(0)), WAIT);
            assertEquals(0, count(nodes, 0, "SELECT count(*) FROM lost"), "the unacknowledged row is gone");
            assertEquals(2, count(nodes, 0, "SELECT count(*) FROM acked"), "the new primary's commits arrive");
            assertEquals(2, nodes.node(0).observe().timeline());
        }
    }

    @Test
    void aFailedRewindIsRecordedAndTheCloneThatFollowsKeepsTheWholeOldDataDirectory() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(75, 3)) {
            long xid = deposeWithAnUnacknowledgedCommit(nodes, true);
            // The WAL back to the last shared checkpoint is gone (as if recycled): pg_rewind cannot work.
            String checkpointSegment;
            try (Connection c = nodes.connect(1); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT pg_walfile_name(redo_lsn) FROM pg_control_checkpoint()")) {
                rs.next();
                checkpointSegment = rs.getString(1);
            }
            Path walDir = nodes.nodeDir(0).resolve("pgdata").resolve("pg_wal");
            try (var segments = Files.list(walDir)) {
                for (Path seg : segments.filter(p -> p.getFileName().toString().matches("00000001[0-9A-F]{16}"))
                        .filter(p -> p.getFileName().toString().compareTo("00000001" + checkpointSegment.substring(8)) < 0)
                        .toList()) {
                    Files.delete(seg);
                }
            }
            PgRebuilds rebuilds = new PgRebuilds(nodes.node(0));
            java.io.IOException failed = assertThrows(java.io.IOException.class, () -> rebuilds.rewind(nodes.upstream(1), 2));
            assertTrue(failed.getMessage().contains("re-cloned") && failed.getMessage().contains("forensics"),
                    failed.getMessage());
            assertTrue(nodes.node(0).observe().rewindFailed(), "the failure is recorded for the engine");
            Path forensics = nodes.nodeDir(0).resolve("forensics").resolve("2");
            assertTrue(Files.readString(forensics.resolve("report.txt")).contains("xid " + xid + ": COMMIT"),
                    "the report is written before the rewind is tried");

            rebuilds.clone(nodes.upstream(1), 2, 0, (done, total) -> { });
            Path kept = nodes.nodeDir(0).resolve("pgdata.replaced");
            assertTrue(Files.exists(kept.resolve("KEEP-divergent-data")), "the old data directory is kept, marked");
            String report = Files.readString(forensics.resolve("report.txt"));
            assertTrue(report.contains("re-cloned") && report.contains(kept.toString()), report);
            PgObservation cloned = nodes.node(0).observe();
            assertFalse(cloned.rewindFailed());
            assertEquals(2, cloned.rebuiltForGeneration());

            // A later clone never deletes a directory marked to be kept.
            rebuilds.clone(nodes.upstream(1), 3, 0, (done, total) -> { });
            assertTrue(Files.exists(kept.resolve("KEEP-divergent-data")));
            assertTrue(Files.isDirectory(nodes.nodeDir(0).resolve("pgdata.replaced-3")));
            nodes.node(0).startAsStandby(nodes.upstream(1));
            assertEquals(0, count(nodes, 0, "SELECT count(*) FROM lost"));
        }
    }

    @Test
    void aCloneReplacesAnExistingDataDirectoryOnlyOnceCompleteAndAKilledCloneLeavesItIntact() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(69, 2)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE big AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 40000) g");
            }
            // Node 1 holds a database of its own (another initdb): the data directory a clone must not lose.
            nodes.node(1).initialize();
            String oldSystem = systemId(nodes, 1);
            String primarySystem;
            try (Connection c = nodes.connect(0); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT system_identifier::text FROM pg_control_system()")) {
                rs.next();
                primarySystem = rs.getString(1);
            }
            assertNotEquals(oldSystem, primarySystem);

            PgRebuilds rebuilds = new PgRebuilds(nodes.node(1));
            java.util.concurrent.atomic.AtomicLong seen = new java.util.concurrent.atomic.AtomicLong();
            CompletableFuture<Void> slowClone = CompletableFuture.runAsync(() -> {
                try {
                    rebuilds.clone(nodes.upstream(0), 5, 64, (done, total) -> seen.set(done));
                } catch (java.io.IOException expected) {
                    throw new java.io.UncheckedIOException(expected);
                }
            });
            await("the clone under way", () -> seen.get() > 0, WAIT);
            assertTrue(Files.isDirectory(nodes.nodeDir(1).resolve("pgdata.clone")));
            assertEquals(oldSystem, systemId(nodes, 1), "the old data directory is untouched while the clone runs");
            killBaseBackup();
            java.util.concurrent.ExecutionException failed = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> slowClone.get(30, TimeUnit.SECONDS));
            assertTrue(failed.getCause().getMessage().contains("untouched"), failed.getCause().getMessage());
            assertEquals(oldSystem, systemId(nodes, 1), "a clone killed midway leaves the old data directory intact");
            assertFalse(Files.exists(nodes.nodeDir(1).resolve("pgdata.clone")));
            assertEquals(PgState.STOPPED, nodes.node(1).observe().state());

            rebuilds.clone(nodes.upstream(0), 6, 0, (done, total) -> { });
            assertEquals(primarySystem, systemId(nodes, 1));
            assertEquals(oldSystem, nodes.node(1).wal.controlData(nodes.nodeDir(1).resolve("pgdata.replaced")).systemId(),
                    "the replaced data directory is kept aside");
            assertEquals(6, nodes.node(1).observe().rebuiltForGeneration());
            nodes.node(0).ensureSlots(Set.of(nodes.id(1)));
            nodes.node(1).startAsStandby(nodes.upstream(0));
            assertEquals(40000, count(nodes, 1, "SELECT count(*) FROM big"));
        }
    }

    @Test
    void clientsAreShutOutUntilOpenedAndAFenceStopsWrites() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(71, 1)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            String password = PgCredentials.randomSecret();
            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("SET log_min_error_statement = panic");
                st.execute("CREATE ROLE app LOGIN PASSWORD '" + password + "'");
                st.execute("CREATE TABLE t (v int)");
                st.execute("GRANT ALL ON t TO app");
            }
            assertThrows(SQLException.class, () -> nodes.connectAs(0, "app", password).close(), "closed to clients");
            nodes.node(0).setClientAccess(true);
            Connection app = nodes.connectAs(0, "app", password);
            try (Statement st = app.createStatement()) {
                st.execute("INSERT INTO t VALUES (1)");
            }
            nodes.node(0).fence();
            assertFalse(nodes.node(0).observe().writable());
            assertThrows(SQLException.class, () -> {
                try (Statement st = app.createStatement()) {
                    st.execute("INSERT INTO t VALUES (2)");
                }
            }, "a fence terminates client sessions");
            assertThrows(SQLException.class, () -> nodes.connectAs(0, "app", password).close(), "fenced: closed to clients");
            nodes.node(0).unfence();
            nodes.node(0).setClientAccess(true);
            try (Connection again = nodes.connectAs(0, "app", password); Statement st = again.createStatement()) {
                st.execute("INSERT INTO t VALUES (3)");
            }
            assertTrue(nodes.node(0).observe().writable());
            assertEquals(2, count(nodes, 0, "SELECT count(*) FROM t"));
        }
    }

    @Test
    void aCrashIsSeenAtTheNextObservationAndIsNotRestarted() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(72, 1)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            long pid = nodes.node(0).pid().orElseThrow();
            assertEquals(PgState.PRIMARY, nodes.node(0).observe().state());
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            await("the postmaster gone", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true), WAIT);
            await("the crash observed", () -> nodes.node(0).observe().state() == PgState.STOPPED, Duration.ofSeconds(5));
            assertFalse(nodes.node(0).running(), "the supervisor does not restart postgres on its own");
            assertEquals(null, nodes.node(0).observe().cleanShutdownAt(), "a crash records no clean end of WAL");
            nodes.node(0).startAsPrimary(Set.of(), false);
            assertEquals(PgState.PRIMARY, nodes.node(0).observe().state());
        }
    }

    /**
     * A container killed and started again: postgres's lock files survive on the volume and name a pid that, in the
     * new PID namespace, belongs to some other live process (a thread of the daemon's JVM, in the CI run that found
     * it). Postgres alone refuses to start for as long as that process lives.
     */
    @Test
    void lockFilesNamingAnotherLiveProcessDoNotKeepPostgresDown() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(79, 1)) {
            PostgresSupervisor pg = runningPrimary(nodes);
            PgLayout layout = pg.layout();
            Path pidFile = layout.pgdata().resolve("postmaster.pid");
            Path socketLock = layout.socketDir().resolve(".s.PGSQL." + nodes.port(0) + ".lock");
            String pidLines = Files.readString(pidFile);
            String socketLines = Files.readString(socketLock);
            List<ProcessHandle> tree = postgresTree(pg);
            tree.forEach(ProcessHandle::destroyForcibly);
            await("the killed postgres gone", () -> tree.stream().noneMatch(ProcessHandle::isAlive), WAIT);
            // postgres's own user: a process of another user reads as gone to postgres (kill answers EPERM).
            Process bystander = new ProcessBuilder(ProcessRunner.asUser(pg.osUser, true, List.of("sleep", "120"))).start();
            try {
                String pid = Long.toString(bystander.pid());
                Files.writeString(pidFile, pid + pidLines.substring(pidLines.indexOf('\n')));
                Files.writeString(socketLock, pid + socketLines.substring(socketLines.indexOf('\n')));
                pg.startAsPrimary(Set.of(), false);
                assertEquals(PgState.PRIMARY, pg.observe().state());
                assertTrue(bystander.isAlive(), "the process the stale files named is left alone");
                assertNotEquals(pid, Files.readAllLines(pidFile).get(0), "postgres wrote its own lock file");
            } finally {
                bystander.destroyForcibly();
            }
        }
    }

    @Test
    void aHungPostgresReadsAsDownAndIsKilledWithItsBackendsWhenStartedAgain() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(76, 1)) {
            PostgresSupervisor pg = runningPrimary(nodes);
            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
            }
            assertEquals(PgState.PRIMARY, pg.observe().state(), "the readings' connection is open");
            List<ProcessHandle> tree = postgresTree(pg);
            assertTrue(tree.size() > 3, "a postmaster with its background processes: " + tree.size());
            try {
                signal("STOP", tree);
                long stopped = System.nanoTime();
                assertEquals(PgState.STOPPED, pg.observe().state(), "a postgres that answers nothing does not serve");
                System.out.printf("a hung postgres read as stopped after %d ms%n", (System.nanoTime() - stopped) / 1_000_000);
                assertTrue(pg.running(), "its process is still there");
                pg.startAsPrimary(Set.of(), false);
                long waitedMs = (System.nanoTime() - stopped) / 1_000_000;
                assertTrue(waitedMs >= PostgresSupervisor.DEFAULT_HANG_TIMEOUT.toMillis(),
                        "killed only after postgres.hang.timeout, not after " + waitedMs + " ms");
                for (ProcessHandle p : tree) {
                    assertFalse(p.isAlive(), "every process of the hung postgres is gone: " + p.pid());
                }
                assertEquals(PgState.PRIMARY, pg.observe().state());
                assertEquals(1, count(nodes, 0, "SELECT count(*) FROM t"), "crash recovery kept the commit");
            } finally {
                signal("CONT", tree);
            }
        }
    }

    @Test
    void aPostgresThatAnswersAgainIsNotKilled() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(78, 1)) {
            PostgresSupervisor pg = runningPrimary(nodes);
            long pid = pg.pid().orElseThrow();
            List<ProcessHandle> tree = postgresTree(pg);
            signal("STOP", tree);
            assertEquals(PgState.STOPPED, pg.observe().state());
            signal("CONT", tree);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pg.startAsPrimary(Set.of(), false));
            assertTrue(e.getMessage().contains("answers again"), e.getMessage());
            assertEquals(pid, pg.pid().orElseThrow(), "the same postmaster runs on");
            assertEquals(PgState.PRIMARY, pg.observe().state());
        }
    }

    @Test
    void aStandbyWhoseUpstreamNoLongerHasItsWalSaysSo() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(91, 2)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            new PgRebuilds(nodes.node(1)).clone(nodes.upstream(0), 1, 0, (done, total) -> { });
            try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
                st.execute("ALTER SYSTEM SET wal_keep_size = 0");
                st.execute("SELECT pg_reload_conf()");
                st.execute("CREATE TABLE t (v int)");
                for (int i = 0; i < 4; i++) {
                    st.execute("INSERT INTO t VALUES (" + i + ")");
                    st.execute("SELECT pg_switch_wal()");
                }
                st.execute("CHECKPOINT");
                st.execute("CHECKPOINT");
            }
            // A slot made now holds WAL from now on, not the older WAL the clone needs: as on an upstream that
            // was itself cloned after this standby.
            nodes.node(0).ensureSlots(Set.of(nodes.id(1)));
            nodes.node(1).startAsStandby(nodes.upstream(0));
            await("the standby reports that its upstream lacks its WAL", () -> nodes.node(1).observe().upstreamLacksWal(),
                    Duration.ofSeconds(30));
            assertFalse(nodes.node(1).observe().streaming());
            assertFalse(nodes.node(0).observe().upstreamLacksWal(), "the upstream's own log says the same words");
        }
    }

    private static PostgresSupervisor runningPrimary(PgTestNodes nodes) throws java.io.IOException {
        PostgresSupervisor pg = nodes.node(0);
        pg.initialize();
        pg.startAsPrimary(Set.of(), false);
        return pg;
    }

    /** The postmaster and every process below it, as they are now. */
    private static List<ProcessHandle> postgresTree(PostgresSupervisor pg) {
        ProcessHandle postmaster = ProcessHandle.of(pg.pid().orElseThrow()).orElseThrow();
        List<ProcessHandle> tree = new ArrayList<>(postmaster.descendants().toList());
        tree.add(postmaster);
        return tree;
    }

    private static void signal(String sig, List<ProcessHandle> processes) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-s", sig));
        processes.forEach(p -> command.add(Long.toString(p.pid())));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        p.waitFor();
    }

    @Test
    void whileTheNewPrimaryIsGoneADeposedPrimaryRewindsFromTheSyncStandbyAndStreamsFromIt() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(88, 3)) {
            deposeWithAnUnacknowledgedCommit(nodes, false);
            await("the sync holding the new primary's commit", () -> count(nodes, 2, "SELECT count(*) FROM acked") == 2, WAIT);
            nodes.node(1).kill();    // the new primary dies too: only its sync, a standby, is left to rewind from
            nodes.node(2).ensureSlots(Set.of(nodes.id(0)));
            PgRebuilds rebuilds = new PgRebuilds(nodes.node(0));
            assertTrue(rebuilds.rewind(nodes.upstream(2), 3).isPresent(), "the histories forked; the rewind ran");
            assertEquals(3, nodes.node(0).observe().rebuiltForGeneration());
            nodes.node(0).startAsStandby(nodes.upstream(2));
            await("the rewound node streaming from the standby", () -> nodes.node(2).observe().replicas()
                    .containsKey(nodes.id(0)), WAIT);
            assertEquals(0, count(nodes, 0, "SELECT count(*) FROM lost"), "the unacknowledged row is gone");
            assertEquals(2, count(nodes, 0, "SELECT count(*) FROM acked"), "everything the sync holds arrives");
        }
    }

    @Test
    void aCleanStopIsRecognizedWithPreallocatedWalSegmentsInPgWal() throws Exception {
        assertEquals("000000030000000000000005", WalTools.segmentFile(3, WalPosition.parse("0/5E87210")));
        assertEquals("0000000A00000001000000FF", WalTools.segmentFile(10, WalPosition.parse("1/FF000000")));
        try (PgTestNodes nodes = PgTestNodes.create(74, 1)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            try (var c = nodes.connect(0); var st = c.createStatement()) {
                st.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
            }
            // Segments postgres made ahead of time are all zeros; pg_waldump must not take its segment size from one.
            Path walDir = nodes.nodeDir(0).resolve("pgdata").resolve("pg_wal");
            String newest;
            try (var files = Files.list(walDir)) {
                newest = files.map(f -> f.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}")).sorted()
                        .reduce((a, b) -> b).orElseThrow();
            }
            long next = Long.parseLong(newest.substring(16), 16);
            for (int i = 1; i <= 8; i++) {
                Path zeros = walDir.resolve(newest.substring(0, 16) + String.format("%08X", next + i));
                try (var ch = java.nio.channels.FileChannel.open(zeros, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    ch.write(java.nio.ByteBuffer.allocate(1), WalTools.WAL_SEGMENT_BYTES - 1);
                }
            }
            nodes.node(0).stop();
            assertTrue(nodes.node(0).observe().cleanShutdownAt() != null, "the clean stop's end of WAL was found");
        }
    }

    @Test
    void secretsStayInOwnerOnlyFilesAndOffCommandLines() throws Exception {
        try (PgTestNodes nodes = PgTestNodes.create(73, 1)) {
            nodes.node(0).initialize();
            nodes.node(0).startAsPrimary(Set.of(), false);
            Path secrets = nodes.nodeDir(0).resolve("secrets");
            nodes.credentials.save(secrets);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)));
            try (var files = Files.list(secrets)) {
                for (Path f : files.toList()) {
                    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
                }
            }
            assertEquals(nodes.credentials, PgCredentials.load(secrets).orElseThrow());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    nodes.nodeDir(0).resolve("pg").resolve("pgpass"))));
            long pid = nodes.node(0).pid().orElseThrow();
            for (ProcessHandle p : ProcessHandle.of(pid).stream().flatMap(h -> java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(h), h.descendants())).toList()) {
                String cmd = String.join(" ", p.info().arguments().map(java.util.List::of).orElse(java.util.List.of()));
                assertFalse(cmd.contains(nodes.credentials.superuserPassword()), "a password on a command line: " + cmd);
                assertFalse(cmd.contains(nodes.credentials.replicationPassword()), "a password on a command line: " + cmd);
            }
            try (var files = Files.walk(nodes.nodeDir(0).resolve("pg"))) {
                for (Path f : files.filter(Files::isRegularFile).filter(f -> !f.endsWith("pgpass")).toList()) {
                    String text = Files.readString(f, StandardCharsets.UTF_8);
                    assertFalse(text.contains(nodes.credentials.replicationPassword()), "a password in " + f);
                }
            }
        }
    }

    /**
     * Node 0 (primary, sync node 1, async node 2) loses both standbys to a takeover, commits locally a
     * transaction that is never acknowledged, and is killed; node 1 is promoted with node 2 as its sync and
     * commits one row of its own. With {@code separateCheckpoint}, the last checkpoint the two share lies in an
     * earlier WAL segment than the fork. Returns the xid of the unacknowledged transaction.
     */
    private static long deposeWithAnUnacknowledgedCommit(PgTestNodes nodes, boolean separateCheckpoint) throws Exception {
        nodes.primaryWithStandbys(Set.of(nodes.id(1)), 1, 2);
        try (Connection c = nodes.connect(0); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE acked (v int)");
            st.execute("CREATE TABLE lost (v int)");
            st.execute("INSERT INTO acked VALUES (1)");
            if (separateCheckpoint) {
                st.execute("CHECKPOINT");
                st.execute("SELECT pg_switch_wal()");
                st.execute("INSERT INTO acked VALUES (0)");
            }
        }
        long acked = separateCheckpoint ? 2 : 1;
        await("the async standby caught up", () -> count(nodes, 2, "SELECT count(*) FROM acked") == acked, WAIT);
        // The takeover begins: the sync and the async stop receiving from the old primary.
        nodes.node(1).reconfigureStandby(null);
        nodes.node(2).reconfigureStandby(null);
        for (int standby : new int[] {1, 2}) {
            await(nodes.id(standby) + " detached", () -> nodes.node(standby).observe().upstream() == null, WAIT);
            assertEquals(0, count(nodes, standby, "SELECT count(*) FROM pg_stat_wal_receiver"),
                    "a standby reads as detached only once its WAL receiver has stopped");
        }
        await("both standbys detached", () -> nodes.node(0).observe().replicas().isEmpty(), WAIT);

        // The old primary commits locally; the commit waits for the sync forever and is never acknowledged.
        Connection client = nodes.connect(0);
        client.setAutoCommit(false);
        long xid;
        try (Statement st = client.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current()")) {
            rs.next();
            xid = rs.getLong(1);
            st.execute("INSERT INTO lost VALUES (42)");
        }
        CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
            try {
                client.commit();
            } catch (SQLException expected) {
                // the server dies under it
            }
        });
        await("the unacknowledged commit waiting for the sync", () -> waitingForSync(nodes) == 1, WAIT);
        nodes.node(0).kill();
        commit.get(30, TimeUnit.SECONDS);
        client.close();

        nodes.node(1).ensureSlots(Set.of(nodes.id(0), nodes.id(2)));
        nodes.node(1).promote(Set.of(nodes.id(2)), false);
        nodes.node(2).reconfigureStandby(nodes.upstream(1));
        try (Connection c = nodes.connect(1); Statement st = c.createStatement()) {
            st.execute("INSERT INTO acked VALUES (2)");
        }
        return xid;
    }

    private static ReplicationRow row(PgStatus status, MemberId member) {
        return status.replication().stream().filter(r -> r.applicationName().equals(member.value())).findFirst()
                .orElseThrow(() -> new AssertionError(member + " not in pg_stat_replication: " + status.replication()));
    }

    private static PgStatus statusOf(PgTestNodes nodes, int i) {
        return nodes.node(i).status();
    }

    private static long waitingForSync(PgTestNodes nodes) {
        return count(nodes, 0, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
    }

    private static long count(PgTestNodes nodes, int i, String query) {
        try (Connection c = nodes.connect(i); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("query on node " + i + " failed: " + e.getMessage(), e);
        }
    }

    private static String systemId(PgTestNodes nodes, int i) throws java.io.IOException {
        return nodes.node(i).wal.controlData(nodes.nodeDir(i).resolve("pgdata")).systemId();
    }

    /** Kills the pg_basebackup this JVM started, as a daemon crash would. */
    private static void killBaseBackup() {
        var backups = ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().orElse("").contains("pg_basebackup")).toList();
        assertFalse(backups.isEmpty(), "no pg_basebackup running");
        backups.forEach(ProcessHandle::destroyForcibly);
    }
}
