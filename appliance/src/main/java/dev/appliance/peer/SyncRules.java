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
 * become its sync (unless {@code allowTwoNodeFailover}). It takes two steps. First it detaches from the old
 * primary (its WAL receiver stops), which fences the old primary: it requires this sync, so from then on it
 * can acknowledge nothing. Once it reads back that it receives from nobody, it writes g+1, naming itself
 * primary, the old primary as deposed, and as initWal everything it has flushed. It promotes only once
 * that write has committed and come back through the watch.
 *
 * <p>Why this keeps every acknowledged commit: a commit acknowledged in g was flushed by this sync first
 * (or lies at or below initWal(g), see {@link PrimaryRules}, and replay ≥ initWal(g) covers those).
 * Promotion replays everything flushed, so the new primary holds every acknowledged commit. And because the
 * sync stopped receiving before it recorded initWal(g+1), every commit acknowledged in g lies at or below
 * initWal(g+1): the next sync, which may take over only once it has replayed that far, holds them too.
 * Recording the replay position at decision time instead, while still receiving, would lose the commits
 * the old primary acknowledged between that decision and the promotion.
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
        List<MemberId> pool = new ArrayList<>(s.liveAsyncs());
        pool.addAll(s.liveUnassigned());
        // Deposed members rebuilt for their generation (from this sync, while the primary is gone) are replicas too.
        List<MemberId> rejoined = st.deposed().stream().filter(d -> PrimaryRules.rejoined(s, d)).map(DeposedMember::id)
                .toList();
        pool.addAll(rejoined);
        Optional<MemberId> newSync = SyncCandidates.successor(s, s.self, pool);
        if (newSync.isEmpty() && !s.settings.allowTwoNodeFailover()) {
            return Verdict.hold(keep, Reason.of(ReasonCode.TAKEOVER_REFUSED_NO_ASYNC, gone + "; none of the live replicas "
                    + pool + " streams from this node (set allowTwoNodeFailover to fail over without one)"));
        }
        if (pg.upstream() != null || pg.streaming()) {
            return Verdict.hold(new PostgresTarget.Detached(), Reason.of(ReasonCode.TAKEOVER_DETACHING, gone
                    + "; replayed " + pg.replay() + " >= initWal " + st.initWal()));
        }
        long nextGeneration = st.generation() + 1;
        List<MemberId> asyncs = new ArrayList<>(pool);
        newSync.ifPresent(asyncs::remove);
        List<DeposedMember> deposed = new ArrayList<>(st.deposed());
        deposed.removeIf(d -> rejoined.contains(d.id()));
        deposed.add(new DeposedMember(primary, nextGeneration));
        ClusterState next = st.toBuilder().nextGeneration(pg.position()).primary(s.self).sync(newSync.orElse(null))
                .asyncs(asyncs).deposed(deposed).switchover(null).build();
        Reason reason = Reason.of(ReasonCode.TAKEOVER, gone + "; replayed " + pg.replay() + " >= initWal "
                + st.initWal() + ", detached at " + pg.position() + "; new sync " + newSync.map(MemberId::toString).orElse("none") + ", deposed " + primary);
        return Verdict.write(new Proposal(s.version, next, reason, Set.of(primary)), new PostgresTarget.Detached());
    }
}
