package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.WalPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One decision's view of the input, with the helpers every rule needs and the memory the rules update.
 * It lives for a single call of {@link Engine#decide} and is never shared.
 */
final class Situation {
    final EngineInput in;
    final MemberId self;
    final EngineSettings settings;
    final ClusterState state;
    final long version;
    final PgObservation local;
    final Instant now;

    final Map<MemberId, Instant> healthySince;
    Instant pgDownSince;
    MemberId syncTracked;
    WalPosition syncFlushSeen;
    Instant syncStuckSince;
    long resignedInGeneration;
    Instant resignedAt;
    Instant switchoverRequestedAt;
    Instant switchoverSeenAt;
    WalPosition gateOpenFor;

    private Instant wakeAt;

    Situation(EngineInput in) {
        this.in = in;
        this.self = in.self();
        this.settings = in.settings();
        this.state = in.state() == null ? null : in.state().value();
        this.version = in.state() == null ? 0 : in.state().version();
        this.local = in.local();
        this.now = in.now();
        EngineMemory m = in.memory();
        this.healthySince = new TreeMap<>(m.healthySince());
        this.pgDownSince = m.pgDownSince();
        this.syncTracked = m.syncTracked();
        this.syncFlushSeen = m.syncFlushSeen();
        this.syncStuckSince = m.syncStuckSince();
        this.resignedInGeneration = m.resignedInGeneration();
        this.resignedAt = m.resignedAt();
        this.switchoverRequestedAt = m.switchoverRequestedAt();
        this.switchoverSeenAt = m.switchoverSeenAt();
        this.gateOpenFor = m.gateOpenFor();
    }

    EngineMemory memory() {
        return new EngineMemory.Builder().healthySince(healthySince).pgDownSince(pgDownSince).syncTracked(syncTracked)
                .syncFlushSeen(syncFlushSeen).syncStuckSince(syncStuckSince).resignedInGeneration(resignedInGeneration)
                .resignedAt(resignedAt).switchoverRequestedAt(switchoverRequestedAt).switchoverSeenAt(switchoverSeenAt)
                .gateOpenFor(gateOpenFor).build();
    }

    boolean live(MemberId member) {
        return member != null && in.sessions().containsKey(member);
    }

    /** The member's latest postgres observation: this node's own is read fresh, others' come from sessions. */
    Optional<PgObservation> pgOf(MemberId member) {
        if (self.equals(member)) {
            return Optional.of(local);
        }
        MemberStatus status = in.sessions().get(member);
        return status == null ? Optional.empty() : Optional.of(status.pg());
    }

    /** A live member running as a standby that has not diverged. */
    boolean isHealthyStandby(MemberId member) {
        return live(member) && pgOf(member).filter(pg -> pg.state() == PgState.STANDBY && !pg.diverged()).isPresent();
    }

    WalPosition flushOf(MemberId member) {
        return pgOf(member).map(PgObservation::flush).orElse(WalPosition.ZERO);
    }

    List<MemberId> liveAsyncs() {
        return state.asyncs().stream().filter(this::live).toList();
    }

    /** Live members the state does not place at all, in id order. */
    List<MemberId> liveUnassigned() {
        return in.sessions().keySet().stream().filter(m -> state.roleOf(m) == Role.UNASSIGNED)
                .sorted().toList();
    }

    /**
     * Replicas stream from the sync (cascading) while its postgres runs as a standby, else straight from the
     * primary, so a dead or broken sync never leaves them without WAL.
     */
    MemberId replicaUpstream() {
        return self.equals(state.sync()) ? state.primary() : Topology.cascadeSource(state, in.sessions());
    }

    /** A clone copies from a healthy replica when there is one, so the primary is spared the load. */
    MemberId cloneSource() {
        MemberId sync = state.sync();
        if (sync != null && !sync.equals(self) && isHealthyStandby(sync)) {
            return sync;
        }
        return state.primary();
    }

    /** The WAL position replicas are measured against: the primary's current position as best known. */
    WalPosition primaryPosition() {
        if (state != null && live(state.primary())) {
            return pgOf(state.primary()).map(PgObservation::position).orElse(WalPosition.ZERO);
        }
        WalPosition best = WalPosition.ZERO;
        for (MemberStatus status : in.sessions().values()) {
            best = WalPosition.max(best, status.pg().position());
        }
        return best;
    }

    Set<MemberId> requiredSyncs() {
        return state.sync() == null ? Set.of() : Set.of(state.sync());
    }

    boolean elapsed(Instant since, Duration duration) {
        return since != null && !now.isBefore(since.plus(duration));
    }

    void wakeAt(Instant at) {
        if (at != null && at.isAfter(now) && (wakeAt == null || at.isBefore(wakeAt))) {
            wakeAt = at;
        }
    }

    Duration recheckIn() {
        Duration heartbeat = settings.heartbeat();
        if (wakeAt == null) {
            return heartbeat;
        }
        Duration until = Duration.between(now, wakeAt);
        Duration floor = Duration.ofMillis(10);
        if (until.compareTo(floor) < 0) {
            return floor;
        }
        return until.compareTo(heartbeat) < 0 ? until : heartbeat;
    }

    Proposal propose(ClusterState next, Reason reason) {
        return new Proposal(version, next, reason, Set.of());
    }
}
