package dev.appliance.peer;

import java.time.Instant;

/**
 * How fresh this node's view of the agreed state is.
 *
 * @param confirmedAt       when this node sent the latest session renewal that the store confirmed (null: never)
 * @param majorityReachable the consensus layer currently reaches a majority
 * @param caughtUp          false while this node catches up after its lease lapsed (a restart, a healed
 *                          partition): it has not yet applied the log up to the renewal that renewed the lease,
 *                          so its copy of the agreed state may miss that it was replaced meanwhile
 */
public record ViewHealth(Instant confirmedAt, boolean majorityReachable, boolean caughtUp) {
    public static ViewHealth confirmed(Instant at) {
        return new ViewHealth(at, true, true);
    }
}
