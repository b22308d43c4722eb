package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on three (or four) nodes in this JVM, each on its own 127.0.0.x address, over real gRPC. */
class RaftStoreTest {
    private static final MemberId N1 = MemberId.of("n1");
    private static final MemberId N2 = MemberId.of("n2");
    private static final MemberId N3 = MemberId.of("n3");
    private static final MemberId N4 = MemberId.of("n4");
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static Command.Put put(String key, long expected, String value) {
        return new Command.Put(key, expected, value, List.of(), "test", "a reason");
    }

    private static WriteResult write(RaftStore s, Command.Put put) throws Exception {
        return s.put(put).get(20, TimeUnit.SECONDS);
    }

    @Test
    void followersAppendEachBatchOnItsOwn() {
        StoreConfig config = StoreConfig.of("props", N1, "127.0.0.1", 7000, Map.of(N1, "127.0.0.1:7000"), dir);
        // composed appends stop for good after one failure (ComposedFollowerAppendsTest)
        assertFalse(org.apache.ratis.server.RaftServerConfigKeys.Log.appendEntriesComposeEnabled(
                RaftStore.serverProperties(config)));
    }

    @Test
    void threeNodesAgreeOnCompareAndSet() throws Exception {
        try (TestCluster c = new TestCluster("cas", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            RaftStore any = c.nodes.get(N2);
            WriteResult created = write(any, put("cluster", 0, "v1"));
            assertTrue(created.ok(), created.toString());
            WriteResult conflict = write(leader, put("cluster", 0, "v2"));
            assertEquals(WriteResult.Status.VERSION_CONFLICT, conflict.status());
            assertEquals(created.version(), conflict.version());
            assertTrue(write(any, put("cluster", created.version(), "v3")).ok());
            WriteResult stale = write(c.nodes.get(N3), put("cluster", created.version(), "v4"));
            assertEquals(WriteResult.Status.VERSION_CONFLICT, stale.status());
            for (RaftStore s : c.nodes.values()) {
                TestCluster.await("every node applied the write", WAIT,
                        () -> s.document("cluster").map(v -> v.value().equals("v3")).orElse(false));
            }
            assertEquals("v3", any.readLinearizable("cluster").get(10, TimeUnit.SECONDS).orElseThrow().value());
            assertEquals("a reason", any.audit().get(any.audit().size() - 1).reason());
        }
    }

    @Test
    void aSessionExpiresAfterTtlAndNotBefore() throws Exception {
        try (TestCluster c = new TestCluster("ttl", dir, 3).startAll()) {
            c.leader(WAIT);
            RaftStore n3 = c.nodes.get(N3);
            List<StoreEvent> events = Collections.synchronizedList(new ArrayList<>());
            List<Long> endedAt = Collections.synchronizedList(new ArrayList<>());
            ExecutorService watcher = Executors.newSingleThreadExecutor();
            c.nodes.get(N1).watch(watcher, e -> {
                events.add(e);
                if (e instanceof StoreEvent.SessionEnded) {
                    endedAt.add(System.nanoTime());
                }
            });
            for (int i = 0; i < 6; i++) {
                assertTrue(n3.renew("renewal " + i).get(10, TimeUnit.SECONDS).ok());
                TestCluster.sleep(500);
                assertTrue(c.nodes.get(N1).sessions().containsKey(N3), "renewed within ttl: still live");
            }
            long lastRenewalSent = System.nanoTime();
            assertTrue(n3.renew("last").get(10, TimeUnit.SECONDS).ok());
            TestCluster.await("the session expired", WAIT, () -> !endedAt.isEmpty());
            long ttl = n3.config().sessionTtl().toNanos();
            assertTrue(endedAt.get(0) - lastRenewalSent >= ttl, "expired " + (endedAt.get(0) - lastRenewalSent) / 1e6
                    + " ms after the last renewal was sent, before the ttl of " + ttl / 1e6 + " ms");
            StoreEvent ended = events.stream().filter(e -> e instanceof StoreEvent.SessionEnded).findFirst().orElseThrow();
            assertEquals(new StoreEvent.SessionEnded(ended.index(), N3, true), ended);
            watcher.shutdownNow();
        }
    }

    /**
     * A new leader's grace entry, refused while the leader tried to hand its leadership to the dead member (as
     * the primary's node does), was never submitted again: no session expired for the rest of the term.
     */
    @Test
    void aDeadMembersSessionExpiresThoughTheNewLeaderKeepsTryingToHandItTheLeadership() throws Exception {
        try (TestCluster c = new TestCluster("grace", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            renewAll(c);
            MemberId dead = leader.config().self();
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            // For its first 6 s the new leader does nothing but try to hand the leadership to the dead member,
            // refusing every write meanwhile (the grace entry included); then, like the daemon, every 10 s.
            Thread transfers = new Thread(() -> {
                long first = 0;
                long next = 0;
                while (!done.get()) {
                    for (RaftStore s : c.nodes.values()) {
                        if (!s.config().self().equals(dead) && s.isLeader() && System.nanoTime() >= next) {
                            first = first == 0 ? System.nanoTime() : first;
                            boolean opening = System.nanoTime() - first < TimeUnit.SECONDS.toNanos(6);
                            next = opening ? 0 : System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                            try {
                                s.transferLeadership(dead, Duration.ofSeconds(opening ? 1 : 3));
                            } catch (IOException | RuntimeException refused) {
                                // the dead member cannot take it: that is the point
                            }
                        }
                    }
                    TestCluster.sleep(1);
                }
            });
            c.stop(dead);
            transfers.start();
            try {
                RaftStore next = c.leader(WAIT);
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (next.sessions().containsKey(dead) && System.nanoTime() < deadline) {
                    for (RaftStore s : c.nodes.values()) {
                        if (!s.config().self().equals(dead)) {
                            s.renew("alive");
                        }
                    }
                    TestCluster.sleep(500);
                }
                assertFalse(next.sessions().containsKey(dead), "the dead member's session expired");
            } finally {
                done.set(true);
                transfers.join(10_000);
            }
        }
    }

    @Test
    void watchersSeeEveryChangeInLogOrder() throws Exception {
        try (TestCluster c = new TestCluster("watch", dir, 3).startAll()) {
            c.leader(WAIT);
            List<StoreEvent> seen = Collections.synchronizedList(new ArrayList<>());
            ExecutorService watcher = Executors.newSingleThreadExecutor();
            c.nodes.get(N3).watch(watcher, seen::add);
            RaftStore writer = c.nodes.get(N1);
            for (int i = 0; i < 20; i++) {
                write(writer, put("doc" + i, 0, "v" + i));
            }
            TestCluster.await("20 changes delivered", WAIT,
                    () -> seen.stream().filter(e -> e instanceof StoreEvent.DocumentChanged).count() == 20);
            List<Long> indexes = seen.stream().map(StoreEvent::index).toList();
            List<Long> sorted = new ArrayList<>(indexes);
            Collections.sort(sorted);
            assertEquals(sorted, indexes);
            watcher.shutdownNow();
        }
    }

    @Test
    void losingTheLeaderKeepsDocumentsAndLiveSessions() throws Exception {
        try (TestCluster c = new TestCluster("failover", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            renewAll(c);
            WriteResult w = write(leader, put("cluster", 0, "before"));
            MemberId old = leader.config().self();
            c.stop(old);
            RaftStore next = c.leader(WAIT);
            assertNotEquals(old, next.config().self());
            assertEquals("before", next.document("cluster").orElseThrow().value());
            assertEquals(w.version(), next.document("cluster").orElseThrow().version());
            for (RaftStore s : c.nodes.values()) {
                assertTrue(s.renew("still alive").get(10, TimeUnit.SECONDS).ok());
            }
            assertTrue(next.sessions().keySet().containsAll(c.nodes.keySet()), "the survivors' sessions live on");
            TestCluster.await("the stopped leader's session expires", WAIT, () -> !next.sessions().containsKey(old));
            assertTrue(write(next, put("cluster", w.version(), "after")).ok());
        }
    }

    @Test
    void allNodesRestartFromDiskWithIdenticalState() throws Exception {
        Map<String, ?> before;
        List<AuditEntry> auditBefore;
        try (TestCluster c = new TestCluster("restart", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            for (int i = 0; i < 30; i++) {
                write(leader, put("members/n" + i, 0, "m" + i));
            }
            assertTrue(leader.renew("payload").get(10, TimeUnit.SECONDS).ok());
            long index = leader.appliedIndex();
            for (RaftStore s : c.nodes.values()) {
                TestCluster.await("caught up", WAIT, () -> s.appliedIndex() >= index);
            }
            before = leader.documents("");
            auditBefore = leader.audit();
        }
        try (TestCluster c = new TestCluster("restart", dir, 3)) {
            c.startAll();
            c.leader(WAIT);
            for (RaftStore s : c.nodes.values()) {
                TestCluster.await("replayed from disk", WAIT, () -> s.documents("").equals(before));
                assertEquals(auditBefore, s.audit().subList(0, auditBefore.size()));
            }
        }
    }

    @Test
    void aNewMemberCatchesUpBySnapshotAndAMemberCanBeRemoved() throws Exception {
        try (TestCluster c = new TestCluster("grow", dir, 3)) {
            for (MemberId id : c.addresses.keySet()) {
                c.start(c.config(id).withSnapshotEvery(20));
            }
            RaftStore leader = c.leader(WAIT);
            for (int i = 0; i < 60; i++) {
                write(leader, put("routes/r" + i, 0, "route " + i));
            }
            TestCluster.await("a snapshot was taken", WAIT, () -> snapshots(dir.resolve("n1")) > 0);
            String address = TestCluster.host(4) + ":" + TestCluster.freePort(TestCluster.host(4));
            StoreConfig joining = StoreConfig.of("grow", N4, TestCluster.host(4),
                    Integer.parseInt(address.substring(address.indexOf(':') + 1)), Map.of(N4, address),
                    dir.resolve("n4")).withSnapshotEvery(20).joining();
            RaftStore n4 = c.start(joining);
            leader.addMember(N4, address, true);
            n4.awaitJoined(WAIT);
            TestCluster.await("the new member holds every document", WAIT,
                    () -> n4.documents("routes/").size() == 60);
            assertTrue(snapshots(dir.resolve("n4")) > 0, "it caught up by an installed snapshot");
            assertEquals(4, c.leader(WAIT).configuration(true).size());
            assertTrue(write(n4, put("routes/r60", 0, "written through n4")).ok());

            c.leader(WAIT).removeMember(N3);
            c.stop(N3);
            assertEquals(List.of(N1, N2, N4), List.copyOf(c.leader(WAIT).configuration(true).keySet()));
            assertTrue(write(c.leader(WAIT), put("routes/r61", 0, "after the removal")).ok());
        }
    }

    @Test
    void aListenerFollowsTheLogWithoutVoting() throws Exception {
        try (TestCluster c = new TestCluster("listen", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            write(leader, put("cluster", 0, "x"));
            String address = TestCluster.host(4) + ":" + TestCluster.freePort(TestCluster.host(4));
            RaftStore n4 = c.start(StoreConfig.of("listen", N4, TestCluster.host(4),
                    Integer.parseInt(address.substring(address.indexOf(':') + 1)), Map.of(N4, address),
                    dir.resolve("n4")).joining());
            leader.addMember(N4, address, false);
            n4.awaitJoined(WAIT);
            TestCluster.await("the listener applied the log", WAIT, () -> n4.document("cluster").isPresent());
            assertEquals(3, leader.configuration(true).size());
            assertEquals(List.of(N4), List.copyOf(leader.configuration(false).keySet()));
            TestCluster.await("the listener hears the leader", WAIT, () -> n4.view().majorityReachable());
        }
    }

    @Test
    void aCorruptSnapshotStopsTheNodeAndNamesTheFile() throws Exception {
        Path n1;
        try (TestCluster c = new TestCluster("badsnap", dir, 3)) {
            for (MemberId id : c.addresses.keySet()) {
                c.start(c.config(id).withSnapshotEvery(10));
            }
            RaftStore leader = c.leader(WAIT);
            for (int i = 0; i < 30; i++) {
                write(leader, put("doc" + i, 0, "v"));
            }
            n1 = dir.resolve("n1");
            TestCluster.await("n1 took a snapshot", WAIT, () -> snapshots(n1) > 0);
            c.stop(N1);
            Path snapshot = newestSnapshot(n1);
            try (RandomAccessFile f = new RandomAccessFile(snapshot.toFile(), "rw")) {
                f.seek(f.length() / 2);
                f.write("garbage!".getBytes());
            }
            StoreCorruptException e = assertThrows(StoreCorruptException.class, () -> RaftStore.start(c.config(N1)));
            assertTrue(e.getMessage().contains(snapshot.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("To recover"), e.getMessage());
        }
    }

    @Test
    void aCorruptLogStopsTheNode() throws Exception {
        try (TestCluster c = new TestCluster("badlog", dir, 3).startAll()) {
            RaftStore leader = c.leader(WAIT);
            for (int i = 0; i < 30; i++) {
                write(leader, put("doc" + i, 0, "value number " + i));
            }
            MemberId victim = leader.config().self().equals(N1) ? N2 : N1;
            long index = leader.appliedIndex();
            TestCluster.await("caught up", WAIT, () -> c.nodes.get(victim).appliedIndex() >= index);
            c.stop(victim);
            Path segment = logSegments(dir.resolve(victim.value())).get(0);
            try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
                f.seek(f.length() / 2);
                f.write(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
            }
            StoreCorruptException e = assertThrows(StoreCorruptException.class, () -> RaftStore.start(c.config(victim)));
            assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
            assertTrue(e.getMessage().contains("To recover"), e.getMessage());
        }
    }

    @Test
    void aMemberWhoseStorageWentMissingDoesNotStartEmpty() throws Exception {
        try (TestCluster c = new TestCluster("missing", dir, 3).startAll()) {
            c.leader(WAIT);
            c.stop(N3);
            deleteTree(dir.resolve("n3").resolve("raft"));
            StoreCorruptException e = assertThrows(StoreCorruptException.class, () -> RaftStore.start(c.config(N3)));
            assertTrue(e.getMessage().contains("will not start empty"), e.getMessage());
        }
    }

    @Test
    void anIsolatedFollowerReportsItWhileTheMajorityCommits() throws Exception {
        LoopbackFirewall firewall = LoopbackFirewall.availableOrSkip();
        try (TestCluster c = new TestCluster("isolate", dir, 3).startAll(); firewall) {
            RaftStore leader = c.leader(WAIT);
            RaftStore follower = cutOffAFollower(c, leader, firewall);
            long cut = System.nanoTime();
            TestCluster.await("the follower reports it is cut off", WAIT, () -> !follower.view().majorityReachable());
            System.out.printf("isolated follower noticed it was cut off after %d ms%n",
                    (System.nanoTime() - cut) / 1_000_000);
            for (int i = 0; i < 10; i++) {
                assertTrue(write(leader, put("during/" + i, 0, "v")).ok(), "the majority goes on committing");
            }
            assertFalse(follower.document("during/9").isPresent());
            assertFalse(follower.view().majorityReachable());
            MemberId cutOff = follower.config().self();
            TestCluster.await("the leader reports the follower behind and silent", WAIT, () -> {
                ViewStatus.Follower f = followerAsLeaderSees(leader, cutOff);
                return f.lastAnswerMs() > 1000 && f.matchIndex() >= 0 && f.matchIndex() < leader.appliedIndex();
            });
            firewall.heal();
            TestCluster.await("the follower catches up after the heal", WAIT,
                    () -> follower.document("during/9").isPresent() && follower.view().majorityReachable());
            TestCluster.await("the leader reports the follower caught up", WAIT,
                    () -> followerAsLeaderSees(leader, cutOff).matchIndex() >= follower.appliedIndex());
            assertEquals(List.of(), follower.view().followers(), "only the leader reports followers");
        }
    }

    /**
     * During a partition TCP backs off between retransmissions, so a healed link would stay silent for about
     * as long as the partition lasted: the store opens fresh connections to a member it has not heard from.
     */
    @Test
    void aFollowerCutOffForEightSecondsCatchesUpAfterTheHeal() throws Exception {
        LoopbackFirewall firewall = LoopbackFirewall.availableOrSkip();
        try (TestCluster c = new TestCluster("backoff", dir, 3).startAll(); firewall) {
            RaftStore leader = c.leader(WAIT);
            RaftStore follower = cutOffAFollower(c, leader, firewall);
            for (int i = 0; i < 80; i++) {
                assertTrue(write(leader, put("cut/" + i, 0, "v")).ok(), "the majority goes on committing");
                Thread.sleep(100);
            }
            assertFalse(follower.document("cut/79").isPresent());
            firewall.heal();
            long healed = System.nanoTime();
            assertTrue(write(leader, put("after", 0, "v")).ok());
            TestCluster.await("the follower catches up after the heal", WAIT, () -> follower.document("after").isPresent());
            System.out.printf("a follower cut off for 8 s caught up %d ms after the heal%n",
                    (System.nanoTime() - healed) / 1_000_000);
        }
    }

    private static void renewAll(TestCluster c) throws Exception {
        for (RaftStore s : c.nodes.values()) {
            assertTrue(s.renew("alive").get(10, TimeUnit.SECONDS).ok());
        }
    }

    /** A follower that heard the leader, now hearing nobody. */
    private static ViewStatus.Follower followerAsLeaderSees(RaftStore leader, MemberId member) {
        return leader.view().followers().stream().filter(f -> f.member().equals(member)).findFirst()
                .orElseThrow(() -> new AssertionError("the leader lists no follower " + member + ": " + leader.view()));
    }

    private static RaftStore cutOffAFollower(TestCluster c, RaftStore leader, LoopbackFirewall firewall) throws IOException {
        RaftStore follower = c.nodes.values().stream().filter(s -> s != leader).findFirst().orElseThrow();
        TestCluster.await("the follower hears the leader", WAIT, () -> follower.view().majorityReachable());
        firewall.dropTo(follower.config().address());
        return follower;
    }

    static long snapshots(Path nodeDir) {
        try (Stream<Path> s = Files.walk(nodeDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("snapshot.") && !p.toString().endsWith(".md5")).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static Path newestSnapshot(Path nodeDir) throws IOException {
        try (Stream<Path> s = Files.walk(nodeDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("snapshot.") && !p.toString().endsWith(".md5"))
                    .max(Path::compareTo).orElseThrow();
        }
    }

    private static List<Path> logSegments(Path nodeDir) throws IOException {
        try (Stream<Path> s = Files.walk(nodeDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("log_") && Files.isRegularFile(p))
                    .sorted().toList();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
