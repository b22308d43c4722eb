package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import java.util.Objects;
import java.util.Set;

/**
 * A compare-and-set write the engine asks for. The store applies it only if the cluster state is still at
 * {@code expectedVersion} (0: no state exists yet) and none of {@code requireExpired} holds a live session.
 */
public record Proposal(long expectedVersion, ClusterState next, Reason reason, Set<MemberId> requireExpired) {
    public Proposal {
        Objects.requireNonNull(next, "next");
        Objects.requireNonNull(reason, "reason");
        requireExpired = requireExpired == null ? Set.of() : Set.copyOf(requireExpired);
    }
}
