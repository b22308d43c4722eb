package dev.appliance.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkers catch what they must: a lost write, a broken bank total, a non-linearizable read; and pass what is fine. */
class CheckersTest {
    /** Builds a history in real-time order: each call appends the next line. */
    private static final class Script {
        final History h = new History();
        long t;

        Op invoke(long process, String f, String key, Long... value) {
            return h.add(Op.invoke(process, f, key, List.of(value), t++));
        }

        void done(Op invoked, Op.Type type, Long... result) {
            h.add(invoked.complete(type, result.length == 0 ? null : List.of(result), t++, null));
        }

        void ok(long process, String f, String key, Long... value) {
            done(invoke(process, f, key, value), Op.Type.OK);
        }

        void read(long process, String key, Long... seen) {
            done(invoke(process, "read", key), Op.Type.OK, seen);
        }
    }

    @Test
    void writeGapsAreMeasuredAndOneStillOpenWhenTheWritersStopIsCounted() {
        long second = 1_000_000_000L;
        History h = new History();
        long[][] appends = {{0, 1, 1}, {4, 4, 1}, {6, 7, 0}, {12, 12, 0}};    // invoked, ended (s), acknowledged
        for (long[] a : appends) {
            Op invoked = h.add(Op.invoke(1, "append", null, List.of(a[0]), a[0] * second));
            h.add(invoked.complete(a[2] == 1 ? Op.Type.OK : Op.Type.FAIL, null, a[1] * second, null));
        }
        // After 4 s no write is acknowledged again: attempts fail until the writers stop at 12 s.
        CheckResult r = Availability.check(h, 1000);
        assertEquals(2, r.facts().get("windows"), r.summary());
        assertEquals(8000L, ((Number) r.facts().get("worstMillis")).longValue(), r.summary());
    }

    @Test
    void aLostAcknowledgedAppendIsReported() {
        Script s = new Script();
        s.ok(1, "append", null, 1L);
        s.ok(2, "append", null, 2L);
        s.done(s.invoke(3, "append", null, 3L), Op.Type.INFO);    // unknown: may or may not be there
        s.done(s.invoke(1, "read-all", null), Op.Type.OK, 1L, 3L);
        CheckResult r = AppendChecker.check(s.h);
        assertEquals(CheckResult.Verdict.INVALID, r.verdict(), r.summary());
        assertEquals(1, r.facts().get("lost"));
        assertEquals(List.of(2L), r.facts().get("lostExamples"));

        Script fine = new Script();
        fine.ok(1, "append", null, 1L);
        fine.done(fine.invoke(2, "append", null, 2L), Op.Type.FAIL);
        fine.done(fine.invoke(1, "read-all", null), Op.Type.OK, 1L);
        assertEquals(CheckResult.Verdict.VALID, AppendChecker.check(fine.h).verdict());
    }

    @Test
    void duplicatedPhantomAndFailedYetPresentRowsAreReported() {
        Script s = new Script();
        s.ok(1, "append", null, 1L);
        s.done(s.invoke(2, "append", null, 2L), Op.Type.FAIL);
        s.done(s.invoke(1, "read-all", null), Op.Type.OK, 1L, 1L, 2L, 99L);
        CheckResult r = AppendChecker.check(s.h);
        assertEquals(CheckResult.Verdict.INVALID, r.verdict());
        assertEquals(1, r.facts().get("duplicated"));
        assertEquals(1, r.facts().get("phantom"));
        assertEquals(1, r.facts().get("failedButPresent"));
    }

    @Test
    void aBankReadThatDoesNotAddUpIsReported() {
        Script s = new Script();
        s.ok(1, "transfer", null, 0L, 1L, 10L);
        s.done(s.invoke(2, "balances", null), Op.Type.OK, 90L, 110L);
        assertEquals(CheckResult.Verdict.VALID, BankChecker.check(s.h, 2, 200).verdict());
        s.done(s.invoke(2, "balances", null), Op.Type.OK, 90L, 100L);
        CheckResult r = BankChecker.check(s.h, 2, 200);
        assertEquals(CheckResult.Verdict.INVALID, r.verdict(), r.summary());
        assertEquals(1, r.facts().get("wrongReads"));
        s.done(s.invoke(2, "balances", null), Op.Type.OK, -10L, 210L);
        assertEquals(2, BankChecker.check(s.h, 2, 200).facts().get("wrongReads"), "a negative balance is wrong too");
    }

    @Test
    void aStaleReadIsNotLinearizable() {
        Script s = new Script();
        s.ok(1, "write", "k", 1L);
        s.ok(1, "write", "k", 2L);
        s.read(2, "k", 1L);    // after the write of 2 completed: stale
        CheckResult r = Linearizability.check(s.h, Duration.ofSeconds(5));
        assertEquals(CheckResult.Verdict.INVALID, r.verdict(), r.summary());
        assertTrue(r.summary().contains("key k: read"), r.summary());
    }

    @Test
    void concurrentOperationsMayTakeEffectInEitherOrder() {
        Script s = new Script();
        s.ok(1, "write", "k", 1L);
        Op w = s.invoke(1, "write", "k", 2L);
        s.read(2, "k", 2L);        // overlaps the write: may see it
        s.read(3, "k", 2L);
        s.done(w, Op.Type.OK);
        s.read(2, "k", 2L);
        assertEquals(CheckResult.Verdict.VALID, Linearizability.check(s.h, Duration.ofSeconds(5)).verdict());

        Script flip = new Script();
        flip.ok(1, "write", "k", 1L);
        Op w2 = flip.invoke(1, "write", "k", 2L);
        flip.read(2, "k", 2L);
        flip.read(3, "k", 1L);     // after a read that saw 2, while the write was still open: 2 cannot un-happen
        flip.done(w2, Op.Type.OK);
        assertEquals(CheckResult.Verdict.INVALID, Linearizability.check(flip.h, Duration.ofSeconds(5)).verdict());
    }

    @Test
    void anOperationWithAnUnknownOutcomeMayTakeEffectLateOrNever() {
        Script s = new Script();
        s.ok(1, "write", "k", 1L);
        s.done(s.invoke(1, "write", "k", 5L), Op.Type.INFO);
        s.read(2, "k", 1L);
        s.read(2, "k", 5L);        // the unknown write took effect late
        assertEquals(CheckResult.Verdict.VALID, Linearizability.check(s.h, Duration.ofSeconds(5)).verdict());
        s.read(2, "k", 1L);        // ... and cannot be undone
        assertEquals(CheckResult.Verdict.INVALID, Linearizability.check(s.h, Duration.ofSeconds(5)).verdict());
    }

    @Test
    void compareAndSetOnlyFromTheExpectedValueAndFailedOnesNeverHappened() {
        Script s = new Script();
        s.read(1, "k");            // absent at first
        s.ok(1, "write", "k", 1L);
        s.ok(2, "cas", "k", 1L, 3L);
        s.done(s.invoke(3, "cas", "k", 1L, 4L), Op.Type.FAIL);
        s.read(1, "k", 3L);
        assertEquals(CheckResult.Verdict.VALID, Linearizability.check(s.h, Duration.ofSeconds(5)).verdict());
        s.ok(3, "cas", "k", 1L, 9L);    // acknowledged, but 1 is long gone
        assertEquals(CheckResult.Verdict.INVALID, Linearizability.check(s.h, Duration.ofSeconds(5)).verdict());
    }

    @Test
    void aLongConcurrentLinearizableHistoryPassesAndAnImpossibleReadInItIsFound() {
        History good = simulated(new Random(7), 2000, 8, false);
        CheckResult r = Linearizability.check(good, Duration.ofSeconds(30));
        assertEquals(CheckResult.Verdict.VALID, r.verdict(), r.summary());
        History bad = simulated(new Random(7), 2000, 8, true);
        assertEquals(CheckResult.Verdict.INVALID, Linearizability.check(bad, Duration.ofSeconds(30)).verdict());
    }

    @Test
    void theSearchGivesUpAsUnknownWhenItsBudgetIsSpentNeverGuessing() {
        CheckResult r = Linearizability.check(simulated(new Random(3), 4000, 16, false), Duration.ZERO);
        assertEquals(CheckResult.Verdict.UNKNOWN, r.verdict(), r.summary());
    }

    @Test
    void aHistoryRoundTripsThroughJsonLines(@TempDir Path dir) throws Exception {
        History h = simulated(new Random(1), 50, 3, false);
        h.add(new Op(-1, Op.NEMESIS, Op.Type.INFO, "kill", null, List.of(2L), 99_999, "n2"));
        Path f = dir.resolve("history.jsonl");
        h.write(f);
        History back = History.read(f);
        assertEquals(h.ops(), back.ops());
        Files.writeString(f, "{\"not\": \"an op\"}\n");
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, () -> History.read(f));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    /**
     * A register history from a real register: {@code processes} clients with overlapping operations, each taking
     * effect at one instant inside its interval, so it is linearizable by construction. With {@code corrupt}, one
     * read late in the run reports a value that was never written.
     */
    static History simulated(Random rnd, int operations, int processes, boolean corrupt) {
        History h = new History();
        long register = 0;
        boolean written = false;
        Op[] open = new Op[processes];
        int done = 0;
        int started = 0;
        long t = 0;
        boolean corrupted = false;
        while (done < operations) {
            int p = rnd.nextInt(processes);
            if (open[p] == null) {
                if (started == operations) {
                    continue;
                }
                int kind = rnd.nextInt(3);
                Op inv = kind == 0 ? Op.invoke(p, "write", "k", List.of((long) rnd.nextInt(5)), t++)
                        : kind == 1 ? Op.invoke(p, "read", "k", List.of(), t++)
                        : Op.invoke(p, "cas", "k", List.of((long) rnd.nextInt(5), (long) rnd.nextInt(5)), t++);
                open[p] = h.add(inv);
                started++;
            } else {
                // The operation takes effect now, and its completion is recorded at once.
                Op inv = open[p];
                Op.Type type = Op.Type.OK;
                List<Long> result = null;
                switch (inv.f()) {
                    case "write" -> {
                        register = inv.value().get(0);
                        written = true;
                    }
                    case "read" -> {
                        result = written ? List.of(register) : List.of();
                        if (corrupt && !corrupted && done >= operations / 2) {
                            result = List.of(42L);
                            corrupted = true;
                        }
                    }
                    default -> {
                        if (written && register == inv.value().get(0)) {
                            register = inv.value().get(1);
                        } else {
                            type = Op.Type.FAIL;
                        }
                    }
                }
                h.add(inv.complete(type, result, t++, null));
                open[p] = null;
                done++;
            }
        }
        return h;
    }
}
