package dev.appliance.consensus.state;

import java.time.Instant;
import java.util.Objects;

/** Why and since when the cluster is frozen: no topology change happens until an operator unfreezes it. */
public record Freeze(String reason, Instant at) {
    public Freeze {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("a freeze needs a reason");
        }
        Objects.requireNonNull(at, "a freeze needs the time it was set");
    }
}
