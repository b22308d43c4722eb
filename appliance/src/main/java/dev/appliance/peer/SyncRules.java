package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.MemberId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Rule 2, the sync's side: only the sync of g may take over, only once the primary's session has expired,
 * only when it has replayed at least initWal(g), never while frozen, and only when another replica can
 * become its sync (unless {@code allowTwoNodeFailover}). It writes g+1 first, naming the old primary as
 * deposed, and promotes only once that write has committed and come back through the watch.
 *
 * <p>Why replay ≥ initWal suffices: every commit acknowledged in g was flushed by this sync before it was
 * acknowledged, except those acknowledged before the sync became required, and those lie at or below
 * initWal (see {@link PrimaryRules}). Promotion replays everything flushed. So the new primary holds every
 * acknowledged commit. Once it promotes, its WAL receiver stops, and the old primary, which still requires
 * it, can acknowledge nothing more.
 */
final class SyncRules {
    private SyncRules() {
    }

    static Verdict decide(Situation s) {
        ClusterState st = s.state;
        MemberId primary = st.primary();
        PgObservation pg = s.local;
        Optional<Verdict> rebuild = ReplicaRules.rebuildIfNeeded(s, primary);
        if (s.live(primary)) {
            return rebuild.orElseGet(() -> Verdict.hold(new PostgresTarget.Standby(primary),
                    Reason.of(ReasonCode.FOLLOWING, "sync of " + primary + ", generation " + st.generation())));
        }
        PostgresTarget keep = rebuild.map(Verdict::postgres).orElse(new PostgresTarget.Standby(primary));
        String gone = "primary " + primary + " has no live session";
        if (st.isFrozen()) {
            return Verdict.hold(keep, Reason.of(ReasonCode.TAKEOVER_REFUSED_FROZEN, gone + "; " + st.frozen().reason()));
        }
        if (rebuild.isPresent() || pg.state() != PgState.STANDBY) {
            return Verdict.hold(keep, Reason.of(ReasonCode.TAKEOVER_REFUSED_NOT_RUNNING, gone + "; postgres is "
                    + pg.state() + (pg.diverged() ? ", diverged" : "")));
        }
        if (pg.replay().isBefore(st.initWal())) {
            return Verdict.hold(keep, Reason.of(ReasonCode.TAKEOVER_REFUSED_NOT_CAUGHT_UP, gone + "; replayed "
                    + pg.replay() + " < initWal " + st.initWal()));
        }
        List<MemberId> pool = s.liveAsyncs();
        Optional<MemberId> newSync = SyncCandidates.forTakeover(s, pool);
        if (newSync.isEmpty() && !s.settings.allowTwoNodeFailover()) {
            return Verdict.hold(keep, Reason.of(ReasonCode.TAKEOVER_REFUSED_NO_ASYNC, gone + "; live asyncs " + pool
                    + " (set allowTwoNodeFailover to fail over without one)"));
        }
        long nextGeneration = st.generation() + 1;
        List<MemberId> asyncs = new ArrayList<>(pool);
        newSync.ifPresent(asyncs::remove);
        List<DeposedMember> deposed = new ArrayList<>(st.deposed());
        deposed.add(new DeposedMember(primary, nextGeneration));
        ClusterState next = st.toBuilder().nextGeneration(pg.replay()).primary(s.self).sync(newSync.orElse(null))
                .asyncs(asyncs).deposed(deposed).switchover(null).build();
        Reason reason = Reason.of(ReasonCode.TAKEOVER, gone + "; replayed " + pg.replay() + " >= initWal "
                + st.initWal() + "; new sync " + newSync.map(MemberId::toString).orElse("none") + ", deposed " + primary);
        return Verdict.write(new Proposal(s.version, next, reason, Set.of(primary)), keep);
    }
}
