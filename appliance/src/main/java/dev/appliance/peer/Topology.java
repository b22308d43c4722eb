package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who streams from whom. The sync streams from the primary. Every other replica streams from the sync
 * (cascading) while the sync's postgres runs as a standby, else straight from the primary, so a dead or broken
 * sync never leaves them without WAL.
 */
public final class Topology {
    private Topology() {
    }

    /** The upstream of {@code member}; null for the primary. */
    public static MemberId upstreamOf(MemberId member, ClusterState state, Map<MemberId, MemberStatus> sessions) {
        if (member.equals(state.primary())) {
            return null;
        }
        return member.equals(state.sync()) ? state.primary() : cascadeSource(state, sessions);
    }

    /** Where replicas other than the sync stream from: the sync while its postgres runs as a standby, else the primary. */
    public static MemberId cascadeSource(ClusterState state, Map<MemberId, MemberStatus> sessions) {
        MemberId sync = state.sync();
        MemberStatus syncStatus = sync == null ? null : sessions.get(sync);
        return syncStatus != null && syncStatus.pg().state() == PgState.STANDBY ? sync : state.primary();
    }

    /**
     * The members that stream from {@code node}: those of the state and the live unassigned ones. An upstream
     * keeps a replication slot for each.
     */
    public static Set<MemberId> downstreamsOf(MemberId node, ClusterState state, Map<MemberId, MemberStatus> sessions) {
        Set<MemberId> members = new TreeSet<>(state.members());
        members.addAll(sessions.keySet());
        Set<MemberId> out = new TreeSet<>();
        for (MemberId m : members) {
            if (!m.equals(node) && node.equals(upstreamOf(m, state, sessions))) {
                out.add(m);
            }
        }
        return out;
    }
}
