package dev.appliance.jepsen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Write unavailability: the gaps between consecutive acknowledged writes longer than a threshold, each with the
 * nemesis events that preceded it. Not a correctness check (its verdict is always valid); it measures downtime.
 */
public final class Availability {
    private static final java.util.Set<String> WRITES = java.util.Set.of("append", "write", "cas", "transfer");

    private Availability() {
    }

    /** A stretch with no acknowledged write. */
    public record Window(long fromNanos, long toNanos, String after) {
        public long millis() {
            return (toNanos - fromNanos) / 1_000_000;
        }
    }

    public static List<Window> windows(History history, long thresholdMillis) {
        List<Op> ops = history.ops();
        List<Window> out = new ArrayList<>();
        long lastAck = ops.isEmpty() ? 0 : ops.get(0).time();
        String lastNemesis = "";
        long lastTried = lastAck;
        for (Op op : ops) {
            if (op.nemesis()) {
                lastNemesis = op.f() + (op.value().isEmpty() ? "" : " " + op.value());
                continue;
            }
            if (op.type() == Op.Type.INVOKE && WRITES.contains(op.f())) {
                lastTried = Math.max(lastTried, op.time());
            }
            if (op.type() == Op.Type.OK && WRITES.contains(op.f())) {
                if ((op.time() - lastAck) / 1_000_000 > thresholdMillis) {
                    out.add(new Window(lastAck, op.time(), lastNemesis));
                }
                lastAck = op.time();
            }
        }
        // A gap still open when the writers stopped counts up to their last attempt: writes that never came back
        // are the worst gap of all, not none.
        if ((lastTried - lastAck) / 1_000_000 > thresholdMillis) {
            out.add(new Window(lastAck, lastTried, lastNemesis));
        }
        return out;
    }

    public static CheckResult check(History history, long thresholdMillis) {
        List<Window> w = windows(history, thresholdMillis);
        long worst = w.stream().mapToLong(Window::millis).max().orElse(0);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("windows", w.size());
        facts.put("worstMillis", worst);
        facts.put("totalMillis", w.stream().mapToLong(Window::millis).sum());
        return new CheckResult("availability", CheckResult.Verdict.VALID, w.isEmpty() ? "no write gap over "
                + thresholdMillis + " ms" : w.size() + " write gaps over " + thresholdMillis + " ms, the worst " + worst
                + " ms", facts);
    }
}
