package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who creates the cluster, and when. No cluster state exists yet.
 *
 * <p>The creator is the live member that holds real data if exactly one does (a cluster whose consensus
 * storage was lost is re-created around its data, never around an empty copy); with several such members
 * nobody proceeds and an operator decides. Otherwise the creator is a member whose bootstrap initdb already
 * ran, else the member with the smallest id. It initializes its database <em>before</em> it writes
 * generation 1 and records the WAL position it reached, so a primary that later loses its data directory
 * can never be re-initialized empty by the rules. Normal mode waits for a second member so that the first
 * generation has a sync; singleton mode starts alone.
 */
final class BootstrapRules {
    private BootstrapRules() {
    }

    static Verdict decide(Situation s) {
        PostgresTarget stay = new PostgresTarget.Stopped();
        if (!s.live(s.self)) {
            return Verdict.hold(stay, Reason.of(ReasonCode.WAITING_FOR_SESSION));
        }
        Set<MemberId> live = new TreeSet<>(s.in.sessions().keySet());
        List<MemberId> holdingData = new ArrayList<>();
        List<MemberId> pristine = new ArrayList<>();
        for (MemberId member : live) {
            PgObservation pg = s.pgOf(member).orElseThrow();
            if (pg.hasData()) {
                (pg.pristine() ? pristine : holdingData).add(member);
            }
        }
        if (holdingData.size() > 1) {
            return Verdict.hold(stay, Reason.of(ReasonCode.BOOTSTRAP_AMBIGUOUS_DATA, "members holding data: "
                    + holdingData + "; keep the data of one of them and move the others' data directories away"));
        }
        MemberId creator = !holdingData.isEmpty() ? holdingData.get(0)
                : !pristine.isEmpty() ? pristine.get(0)
                : live.iterator().next();
        if (!s.settings.singleton() && live.size() < 2) {
            return Verdict.hold(stay, Reason.of(ReasonCode.BOOTSTRAP_WAITING_FOR_PEERS, "live: " + live));
        }
        if (!creator.equals(s.self)) {
            return Verdict.hold(stay, Reason.of(ReasonCode.BOOTSTRAP_WAITING_FOR_MEMBER, creator.toString()));
        }
        if (!s.local.hasData()) {
            return Verdict.hold(new PostgresTarget.Initialize(), Reason.of(ReasonCode.INITIALIZING));
        }
        ClusterState first;
        if (s.settings.singleton()) {
            first = ClusterState.initialSingleton(s.self, s.local.position());
        } else {
            List<MemberId> others = live.stream().filter(m -> !m.equals(s.self)).toList();
            Optional<MemberId> sync = others.stream().findFirst();
            first = ClusterState.initial(s.self, sync.orElseThrow(), others.subList(1, others.size()),
                    s.local.position());
        }
        Reason reason = Reason.of(ReasonCode.BOOTSTRAP, "primary " + s.self
                + (first.sync() == null ? ", singleton" : ", sync " + first.sync() + ", asyncs " + first.asyncs())
                + ", initWal " + first.initWal());
        return Verdict.write(new Proposal(0, first, reason, Set.of()), stay);
    }
}
