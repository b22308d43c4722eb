package dev.appliance.jepsen;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Checks a register workload ({@code read}, {@code write}, {@code cas} on keys) for linearizability: is there one
 * order of the operations, each taking effect at an instant between its invocation and its completion, in which
 * every read returns the latest write? Keys are independent registers, so each is checked alone. The search is
 * Wing and Gong's, in Lowe's form: take an operation that may come first, apply it to the model, go on, and
 * back up when an operation completed without having taken effect; states already explored (the set of
 * operations taken plus the register's value) are pruned. Operations that failed certainly did not happen and are
 * left out; those with an unknown outcome may take effect at any time after their invocation, or never. The
 * search has a time budget, and reports unknown when it runs out, never a guess.
 */
public final class Linearizability {
    private Linearizability() {
    }

    /** What the search found for one key. */
    public enum Outcome { LINEARIZABLE, NOT_LINEARIZABLE, GAVE_UP }

    /** One key's result: for a violation, the operation that could not take effect in any order. */
    public record KeyResult(String key, Outcome outcome, int operations, History.Pair stuck) {
    }

    public static CheckResult check(History history, Duration budget) {
        Map<String, List<History.Pair>> byKey = new TreeMap<>();
        for (History.Pair p : history.pairs()) {
            String f = p.invoke().f();
            if (p.invoke().key() != null && (f.equals("read") || f.equals("write") || f.equals("cas"))) {
                byKey.computeIfAbsent(p.invoke().key(), k -> new ArrayList<>()).add(p);
            }
        }
        long deadline = System.nanoTime() + budget.toNanos();
        List<KeyResult> results = new ArrayList<>();
        for (Map.Entry<String, List<History.Pair>> e : byKey.entrySet()) {
            results.add(checkKey(e.getKey(), e.getValue(), deadline));
        }
        List<KeyResult> bad = results.stream().filter(r -> r.outcome() == Outcome.NOT_LINEARIZABLE).toList();
        List<KeyResult> unknown = results.stream().filter(r -> r.outcome() == Outcome.GAVE_UP).toList();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("keys", results.size());
        facts.put("operations", results.stream().mapToInt(KeyResult::operations).sum());
        facts.put("nonLinearizableKeys", bad.size());
        facts.put("unknownKeys", unknown.size());
        if (!bad.isEmpty()) {
            KeyResult b = bad.get(0);
            facts.put("example", describe(b));
            return new CheckResult("linearizable", CheckResult.Verdict.INVALID, bad.size() + " of " + results.size()
                    + " keys are not linearizable; " + describe(b), facts);
        }
        if (!unknown.isEmpty()) {
            return new CheckResult("linearizable", CheckResult.Verdict.UNKNOWN, "the search ran out of its "
                    + budget.toSeconds() + " s budget on " + unknown.size() + " of " + results.size() + " keys (e.g. "
                    + unknown.get(0).key() + ", " + unknown.get(0).operations() + " operations)", facts);
        }
        return new CheckResult("linearizable", CheckResult.Verdict.VALID, "all " + results.size() + " keys are "
                + "linearizable (" + facts.get("operations") + " operations)", facts);
    }

    private static String describe(KeyResult r) {
        Op inv = r.stuck().invoke();
        Op done = r.stuck().completion();
        return "key " + r.key() + ": " + inv.f() + " " + inv.value() + " -> " + (done == null ? "?" : done.value())
                + " (ops " + inv.index() + ".." + (done == null ? "?" : done.index()) + ") fits no order of the others";
    }

    /** A call or a return in the list the search walks; lifting an operation unlinks both of its entries. */
    private static final class Entry {
        final int op;
        final boolean call;
        Entry match;
        Entry prev;
        Entry next;

        Entry(int op, boolean call) {
            this.op = op;
            this.call = call;
        }
    }

    private record Frame(Entry entry, Long state) {
    }

    private record Explored(BitSet taken, Long state) {
    }

    private static final Long ABSENT = null;

    static KeyResult checkKey(String key, List<History.Pair> all, long deadlineNanos) {
        List<History.Pair> ops = new ArrayList<>();
        for (History.Pair p : all) {
            boolean readWithoutResult = p.invoke().f().equals("read") && p.outcome() != Op.Type.OK;
            if (p.outcome() != Op.Type.FAIL && !readWithoutResult) {
                ops.add(p);
            }
        }
        // Events in history order: the history was appended as things happened, so its indexes are real time.
        TreeMap<Long, Entry> events = new TreeMap<>();
        int toTake = 0;
        for (int i = 0; i < ops.size(); i++) {
            History.Pair p = ops.get(i);
            Entry call = new Entry(i, true);
            events.put(p.invoke().index(), call);
            if (p.outcome() == Op.Type.OK) {
                Entry ret = new Entry(i, false);
                call.match = ret;
                ret.match = call;
                events.put(p.completion().index(), ret);
                toTake++;
            }
        }
        Entry head = new Entry(-1, false);
        Entry last = head;
        for (Entry e : events.values()) {
            last.next = e;
            e.prev = last;
            last = e;
        }
        Deque<Frame> stack = new ArrayDeque<>();
        Set<Explored> explored = new HashSet<>();
        BitSet taken = new BitSet(ops.size());
        Long state = ABSENT;
        Entry entry = head.next;
        long steps = 0;
        // The witness of a violation: the operation that blocked the longest order found, as Knossos reports it.
        int deepest = -1;
        int blocked = -1;
        while (toTake > 0) {
            if ((++steps & 1023) == 0 && System.nanoTime() > deadlineNanos) {
                return new KeyResult(key, Outcome.GAVE_UP, ops.size(), null);
            }
            if (entry != null && entry.call) {
                Step s = apply(state, ops.get(entry.op));
                if (s.allowed()) {
                    BitSet next = (BitSet) taken.clone();
                    next.set(entry.op);
                    if (explored.add(new Explored(next, s.state()))) {
                        stack.push(new Frame(entry, state));
                        state = s.state();
                        taken = next;
                        toTake -= entry.match != null ? 1 : 0;
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                }
                entry = entry.next;
                continue;
            }
            // An operation completed (or, past the end, only calls of unknown outcome are left) and no order tried so
            // far let it take effect before: back up.
            if (entry != null && stack.size() > deepest) {
                deepest = stack.size();
                blocked = entry.op;
            }
            if (stack.isEmpty()) {
                return new KeyResult(key, Outcome.NOT_LINEARIZABLE, ops.size(),
                        blocked >= 0 ? ops.get(blocked) : firstUntaken(ops, taken));
            }
            Frame f = stack.pop();
            state = f.state();
            taken.clear(f.entry().op);
            toTake += f.entry().match != null ? 1 : 0;
            unlift(f.entry());
            entry = f.entry().next;
        }
        return new KeyResult(key, Outcome.LINEARIZABLE, ops.size(), null);
    }

    private static History.Pair firstUntaken(List<History.Pair> ops, BitSet taken) {
        for (int i = 0; i < ops.size(); i++) {
            if (!taken.get(i) && ops.get(i).outcome() == Op.Type.OK) {
                return ops.get(i);
            }
        }
        return ops.get(0);
    }

    private record Step(boolean allowed, Long state) {
    }

    /** The register: absent at first; a write sets it, a read must see it, a cas sets it only from its expected value. */
    private static Step apply(Long state, History.Pair p) {
        Op inv = p.invoke();
        switch (inv.f()) {
            case "write":
                return new Step(true, inv.value().get(0));
            case "cas":
                return Objects.equals(state, inv.value().get(0)) ? new Step(true, inv.value().get(1)) : new Step(false, state);
            case "read":
                List<Long> seen = p.completion().value();
                Long value = seen.isEmpty() ? ABSENT : seen.get(0);
                return new Step(Objects.equals(state, value), state);
            default:
                throw new IllegalArgumentException("not a register operation: " + inv.f());
        }
    }

    private static void lift(Entry call) {
        unlink(call);
        if (call.match != null) {
            unlink(call.match);
        }
    }

    private static void unlift(Entry call) {
        if (call.match != null) {
            relink(call.match);
        }
        relink(call);
    }

    private static void unlink(Entry e) {
        e.prev.next = e.next;
        if (e.next != null) {
            e.next.prev = e.prev;
        }
    }

    private static void relink(Entry e) {
        e.prev.next = e;
        if (e.next != null) {
            e.next.prev = e;
        }
    }
}
