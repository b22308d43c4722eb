package dev.appliance.consensus.state;

import java.util.Objects;

/**
 * A document as the store holds it. {@code version} is the log index of the entry that last wrote it;
 * a compare-and-set names the version it read.
 */
public record Versioned<T>(long version, T value) {
    public Versioned {
        if (version < 1) {
            throw new IllegalArgumentException("a stored document has a version of at least 1, got " + version);
        }
        Objects.requireNonNull(value, "value");
    }
}
