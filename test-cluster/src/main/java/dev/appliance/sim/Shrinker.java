package dev.appliance.sim;

import dev.appliance.peer.DecisionFunction;
import java.util.ArrayList;
import java.util.List;

/**
 * Shrinks a failing scenario to fewer ops that still break the same invariant (delta debugging over the op
 * list: drop halves, then smaller chunks, then single ops), so the printed trace shows only what matters.
 */
public final class Shrinker {
    static final int MAX_RUNS = 400;

    private Shrinker() {
    }

    public static Scenario shrink(Scenario failing, DecisionFunction engine) {
        String invariant = Simulation.run(failing, engine, false).firstInvariant();
        if (invariant == null) {
            return failing;
        }
        List<Scenario.TimedOp> ops = new ArrayList<>(failing.ops());
        int granularity = 2;
        int runs = 0;
        while (ops.size() > 1 && runs < MAX_RUNS) {
            int chunk = (ops.size() + granularity - 1) / granularity;
            boolean reduced = false;
            for (int start = 0; start < ops.size() && runs < MAX_RUNS; start += chunk) {
                List<Scenario.TimedOp> candidate = new ArrayList<>(ops.subList(0, start));
                candidate.addAll(ops.subList(Math.min(ops.size(), start + chunk), ops.size()));
                runs++;
                if (invariant.equals(Simulation.run(failing.withOps(candidate), engine, false).firstInvariant())) {
                    ops = candidate;
                    granularity = Math.max(granularity - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced) {
                if (chunk == 1) {
                    break;
                }
                granularity = Math.min(ops.size(), granularity * 2);
            }
        }
        if (ops.size() == 1 && runs < MAX_RUNS) {
            Scenario none = failing.withOps(List.of());
            if (invariant.equals(Simulation.run(none, engine, false).firstInvariant())) {
                return none;
            }
        }
        return failing.withOps(ops);
    }
}
