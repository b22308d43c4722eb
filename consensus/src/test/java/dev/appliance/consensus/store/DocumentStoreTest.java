package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.MemberId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentStoreTest {
    private static final MemberId N1 = MemberId.of("n1");
    private static final MemberId N2 = MemberId.of("n2");

    private final DocumentStore store = new DocumentStore(3);
    private long index;

    private DocumentStore.Applied apply(Command c) {
        return store.apply(++index, 1000 * index, c);
    }

    private static Command.Put put(String key, long expected, String value) {
        return new Command.Put(key, expected, value, List.of(), "test", "because");
    }

    @Test
    void compareAndSetCreatesOnceAndThenOnlyFromTheCurrentVersion() {
        assertEquals(WriteResult.ok(1), apply(put("cluster", 0, "a")).result());
        WriteResult second = apply(put("cluster", 0, "b")).result();
        assertEquals(WriteResult.Status.VERSION_CONFLICT, second.status());
        assertEquals(1, second.version());
        assertEquals(WriteResult.ok(3), apply(put("cluster", 1, "c")).result());
        assertEquals(WriteResult.Status.VERSION_CONFLICT, apply(put("cluster", 1, "d")).result().status());
        assertEquals("c", store.document("cluster").orElseThrow().value());
        assertEquals(3, store.document("cluster").orElseThrow().version());
    }

    @Test
    void theVersionIsTheLogIndexOfTheLastWrite() {
        apply(new Command.Renew(N1, "x"));
        apply(new Command.Renew(N1, "x"));
        assertEquals(WriteResult.ok(3), apply(put("settings", -1, "s")).result());
        assertEquals(3, store.document("settings").orElseThrow().version());
    }

    @Test
    void aWriteCanRequireThatAMemberHoldsNoSession() {
        apply(new Command.Renew(N1, "alive"));
        Command.Put takeover = new Command.Put("cluster", -1, "n2 leads", List.of(N1), "n2", "takeover");
        WriteResult refused = apply(takeover).result();
        assertEquals(WriteResult.Status.SESSION_LIVE, refused.status());
        assertTrue(store.document("cluster").isEmpty());
        apply(new Command.Resign(N1));
        assertTrue(apply(takeover).result().ok());
    }

    @Test
    void deletesDocuments() {
        apply(put("routes/r1", 0, "x"));
        DocumentStore.Applied deleted = apply(put("routes/r1", 1, null));
        assertTrue(deleted.result().ok());
        assertTrue(store.document("routes/r1").isEmpty());
        assertEquals(List.of(new StoreEvent.DocumentChanged(2, "routes/r1", 0, null)), deleted.events());
    }

    @Test
    void sessionsOpenRenewAndExpireOnlyIfNotRenewedSince() {
        assertEquals(List.of(new StoreEvent.SessionOpened(1, N1, "p1")), apply(new Command.Renew(N1, "p1")).events());
        assertEquals(List.of(new StoreEvent.SessionRenewed(2, N1, "p2")), apply(new Command.Renew(N1, "p2")).events());
        Session s = store.sessions().get(N1);
        assertEquals(1, s.openedIndex());
        assertEquals(2, s.renewedIndex());
        assertEquals(2000, s.renewedAt());
        assertEquals("p2", s.payload());
        assertEquals(WriteResult.Status.NO_OP, apply(new Command.Expire(N1, 1)).result().status());
        assertTrue(store.sessions().containsKey(N1));
        assertEquals(List.of(new StoreEvent.SessionEnded(4, N1, true)), apply(new Command.Expire(N1, 2)).events());
        assertFalse(store.sessions().containsKey(N1));
    }

    @Test
    void resigningEndsASessionAtOnce() {
        apply(new Command.Renew(N2, ""));
        assertEquals(List.of(new StoreEvent.SessionEnded(2, N2, false)), apply(new Command.Resign(N2)).events());
        assertEquals(WriteResult.Status.NO_OP, apply(new Command.Resign(N2)).result().status());
    }

    @Test
    void graceRestartsEverySessionsTtlOnTheNewLeadersClock() {
        apply(new Command.Renew(N1, ""));
        apply(new Command.Renew(N2, ""));
        store.apply(++index, 50, new Command.Grace());
        assertEquals(50, store.sessions().get(N1).renewedAt());
        assertEquals(50, store.sessions().get(N2).renewedAt());
    }

    @Test
    void theAuditLogKeepsTheLatestWritesWithWriterReasonAndLeaderTime() {
        for (int i = 0; i < 5; i++) {
            apply(put("cluster", -1, "v" + i));
        }
        List<AuditEntry> audit = store.audit();
        assertEquals(3, audit.size());
        assertEquals(new AuditEntry(5, Instant.ofEpochMilli(5000), "cluster", "test", "because"), audit.get(2));
    }

    @Test
    void invalidCommandsAreRejectedButTheEntryCountsAsApplied() {
        assertEquals(WriteResult.Status.REJECTED, apply(put("Bad Key", 0, "x")).result().status());
        assertEquals(1, store.appliedIndex());
        assertEquals(WriteResult.Status.REJECTED, store.skip(++index, "garbage").result().status());
        assertEquals(2, store.appliedIndex());
    }

    @Test
    void entriesApplyInOrderOnly() {
        apply(put("a", 0, "x"));
        assertThrows(IllegalStateException.class, () -> store.apply(1, 0, put("b", 0, "y")));
    }

    @Test
    void prefixReadsReturnOnlyThatPrefix() {
        apply(put("members/n1", 0, "1"));
        apply(put("members/n2", 0, "2"));
        apply(put("membership", 0, "3"));
        apply(put("routes/x", 0, "4"));
        assertEquals(List.of("members/n1", "members/n2"), List.copyOf(store.documents("members/").keySet()));
    }

    @Test
    void snapshotsRoundTripExactly() throws Exception {
        apply(put("cluster", 0, "{\"a\":1}"));
        apply(new Command.Renew(N1, "obs"));
        apply(put("members/n1", 0, "m"));
        DocumentStore copy = DocumentStore.fromSnapshot(store.toSnapshot(), 3);
        assertEquals(store.appliedIndex(), copy.appliedIndex());
        assertEquals(store.documents(""), copy.documents(""));
        assertEquals(store.sessions(), copy.sessions());
        assertEquals(store.audit(), copy.audit());
        DocumentStore target = new DocumentStore(3);
        target.replaceWith(copy);
        assertEquals(store.documents(""), target.documents(""));
    }

    @Test
    void aDamagedSnapshotIsRejectedAsAWhole() {
        apply(put("cluster", 0, "x"));
        String good = new String(store.toSnapshot(), StandardCharsets.UTF_8);
        for (String bad : List.of(good.substring(0, good.length() / 2), good.replace("\"version\":1", "\"version\":\"1\""),
                good.replace("raft-store-snapshot", "other"), good.replace("\"schema\":1", "\"schema\":9"), "[]", "")) {
            assertThrows(InvalidDocumentException.class,
                    () -> DocumentStore.fromSnapshot(bad.getBytes(StandardCharsets.UTF_8), 3), bad);
        }
    }

    @Test
    void commandsAndEntriesRoundTripThroughTheirWireForm() throws Exception {
        Command c = new Command.Put("cluster", 7, "{}", List.of(N1), "n2", "takeover");
        assertEquals(c, Commands.decode(Commands.encode(c)));
        Commands.Entry e = Commands.decodeEntry(Commands.encodeEntry(1234, Commands.encode(c)));
        assertEquals(new Commands.Entry(1234, c), e);
        for (Command other : List.of(new Command.Renew(N1, "p"), new Command.Resign(N1), new Command.Expire(N2, 4),
                new Command.Grace())) {
            assertEquals(other, Commands.decode(Commands.encode(other)));
        }
    }
}
