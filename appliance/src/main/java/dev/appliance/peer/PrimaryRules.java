package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the primary of generation g decides. It alone edits g's async list, replaces a dead or stuck sync,
 * leaves singleton mode and hands over in a planned switchover (rules 1, 6 and 7 of DESIGN.md §3).
 */
final class PrimaryRules {
    private PrimaryRules() {
    }

    static Verdict decide(Situation s) {
        ClusterState st = s.state;
        PgObservation pg = s.local;
        if (!pg.hasData()) {
            s.pgDownSince = null;
            Reason reason = Reason.of(ReasonCode.PRIMARY_DATA_MISSING,
                    "restore the data directory, or let the sync take over");
            Verdict stopped = Verdict.hold(new PostgresTarget.Stopped(), reason);
            return takeoverPossible(s) ? stopped.resigning() : stopped;
        }
        if (st.switchover() != null && !st.isFrozen()) {
            s.pgDownSince = null;
            return SwitchoverRules.decide(s);
        }
        s.switchoverRequestedAt = null;
        s.switchoverSeenAt = null;
        if (pg.state() == PgState.STOPPED) {
            return restartOrResign(s);
        }
        s.pgDownSince = null;
        s.resignedInGeneration = 0;
        s.resignedAt = null;
        if (pg.state() == PgState.STANDBY) {
            return Verdict.hold(new PostgresTarget.Primary(s.requiredSyncs(), true),
                    Reason.of(ReasonCode.PROMOTING, "generation " + st.generation()));
        }
        if (st.isFrozen()) {
            return steady(s, Reason.of(ReasonCode.FROZEN, st.frozen().reason()));
        }
        if (st.singleton()) {
            return singleton(s);
        }
        Optional<Verdict> syncChange = replaceSyncIfNeeded(s);
        if (syncChange.isPresent() && syncChange.get().proposal().isPresent()) {
            return syncChange.get();
        }
        if (syncChange.isPresent() && isPreparing(syncChange.get())) {
            return syncChange.get();
        }
        Optional<ClusterState> asyncs = maintainedAsyncs(s);
        if (asyncs.isPresent()) {
            Reason reason = Reason.of(ReasonCode.ASYNCS_UPDATED, describeAsyncChange(st, asyncs.get()));
            return Verdict.write(s.propose(asyncs.get(), reason), primaryTarget(s, true)).routable(gateOpen(s));
        }
        return syncChange.orElseGet(() -> steady(s, Reason.of(ReasonCode.PRIMARY_STEADY,
                "generation " + st.generation() + ", sync " + (st.sync() == null ? "none" : st.sync()))));
    }

    private static boolean isPreparing(Verdict v) {
        return v.reason().code() == ReasonCode.SYNC_REPLACEMENT_PREPARING;
    }

    static Verdict steady(Situation s, Reason reason) {
        return Verdict.hold(primaryTarget(s, true), reason).routable(gateOpen(s));
    }

    static PostgresTarget.Primary primaryTarget(Situation s, boolean writable) {
        return new PostgresTarget.Primary(s.requiredSyncs(), writable);
    }

    /**
     * Rule 6: after postgres (re)starts or is promoted as primary, clients reach it only once the sync has
     * flushed everything up to the end of WAL at that start; commits that were local-only at a crash would
     * otherwise become visible without being replicated. Once open, the gate stays open for that start.
     */
    static boolean gateOpen(Situation s) {
        PgObservation pg = s.local;
        if (pg.state() != PgState.PRIMARY || !pg.writable()) {
            return false;
        }
        WalPosition since = pg.servingSince() == null ? WalPosition.ZERO : pg.servingSince();
        if (since.equals(s.gateOpenFor)) {
            return true;
        }
        MemberId sync = s.state.sync();
        boolean open = sync == null || Optional.ofNullable(pg.replicas().get(sync)).filter(f -> f.isAtLeast(since)).isPresent();
        if (open) {
            s.gateOpenFor = since;
        }
        return open;
    }

    /** Rule 2 (the primary's side): a postgres that cannot be brought back in time gives way to the sync. */
    private static Verdict restartOrResign(Situation s) {
        ClusterState st = s.state;
        if (s.pgDownSince == null) {
            s.pgDownSince = s.now;
        }
        Duration resignFor = s.settings.ttl().multipliedBy(2);
        boolean resigned = s.resignedInGeneration == st.generation() && !s.elapsed(s.resignedAt, resignFor);
        // A resigned primary stops trying: the sync is about to take its place, and a postgres that came back
        // now would only have to be rewound. After 2 x ttl without a takeover it tries again.
        if (resigned) {
            s.wakeAt(s.resignedAt.plus(resignFor));
            return Verdict.hold(new PostgresTarget.Stopped(), Reason.of(ReasonCode.PRIMARY_RESIGNED,
                    "postgres down since " + s.pgDownSince)).resigning();
        }
        if (s.elapsed(s.pgDownSince, s.settings.pgRestartTimeout()) && takeoverPossible(s)) {
            s.resignedInGeneration = st.generation();
            s.resignedAt = s.now;
            s.wakeAt(s.now.plus(resignFor));
            return Verdict.hold(new PostgresTarget.Stopped(), Reason.of(ReasonCode.PRIMARY_RESIGNED,
                    "postgres down for " + s.settings.pgRestartTimeout() + "; sync " + st.sync() + " can take over"))
                    .resigning();
        }
        s.resignedInGeneration = 0;
        s.resignedAt = null;
        s.wakeAt(s.pgDownSince.plus(s.settings.pgRestartTimeout()));
        return Verdict.hold(primaryTarget(s, true), Reason.of(ReasonCode.PRIMARY_RESTARTING,
                "down since " + s.pgDownSince));
    }

    /** Whether the sync would take over if this primary's session went away (the sync's rule 2 checks). */
    static boolean takeoverPossible(Situation s) {
        ClusterState st = s.state;
        MemberId sync = st.sync();
        if (st.isFrozen() || sync == null || !s.isHealthyStandby(sync)) {
            return false;
        }
        boolean caughtUp = s.pgOf(sync).orElseThrow().replay().isAtLeast(st.initWal());
        List<MemberId> pool = new ArrayList<>(s.liveAsyncs());
        pool.addAll(s.liveUnassigned());
        boolean successor = SyncCandidates.successor(s, sync, pool).isPresent() || s.settings.allowTwoNodeFailover();
        return caughtUp && successor;
    }

    /** Leaving singleton mode once a replica is ready, when this node is no longer configured singleton. */
    private static Verdict singleton(Situation s) {
        ClusterState st = s.state;
        if (s.settings.singleton()) {
            return steady(s, Reason.of(ReasonCode.PRIMARY_STEADY, "singleton, generation " + st.generation()));
        }
        List<MemberId> pool = s.in.sessions().keySet().stream()
                .filter(m -> !m.equals(s.self) && !st.isDeposed(m)).sorted().toList();
        Optional<MemberId> candidate = SyncCandidates.best(s, pool);
        if (candidate.isEmpty()) {
            return steady(s, Reason.of(ReasonCode.SINGLETON_WAITING_FOR_REPLICA, "live: " + pool));
        }
        MemberId sync = candidate.get();
        Set<MemberId> required = Set.of(sync);
        if (!s.local.syncRequired().equals(required)) {
            return Verdict.hold(new PostgresTarget.Primary(required, true),
                    Reason.of(ReasonCode.SINGLETON_UPGRADE_PREPARING, "new sync " + sync)).routable(gateOpen(s));
        }
        List<MemberId> asyncs = pool.stream().filter(m -> !m.equals(sync)).toList();
        ClusterState next = st.toBuilder().nextGeneration(s.local.current()).singleton(false).sync(sync)
                .asyncs(asyncs).build();
        Reason reason = Reason.of(ReasonCode.SINGLETON_UPGRADE, "sync " + sync + ", asyncs " + asyncs
                + ", initWal " + next.initWal());
        return Verdict.write(s.propose(next, reason), new PostgresTarget.Primary(required, true)).routable(gateOpen(s));
    }

    /**
     * Rule 1: a dead sync, or a live one that has not made progress for {@code syncFailTimeout}, is replaced
     * by the eligible async with the least lag. The replacement takes two steps. First postgres is told to
     * require both the old and the new sync (or the new one alone when there is no old one), and the engine
     * waits until it reads that setting back. Only then does it write the new generation, with initWal taken
     * after the read-back. So no commit can be acknowledged between the recorded initWal and the moment the
     * new sync becomes the only one required, whether the write succeeds or not: every commit acknowledged
     * under the old sync lies at or below initWal, and every later one was flushed by the new sync.
     */
    private static Optional<Verdict> replaceSyncIfNeeded(Situation s) {
        ClusterState st = s.state;
        PgObservation pg = s.local;
        MemberId sync = st.sync();
        boolean dead = sync != null && !s.live(sync);
        boolean stuck = sync != null && !dead && syncStuck(s, sync);
        if (sync == null || dead) {
            s.syncTracked = null;
            s.syncFlushSeen = null;
            s.syncStuckSince = null;
        }
        if (sync != null && !dead && !stuck) {
            return Optional.empty();
        }
        List<MemberId> pool = s.liveAsyncs();
        Optional<MemberId> candidate = SyncCandidates.best(s, pool);
        String why = sync == null ? "no sync" : dead ? "sync " + sync + " has no live session"
                : "sync " + sync + " made no progress for " + s.settings.syncFailTimeout();
        if (candidate.isPresent()) {
            MemberId next = candidate.get();
            Set<MemberId> prepared = sync == null ? Set.of(next) : new TreeSet<>(List.of(sync, next));
            if (!pg.syncRequired().equals(prepared)) {
                return Optional.of(Verdict.hold(new PostgresTarget.Primary(prepared, true),
                        Reason.of(ReasonCode.SYNC_REPLACEMENT_PREPARING, why + "; new sync " + next))
                        .routable(gateOpen(s)));
            }
            List<MemberId> asyncs = new ArrayList<>(pool);
            asyncs.remove(next);
            if (stuck) {
                asyncs.add(sync);
            }
            ClusterState nextState = st.toBuilder().nextGeneration(pg.current()).sync(next).asyncs(asyncs).build();
            Reason reason = Reason.of(ReasonCode.SYNC_REPLACED, why + "; new sync " + next + " flushed "
                    + s.flushOf(next) + ", initWal " + nextState.initWal());
            return Optional.of(Verdict.write(s.propose(nextState, reason), new PostgresTarget.Primary(prepared, true))
                    .routable(gateOpen(s)));
        }
        if (dead && s.settings.allowTwoNodeFailover() && pool.isEmpty()) {
            // The old sync stays required until this write commits; only then may commits be acknowledged alone.
            ClusterState nextState = st.toBuilder().nextGeneration(pg.current()).sync(null).asyncs(List.of()).build();
            Reason reason = Reason.of(ReasonCode.SYNC_DROPPED, why);
            return Optional.of(Verdict.write(s.propose(nextState, reason), primaryTarget(s, true)).routable(gateOpen(s)));
        }
        if (sync == null) {
            return Optional.empty();
        }
        return Optional.of(steady(s, Reason.of(ReasonCode.NO_ELIGIBLE_SYNC, why + "; live asyncs " + pool)));
    }

    /** The sync is stuck when it is not streaming from us, or is behind and its flush has not moved. */
    private static boolean syncStuck(Situation s, MemberId sync) {
        PgObservation pg = s.local;
        if (!sync.equals(s.syncTracked)) {
            s.syncTracked = sync;
            s.syncFlushSeen = null;
            s.syncStuckSince = null;
        }
        WalPosition flush = pg.replicas().get(sync);
        boolean progressing = flush != null && (flush.isAtLeast(pg.current()) || !flush.equals(s.syncFlushSeen));
        s.syncFlushSeen = flush;
        if (progressing) {
            s.syncStuckSince = null;
            return false;
        }
        if (s.syncStuckSince == null) {
            s.syncStuckSince = s.now;
        }
        s.wakeAt(s.syncStuckSince.plus(s.settings.syncFailTimeout()));
        return s.elapsed(s.syncStuckSince, s.settings.syncFailTimeout());
    }

    /**
     * Rule 1: the live asyncs keep their order, new live members join at the end in id order, and deposed
     * members that have been rebuilt for their generation and follow again join after them. Asyncs without
     * a live session are dropped; they return as new members.
     */
    static Optional<ClusterState> maintainedAsyncs(Situation s) {
        ClusterState st = s.state;
        List<MemberId> asyncs = new ArrayList<>(s.liveAsyncs());
        Set<MemberId> placed = new TreeSet<>(st.members());
        for (MemberId member : new TreeSet<>(s.in.sessions().keySet())) {
            if (!placed.contains(member)) {
                asyncs.add(member);
            }
        }
        List<DeposedMember> deposed = new ArrayList<>();
        for (DeposedMember d : st.deposed()) {
            if (rejoined(s, d)) {
                asyncs.add(d.id());
            } else {
                deposed.add(d);
            }
        }
        if (asyncs.equals(st.asyncs()) && deposed.equals(st.deposed())) {
            return Optional.empty();
        }
        return Optional.of(st.toBuilder().asyncs(asyncs).deposed(deposed).build());
    }

    /** A deposed member that is live, rebuilt for the generation that deposed it, and runs as a standby again. */
    static boolean rejoined(Situation s, DeposedMember d) {
        return s.live(d.id()) && s.pgOf(d.id())
                .filter(pg -> pg.state() == PgState.STANDBY && !pg.diverged()
                        && pg.rebuiltForGeneration() >= d.generation())
                .isPresent();
    }

    private static String describeAsyncChange(ClusterState before, ClusterState after) {
        StringBuilder b = new StringBuilder("asyncs " + before.asyncs() + " -> " + after.asyncs());
        if (!before.deposed().equals(after.deposed())) {
            List<MemberId> rejoined = before.deposed().stream().map(DeposedMember::id)
                    .filter(id -> !after.isDeposed(id)).toList();
            b.append("; rebuilt and rejoined: ").append(rejoined);
        }
        return b.toString();
    }
}
