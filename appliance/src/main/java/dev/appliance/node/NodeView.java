package dev.appliance.node;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.store.ViewStatus;
import dev.appliance.peer.Decision;
import dev.appliance.peer.MemberStatus;
import dev.appliance.postgres.PgStatus;
import java.time.Instant;
import java.util.Map;

/**
 * What the node loop saw and decided in its latest cycle, published for the API and metrics.
 *
 * @param state        the agreed cluster state (null before the cluster exists)
 * @param sessions     the live members and what each published
 * @param postgres     this node's postgres, as last observed
 * @param decision     the engine's latest decision
 * @param at           when the cycle ran (the engine's clock)
 * @param confirmedAt  when the latest confirmed session renewal was sent
 * @param raft         the consensus layer's view of itself
 */
public record NodeView(
        MemberId self,
        Versioned<ClusterState> state,
        Map<MemberId, MemberStatus> sessions,
        PgStatus postgres,
        Decision decision,
        Instant at,
        Instant confirmedAt,
        ViewStatus raft) {
}
