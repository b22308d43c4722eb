package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One reading of a node's postgres. The supervisor reads {@code syncRequired} before {@code current}, so that
 * every commit acknowledged under an earlier setting lies at or below {@code current}; the engine relies on
 * that order when it records {@code initWal} for a new sync.
 *
 * @param state                 what postgres is doing
 * @param writable              a primary that accepts writes (not read-only)
 * @param upstream              a standby's configured upstream
 * @param streaming             a standby's WAL receiver is streaming from its upstream
 * @param timeline              the timeline postgres is on
 * @param current               a primary's current WAL position; a standby's flush position
 * @param flush                 WAL durably received (a primary: its current position)
 * @param replay                WAL replayed (a primary: its current position)
 * @param servingSince          a primary's end of WAL when it started or was promoted (the rule 6 gate)
 * @param syncRequired          the standbys that must all flush a commit before it is acknowledged, as read
 *                              back from {@code synchronous_standby_names}; empty when none is required
 * @param replicas              standbys streaming directly from this postgres, with their flush positions
 * @param diverged              following the upstream failed because this WAL is not in the upstream's history
 * @param rewindFailed          the last rewind failed; only a re-clone can rebuild this node now
 * @param rebuiltForGeneration  the generation under which the last rewind or clone completed (0: never)
 * @param cleanShutdownAt       the final WAL position of a clean shutdown, while postgres stays stopped
 * @param pristine              the data directory was made by initdb for a bootstrap and has never served
 * @param rebuildRequested      an operator asked for this node's data to be cloned afresh ({@code node rebuild})
 * @param upstreamLacksWal      the upstream refused to stream: the WAL this standby needs next is not there
 *                              (removed, or never there, as on an upstream cloned after this standby)
 */
public record PgObservation(
        PgState state,
        boolean writable,
        MemberId upstream,
        boolean streaming,
        long timeline,
        WalPosition current,
        WalPosition flush,
        WalPosition replay,
        WalPosition servingSince,
        Set<MemberId> syncRequired,
        Map<MemberId, WalPosition> replicas,
        boolean diverged,
        boolean rewindFailed,
        long rebuiltForGeneration,
        WalPosition cleanShutdownAt,
        boolean pristine,
        boolean rebuildRequested,
        boolean upstreamLacksWal) {

    public PgObservation {
        Objects.requireNonNull(state, "state");
        current = current == null ? WalPosition.ZERO : current;
        flush = flush == null ? WalPosition.ZERO : flush;
        replay = replay == null ? WalPosition.ZERO : replay;
        syncRequired = syncRequired == null ? Set.of() : Set.copyOf(syncRequired);
        replicas = replicas == null ? Map.of() : Map.copyOf(new TreeMap<>(replicas));
    }

    public static PgObservation noData() {
        return builder(PgState.NO_DATA).build();
    }

    public static PgObservation stopped(WalPosition at) {
        return builder(PgState.STOPPED).timeline(1).current(at).flush(at).replay(at).build();
    }

    public static PgObservation primary(WalPosition current, Set<MemberId> syncRequired,
            Map<MemberId, WalPosition> replicas) {
        return builder(PgState.PRIMARY).writable(true).timeline(1).current(current).flush(current).replay(current)
                .servingSince(WalPosition.ZERO).syncRequired(syncRequired).replicas(replicas).build();
    }

    public static PgObservation standby(MemberId upstream, WalPosition flush, WalPosition replay) {
        return builder(PgState.STANDBY).upstream(upstream).streaming(true).timeline(1).current(flush).flush(flush)
                .replay(replay).build();
    }

    public static Builder builder(PgState state) {
        return new Builder(state);
    }

    public Builder toBuilder() {
        return new Builder(state).writable(writable).upstream(upstream).streaming(streaming).timeline(timeline)
                .current(current).flush(flush).replay(replay).servingSince(servingSince).syncRequired(syncRequired)
                .replicas(replicas).diverged(diverged).rewindFailed(rewindFailed)
                .rebuiltForGeneration(rebuiltForGeneration).cleanShutdownAt(cleanShutdownAt).pristine(pristine)
                .rebuildRequested(rebuildRequested).upstreamLacksWal(upstreamLacksWal);
    }

    public boolean hasData() {
        return state != PgState.NO_DATA;
    }

    public boolean isRunning() {
        return state == PgState.PRIMARY || state == PgState.STANDBY;
    }

    /** The furthest WAL position this postgres holds. */
    public WalPosition position() {
        return WalPosition.max(current, flush);
    }

    public static final class Builder {
        private PgState state;
        private boolean writable;
        private MemberId upstream;
        private boolean streaming;
        private long timeline;
        private WalPosition current;
        private WalPosition flush;
        private WalPosition replay;
        private WalPosition servingSince;
        private Set<MemberId> syncRequired;
        private Map<MemberId, WalPosition> replicas;
        private boolean diverged;
        private boolean rewindFailed;
        private long rebuiltForGeneration;
        private WalPosition cleanShutdownAt;
        private boolean pristine;
        private boolean rebuildRequested;
        private boolean upstreamLacksWal;

        private Builder(PgState state) {
            this.state = state;
        }

        public Builder state(PgState v) { state = v; return this; }
        public Builder writable(boolean v) { writable = v; return this; }
        public Builder upstream(MemberId v) { upstream = v; return this; }
        public Builder streaming(boolean v) { streaming = v; return this; }
        public Builder timeline(long v) { timeline = v; return this; }
        public Builder current(WalPosition v) { current = v; return this; }
        public Builder flush(WalPosition v) { flush = v; return this; }
        public Builder replay(WalPosition v) { replay = v; return this; }
        public Builder servingSince(WalPosition v) { servingSince = v; return this; }
        public Builder syncRequired(Set<MemberId> v) { syncRequired = v; return this; }
        public Builder replicas(Map<MemberId, WalPosition> v) { replicas = v; return this; }
        public Builder diverged(boolean v) { diverged = v; return this; }
        public Builder rewindFailed(boolean v) { rewindFailed = v; return this; }
        public Builder rebuiltForGeneration(long v) { rebuiltForGeneration = v; return this; }
        public Builder cleanShutdownAt(WalPosition v) { cleanShutdownAt = v; return this; }
        public Builder pristine(boolean v) { pristine = v; return this; }
        public Builder rebuildRequested(boolean v) { rebuildRequested = v; return this; }
        public Builder upstreamLacksWal(boolean v) { upstreamLacksWal = v; return this; }

        public PgObservation build() {
            return new PgObservation(state, writable, upstream, streaming, timeline, current, flush, replay,
                    servingSince, syncRequired, replicas, diverged, rewindFailed, rebuiltForGeneration,
                    cleanShutdownAt, pristine, rebuildRequested, upstreamLacksWal);
        }
    }
}
