package dev.appliance.node;

import dev.appliance.consensus.state.MemberId;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * When, and to whom, the primary's node next offers the Raft leadership. While an offer is pending the leader
 * takes no writes, so a failing offer costs every node its session renewals for the offer's timeout. Offers are
 * therefore spaced: 10 s after one that succeeded, and doubling after each failure up to 5 min; and the next
 * offer goes to the candidate that failed least often. Confined to the node loop.
 */
final class LeaderPlacement {
    static final Duration SPACING = Duration.ofSeconds(10);
    static final Duration MAX_SPACING = Duration.ofMinutes(5);

    private final Map<MemberId, Integer> failures = new HashMap<>();
    private int failedInARow;
    private Instant nextAt = Instant.MIN;

    Instant nextAt() {
        return nextAt;
    }

    boolean due(Instant now) {
        return !now.isBefore(nextAt);
    }

    /** Of {@code eligible} (in order of preference), the one whose offers failed least often. */
    Optional<MemberId> pick(List<MemberId> eligible) {
        MemberId best = null;
        for (MemberId m : eligible) {
            if (best == null || failures.getOrDefault(m, 0) < failures.getOrDefault(best, 0)) {
                best = m;
            }
        }
        return Optional.ofNullable(best);
    }

    void offered(Instant now) {
        nextAt = now.plus(SPACING);
    }

    void succeeded() {
        failedInARow = 0;
        failures.clear();
    }

    void failed(MemberId to, Instant now) {
        failedInARow++;
        failures.merge(to, 1, Integer::sum);
        nextAt = now.plus(spacingAfter(failedInARow));
    }

    static Duration spacingAfter(int failedInARow) {
        Duration d = SPACING;
        for (int i = 0; i < failedInARow && d.compareTo(MAX_SPACING) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(MAX_SPACING) > 0 ? MAX_SPACING : d;
    }
}
