package dev.appliance.node;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.store.ViewStatus;
import dev.appliance.peer.Decision;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
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
 * @param takesClients the decision routes clients here and postgres lets them in (pg_hba.conf reloaded)
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
        boolean takesClients,
        Instant at,
        Instant confirmedAt,
        ViewStatus raft) {

    /** This node's agreed role; unassigned before the cluster exists. */
    public Role role() {
        return state == null ? Role.UNASSIGNED : state.value().roleOf(self);
    }

    /** The agreed primary, writable, routable and not fenced: where clients should write (the /primary probe). */
    public boolean servesAsPrimary() {
        PgObservation pg = postgres.observation();
        return role() == Role.PRIMARY && pg.state() == PgState.PRIMARY && pg.writable() && takesClients
                && !decision.fenced();
    }

    /** A sync or async whose postgres streams, not fenced (the /replica probe, lag aside). */
    public boolean servesAsReplica() {
        PgObservation pg = postgres.observation();
        return (role() == Role.SYNC || role() == Role.ASYNC) && pg.state() == PgState.STANDBY && pg.streaming()
                && !decision.fenced();
    }
}
