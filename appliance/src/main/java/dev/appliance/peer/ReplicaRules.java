package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.MemberId;
import java.util.Optional;

/**
 * Asyncs, deposed members and unassigned members: follow the right upstream, and rebuild first when the
 * local data cannot follow it. Rule 5: a deposed primary serves again only after a rewind (or, when rewind
 * is impossible, a re-clone) done at or after the generation that deposed it; the rewind archives the WAL
 * it discards first.
 */
final class ReplicaRules {
    private ReplicaRules() {
    }

    static Verdict async(Situation s) {
        MemberId upstream = s.replicaUpstream();
        return rebuildRequested(s, upstream).or(() -> rebuildIfNeeded(s, upstream)).orElseGet(() -> Verdict.hold(new PostgresTarget.Standby(upstream),
                Reason.of(ReasonCode.FOLLOWING, "async of " + upstream + ", generation " + s.state.generation())));
    }

    static Verdict unassigned(Situation s) {
        MemberId upstream = s.replicaUpstream();
        return rebuildRequested(s, upstream).or(() -> rebuildIfNeeded(s, upstream)).orElseGet(() -> Verdict.hold(new PostgresTarget.Standby(upstream),
                Reason.of(ReasonCode.FOLLOWING, "unassigned, following " + upstream + " until the primary lists it")));
    }

    static Verdict deposed(Situation s) {
        ClusterState st = s.state;
        DeposedMember entry = st.deposedEntry(s.self).orElseThrow();
        PgObservation pg = s.local;
        MemberId upstream = s.replicaUpstream();
        boolean rebuilt = pg.hasData() && pg.rebuiltForGeneration() >= entry.generation()
                && pg.state() != PgState.PRIMARY && !pg.diverged();
        if (rebuilt) {
            return Verdict.hold(new PostgresTarget.Standby(upstream), Reason.of(ReasonCode.REJOIN_PENDING,
                    "rebuilt for generation " + pg.rebuiltForGeneration() + ", following " + upstream));
        }
        // The source: the primary, or, while it is gone, the sync, which holds every commit it acknowledged. A member
        // rebuilt from the sync streams from it, so the sync can take over with it as its new sync (a double fault
        // otherwise waits for the old primary to return).
        boolean primaryLive = s.live(st.primary());
        MemberId sync = st.sync();
        boolean fromSync = !primaryLive && sync != null && !sync.equals(s.self) && s.isHealthyStandby(sync);
        if (!primaryLive && !fromSync) {
            return Verdict.hold(new PostgresTarget.Stopped(), Reason.of(ReasonCode.DEPOSED_WAITING_FOR_PRIMARY,
                    "deposed in generation " + entry.generation() + "; primary " + st.primary() + " has no live session"
                            + " and the sync " + (sync == null ? "is not named" : sync + " does not run as a standby")));
        }
        MemberId source = primaryLive ? st.primary() : sync;
        String why = fromSync ? " (primary " + st.primary() + " has no live session)" : "";
        if (!pg.hasData() || pg.rewindFailed()) {
            MemberId cloneFrom = primaryLive ? s.cloneSource() : sync;
            return Verdict.hold(new PostgresTarget.Clone(cloneFrom, upstream, st.generation()),
                    Reason.of(ReasonCode.RECLONING, "deposed in generation " + entry.generation()
                            + (pg.rewindFailed() ? "; rewind failed" : "; no data directory") + "; cloning from " + cloneFrom
                            + why));
        }
        return Verdict.hold(new PostgresTarget.Rewind(source, upstream, st.generation()),
                Reason.of(ReasonCode.REWINDING, "deposed in generation " + entry.generation()
                        + "; rewinding from " + source + why));
    }

    /**
     * An operator asked for a fresh clone ({@code node rebuild}). Only asyncs and unassigned members act on it: a
     * sync that stopped streaming to re-clone would stall every commit until it was replaced, so a sync keeps
     * the request until it is an async again.
     */
    static Optional<Verdict> rebuildRequested(Situation s, MemberId upstream) {
        if (!s.local.rebuildRequested()) {
            return Optional.empty();
        }
        return Optional.of(Verdict.hold(new PostgresTarget.Clone(s.cloneSource(), upstream, s.state.generation()),
                Reason.of(ReasonCode.REBUILDING, "cloning afresh from " + s.cloneSource())));
    }

    /**
     * A replica whose data cannot follow {@code upstream} as it is: none at all, or a bootstrap database that
     * never served (clone), postgres running
     * as a primary that the state does not name (its WAL may hold writes nobody else has: rewind), or a
     * history the upstream does not share (rewind, and re-clone if rewind failed), or an upstream that lacks the
     * WAL this standby needs next (re-clone).
     */
    static Optional<Verdict> rebuildIfNeeded(Situation s, MemberId upstream) {
        PgObservation pg = s.local;
        ClusterState st = s.state;
        if (!pg.hasData()) {
            return Optional.of(Verdict.hold(new PostgresTarget.Clone(s.cloneSource(), upstream, st.generation()),
                    Reason.of(ReasonCode.CLONING, "from " + s.cloneSource())));
        }
        if (pg.pristine() && pg.state() == PgState.STOPPED) {
            // A database from a bootstrap that another member won: it never served, so nothing in it can be lost.
            return Optional.of(Verdict.hold(new PostgresTarget.Clone(s.cloneSource(), upstream, st.generation()),
                    Reason.of(ReasonCode.CLONING, "from " + s.cloneSource() + ", replacing a bootstrap database that "
                            + "never served")));
        }
        boolean stoppedOrStandby = pg.state() == PgState.STANDBY || pg.state() == PgState.STOPPED;
        if (stoppedOrStandby && pg.upstreamLacksWal() && !pg.diverged()) {
            // Nothing else will bring that WAL back; a fresh clone starts from where its source is now. Stopped
            // counts too: the clone stops postgres first, and the finding holds until the next start or rebuild
            // (the supervisor clears it then). Judged on STANDBY alone, the stop undid the decision, postgres
            // started again, met the same refusal, and the node went round that loop without ever cloning.
            return Optional.of(Verdict.hold(new PostgresTarget.Clone(s.cloneSource(), upstream, st.generation()),
                    Reason.of(ReasonCode.RECLONING, (pg.upstream() != null ? pg.upstream() : "the upstream")
                            + " no longer has the WAL this node needs next; "
                            + "cloning afresh from " + s.cloneSource())));
        }
        if (pg.state() == PgState.PRIMARY || pg.diverged()) {
            String why = pg.state() == PgState.PRIMARY ? "postgres runs as a primary but " + st.primary() + " is"
                    : "local WAL is not in " + upstream + "'s history";
            if (pg.rewindFailed()) {
                return Optional.of(Verdict.hold(new PostgresTarget.Clone(s.cloneSource(), upstream, st.generation()),
                        Reason.of(ReasonCode.RECLONING, why + "; rewind failed")));
            }
            return Optional.of(Verdict.hold(new PostgresTarget.Rewind(st.primary(), upstream, st.generation()),
                    Reason.of(ReasonCode.REWINDING, why)));
        }
        return Optional.empty();
    }
}
