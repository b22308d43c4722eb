package dev.appliance.peer;

import dev.appliance.consensus.state.Role;
import java.time.Instant;
import java.util.Optional;

/**
 * The decision engine: a pure function from what one node knows (its id and settings, the agreed state and
 * its version, the live sessions with each member's latest observation, its own postgres, how fresh its
 * view is, its memory and the injected clock) to what it should do. It performs no I/O, starts no thread
 * and reads no clock; the node loop (or the simulation) carries its decisions out.
 *
 * <p>Each role has its own small set of rules ({@link BootstrapRules}, {@link PrimaryRules},
 * {@link SwitchoverRules}, {@link SyncRules}, {@link ReplicaRules}); on top of all of them sits rule 4,
 * self-fencing: a node whose view may be stale proposes nothing, stops routing, and as primary turns
 * read-only. docs/safety.md argues, rule by rule, why this keeps every acknowledged commit.
 */
public final class Engine implements DecisionFunction {

    @Override
    public Decision decide(EngineInput input) {
        Situation s = new Situation(input);
        SyncCandidates.track(s);
        Verdict verdict = s.state == null ? BootstrapRules.decide(s) : byRole(s);
        return fenceIfStale(s, verdict);
    }

    private static Verdict byRole(Situation s) {
        Role role = s.state.roleOf(s.self);
        switch (role) {
            case PRIMARY:
                return PrimaryRules.decide(s);
            case SYNC:
                return SyncRules.decide(s);
            case ASYNC:
                return ReplicaRules.async(s);
            case DEPOSED:
                return ReplicaRules.deposed(s);
            case UNASSIGNED:
                return ReplicaRules.unassigned(s);
            default:
                throw new IllegalStateException("unknown role " + role);
        }
    }

    /**
     * Rule 4. The store expires a session {@code ttl} after the leader applied its last renewal, and that
     * renewal was sent no earlier than {@code confirmedAt}; fencing at {@code confirmedAt + ttl - fenceMargin}
     * therefore happens before anyone can take this node's place, with {@code fenceMargin} to spare for
     * clock-rate drift and the time it takes to fence. A fresh lease alone is not enough after it lapsed (the
     * node was cut off): the renewal may be confirmed before the node's copy of the state shows what happened
     * meanwhile (it was deposed), so it also stays fenced until it has applied the log up to that renewal.
     */
    private static Decision fenceIfStale(Situation s, Verdict v) {
        ViewHealth view = s.in.view();
        Instant freshUntil = view.confirmedAt() == null ? null : view.confirmedAt().plus(s.settings.fenceAfter());
        boolean stale = freshUntil == null || !s.now.isBefore(freshUntil) || !view.caughtUp();
        if (!stale) {
            s.wakeAt(freshUntil);
            // Without a majority nothing can be written anyway; the lease alone decides fencing, so that a Raft
            // election (a leader's node dying, or leadership moved) never cuts the primary's clients.
            Optional<Proposal> proposal = view.majorityReachable() ? v.proposal() : Optional.empty();
            return new Decision(proposal, v.postgres(), false, v.routable(), v.resign(), s.recheckIn(),
                    v.reason(), s.memory());
        }
        PostgresTarget postgres = v.postgres();
        if (postgres instanceof PostgresTarget.Primary p) {
            postgres = new PostgresTarget.Primary(p.syncRequired(), false);
        }
        String why = freshUntil == null ? "no renewal confirmed yet"
                : !view.caughtUp() ? "its copy of the agreed state is behind its latest renewal; catching up"
                : "last confirmed renewal sent at " + view.confirmedAt();
        Reason reason = Reason.of(ReasonCode.VIEW_STALE, why + "; otherwise: " + v.reason().summary());
        return new Decision(Optional.empty(), postgres, true, false, v.resign(), s.recheckIn(), reason, s.memory());
    }
}
