package dev.appliance.sim;

import dev.appliance.consensus.state.ClusterState;
import java.util.List;
import java.util.Map;

/**
 * What one simulated run showed.
 *
 * @param violations    the invariants that did not hold (the run stops at the first safety violation)
 * @param steps         events processed
 * @param decisions     engine decisions taken
 * @param acknowledged  commits acknowledged to clients
 * @param generations   the last generation reached
 * @param trace         what happened, line by line (only for traced runs)
 * @param forensics     WAL archived by rewinds and clones
 * @param finalState    the cluster state at the end (null if none was created)
 * @param events        how often each kind of thing happened (writes by reason, rewinds, clones, ...)
 */
public record Outcome(Scenario scenario, List<Violation> violations, long steps, long decisions, long acknowledged,
        long generations, List<String> trace, List<String> forensics, ClusterState finalState,
        Map<String, Long> events) {

    public boolean failed() {
        return !violations.isEmpty();
    }

    public String firstInvariant() {
        return violations.isEmpty() ? null : violations.get(0).invariant();
    }
}
