package dev.appliance.node;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.peer.Decision;
import dev.appliance.peer.MemberStatus;
import dev.appliance.proxy.RouteState;
import java.util.Map;

/**
 * Where this node's leader routes send connections, from what the node loop knows: the agreed primary, once
 * it reports itself routable (its write gate open and its pg_hba.conf letting clients in); nowhere while this
 * node is fenced. A pure function.
 */
final class LeaderRouting {
    private LeaderRouting() {
    }

    static RouteState of(MemberId self, Decision decision, boolean selfTakesClients, ClusterState state,
            Map<MemberId, MemberStatus> sessions, Map<MemberId, Member> members) {
        if (decision.fenced()) {
            return new RouteState.Refuse("this node's view of the cluster is stale (it reaches no majority)");
        }
        if (state == null || state.primary() == null) {
            return new RouteState.Hold("the cluster has no primary yet");
        }
        MemberId primary = state.primary();
        boolean routable;
        if (primary.equals(self)) {
            routable = selfTakesClients;    // fresher than this node's own published session
        } else {
            MemberStatus s = sessions.get(primary);
            if (s == null) {
                return new RouteState.Hold("the primary " + primary + " has no live session");
            }
            routable = s.routable() && !s.fenced();
        }
        if (!routable) {
            return new RouteState.Hold("the primary " + primary + " does not take clients yet");
        }
        Member m = members.get(primary);
        if (m == null) {
            return new RouteState.Hold("the primary " + primary + " is not in the member registry");
        }
        return new RouteState.Forward(primary.value(), m.host(), m.pgPort());
    }
}
