package dev.appliance.peer;

import java.time.Instant;

/**
 * How fresh this node's view of the agreed state is.
 *
 * @param confirmedAt       when this node sent the latest session renewal that the store confirmed (null: never)
 * @param majorityReachable the consensus layer currently reaches a majority
 */
public record ViewHealth(Instant confirmedAt, boolean majorityReachable) {
    public static ViewHealth confirmed(Instant at) {
        return new ViewHealth(at, true);
    }
}
