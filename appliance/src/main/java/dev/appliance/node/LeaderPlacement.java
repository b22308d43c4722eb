package dev.appliance.node;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * When, and to whom, a node that leads the Raft group next offers the leadership. While an offer is pending the
 * leader takes no writes, so a failing offer costs every node its session renewals for the offer's timeout.
 * Offers are therefore spaced: 10 s after one that succeeded, and doubling after each failure up to 5 min; the
 * next offer goes to the candidate that failed least often; and an offer waits at most half the time a node
 * may go without a confirmed renewal before it fences. Confined to the node loop.
 */
final class LeaderPlacement {
    static final Duration SPACING = Duration.ofSeconds(10);
    static final Duration MAX_SPACING = Duration.ofMinutes(5);

    private final Map<MemberId, Integer> failures = new HashMap<>();
    private int failedInARow;
    private Instant nextAt = Instant.MIN;

    /**
     * Whom a Raft leader on {@code self} offers the leadership, in order of preference. The primary's node and
     * the sync's node give it away: losing either one already costs the cluster a takeover or a sync
     * replacement, and each needs a Raft write, which would first wait for an election and a full session
     * ttl. The primary's node prefers an async, else the sync; the sync's node takes only an async. An async
     * keeps it.
     */
    static List<MemberId> candidates(MemberId self, ClusterState state) {
        List<MemberId> out = new java.util.ArrayList<>(state.asyncs());
        if (self.equals(state.primary())) {
            if (state.sync() != null) {
                out.add(state.sync());
            }
            return out;
        }
        return self.equals(state.sync()) ? out : List.of();
    }

    /** How long an offer may keep the leader from taking writes: half the fencing window, at most 3 s. */
    static Duration offerTimeout(Duration ttl, Duration fenceMargin) {
        Duration half = ttl.minus(fenceMargin).dividedBy(2);
        Duration atMost = Duration.ofSeconds(3);
        return half.compareTo(atMost) > 0 ? atMost : half;
    }

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
