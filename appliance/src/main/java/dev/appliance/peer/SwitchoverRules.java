package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.SwitchoverRequest;
import dev.appliance.consensus.state.WalPosition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rule 7, a planned switchover, carried out by the primary: drain (read-only, proxies hold new connections),
 * wait until the target has flushed everything, stop postgres cleanly (a clean shutdown waits until every
 * streaming standby has flushed the shutdown checkpoint), write generation g+1 naming the target only once
 * the target reports it has flushed up to that final position, and leave the promotion to the target. The
 * old primary then follows the new timeline as a replica without a rebuild. A request that cannot be
 * carried out is cleared with its reason, and the primary resumes.
 */
final class SwitchoverRules {
    private SwitchoverRules() {
    }

    static Verdict decide(Situation s) {
        ClusterState st = s.state;
        SwitchoverRequest request = st.switchover();
        if (!request.requestedAt().equals(s.switchoverRequestedAt)) {
            s.switchoverRequestedAt = request.requestedAt();
            s.switchoverSeenAt = s.now;
        }
        Instant deadline = s.switchoverSeenAt.plus(s.settings.switchoverTimeout());
        s.wakeAt(deadline);
        Optional<MemberId> target = target(s, request);
        String invalid = target.isPresent() ? invalidTarget(s, target.get()) : "no replica is ready to take over";
        if (invalid != null) {
            return abandon(s, invalid);
        }
        if (!s.now.isBefore(deadline)) {
            return abandon(s, "not completed within " + s.settings.switchoverTimeout());
        }
        MemberId to = target.get();
        PgObservation pg = s.local;
        PgObservation targetPg = s.pgOf(to).orElseThrow();
        PostgresTarget readOnly = PrimaryRules.primaryTarget(s, false);
        switch (pg.state()) {
            case PRIMARY: {
                if (pg.writable()) {
                    return Verdict.hold(readOnly, Reason.of(ReasonCode.SWITCHOVER_DRAINING, "to " + to));
                }
                // The target is on this primary's line (checked above), so its position is comparable; a directly
                // streaming target's flush is fresher in our own pg_stat_replication than in its session.
                WalPosition targetFlush = pg.replicas().getOrDefault(to, targetPg.flush());
                if (targetFlush.isAtLeast(pg.current())) {
                    return Verdict.hold(new PostgresTarget.Stopped(), Reason.of(ReasonCode.SWITCHOVER_STOPPING,
                            "target " + to + " flushed " + targetFlush));
                }
                return Verdict.hold(readOnly, Reason.of(ReasonCode.SWITCHOVER_WAITING_FOR_TARGET,
                        to + " flushed " + targetFlush + " of " + pg.current()));
            }
            case STOPPED: {
                WalPosition end = pg.cleanShutdownAt();
                if (end == null) {
                    return abandon(s, "postgres stopped without a clean shutdown");
                }
                if (targetPg.timeline() == pg.timeline() && targetPg.flush().isAtLeast(end)) {
                    ClusterState next = handOver(s, to, end);
                    Reason reason = Reason.of(ReasonCode.SWITCHOVER, "to " + to + " at " + end + ", requested by "
                            + request.requestedBy() + "; sync " + next.sync() + ", asyncs " + next.asyncs());
                    return Verdict.write(s.propose(next, reason), new PostgresTarget.Stopped());
                }
                return Verdict.hold(new PostgresTarget.Stopped(), Reason.of(ReasonCode.SWITCHOVER_WAITING_FOR_TARGET,
                        to + " flushed " + targetPg.flush() + " on timeline " + targetPg.timeline() + " of " + end
                                + " on timeline " + pg.timeline()));
            }
            default:
                return abandon(s, "this primary's postgres is " + pg.state());
        }
    }

    private static Optional<MemberId> target(Situation s, SwitchoverRequest request) {
        if (request.to() != null) {
            return Optional.of(request.to());
        }
        MemberId sync = s.state.sync();
        if (sync != null && s.isHealthyStandby(sync)) {
            return Optional.of(sync);
        }
        return SyncCandidates.successor(s, s.self, s.liveAsyncs());
    }

    private static String invalidTarget(Situation s, MemberId target) {
        if (target.equals(s.self)) {
            return target + " is already the primary";
        }
        Role role = s.state.roleOf(target);
        if (role != Role.SYNC && role != Role.ASYNC) {
            return target + " is " + role.label() + ", not a replica";
        }
        if (!s.live(target)) {
            return target + " has no live session";
        }
        if (!s.isHealthyStandby(target)) {
            return target + "'s postgres is not a healthy standby";
        }
        if (s.local.state() == PgState.PRIMARY && !SyncCandidates.onLineOf(s, s.self, target)) {
            return target + " does not stream from this primary's line";
        }
        return null;
    }

    private static Verdict abandon(Situation s, String why) {
        ClusterState next = s.state.toBuilder().switchover(null).build();
        Reason reason = Reason.of(ReasonCode.SWITCHOVER_ABANDONED, why);
        return Verdict.write(s.propose(next, reason), PrimaryRules.primaryTarget(s, true));
    }

    /**
     * The target leads. Its sync is the old sync when the target was an async (the old sync streamed from this
     * primary and flushed its shutdown checkpoint, so its WAL ends where the target's new timeline starts),
     * else a replica streaming from the target, else this node, whose WAL ends at that same point.
     */
    private static ClusterState handOver(Situation s, MemberId target, WalPosition end) {
        ClusterState st = s.state;
        List<MemberId> others = new ArrayList<>(s.liveAsyncs());
        others.remove(target);
        MemberId sync;
        if (st.sync() != null && !st.sync().equals(target) && s.isHealthyStandby(st.sync())
                && s.flushOf(st.sync()).equals(end)) {
            sync = st.sync();
        } else {
            sync = SyncCandidates.successor(s, target, others).orElse(s.self);
        }
        List<MemberId> asyncs = new ArrayList<>(others);
        asyncs.remove(sync);
        if (!sync.equals(s.self)) {
            asyncs.add(s.self);
        }
        return st.toBuilder().nextGeneration(end).primary(target).sync(sync).asyncs(asyncs).switchover(null).build();
    }
}
