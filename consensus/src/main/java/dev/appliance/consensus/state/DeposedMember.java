package dev.appliance.consensus.state;

import java.util.Objects;

/**
 * A former primary that lost its place in {@code generation}. It may hold WAL the new timeline never saw,
 * so it serves again only after a rewind or a re-clone done at or after that generation.
 */
public record DeposedMember(MemberId id, long generation) {
    public DeposedMember {
        Objects.requireNonNull(id, "deposed member id");
        if (generation < 1) {
            throw new IllegalArgumentException("deposed generation must be at least 1, got " + generation);
        }
    }
}
