package dev.appliance.consensus.state;

import java.time.Instant;
import java.util.Objects;

/**
 * An operator's request for a planned switchover. {@code to} is null when any caught-up member will do
 * (the sync is preferred). The primary carries it out and clears it, or clears it with a reason when it
 * cannot be done in time.
 */
public record SwitchoverRequest(MemberId to, Instant requestedAt, String requestedBy) {
    public SwitchoverRequest {
        Objects.requireNonNull(requestedAt, "switchover requestedAt");
        if (requestedBy == null || requestedBy.isBlank()) {
            throw new IllegalArgumentException("a switchover request names who asked for it");
        }
    }
}
