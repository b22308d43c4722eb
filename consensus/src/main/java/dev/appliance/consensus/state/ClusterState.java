package dev.appliance.consensus.state;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The one document the cluster agrees on: who is primary, who is the synchronous replica, who are the
 * asyncs, which former primaries must be rebuilt before they serve again, and the WAL position the
 * generation started at. It changes only by compare-and-set, and a new generation starts whenever the
 * primary or the sync changes.
 *
 * @param generation  increases by one whenever the primary or the sync changes
 * @param primary     the member whose postgres accepts writes in this generation
 * @param sync        the member that must flush every commit before it is acknowledged; null in singleton mode,
 *                    and when a two-node cluster runs degraded ({@code allowTwoNodeFailover})
 * @param asyncs      the other live replicas, in the order the primary listed them
 * @param deposed     former primaries waiting for a rewind or re-clone
 * @param initWal     the primary's WAL position when it declared this generation; the sync may take over
 *                    only once it has replayed at least this far
 * @param frozen      set while an operator has frozen the topology
 * @param singleton   one-node mode: the primary acknowledges commits on its own
 * @param switchover  a pending planned switchover, if any
 */
public record ClusterState(
        long generation,
        MemberId primary,
        MemberId sync,
        List<MemberId> asyncs,
        List<DeposedMember> deposed,
        WalPosition initWal,
        Freeze frozen,
        boolean singleton,
        SwitchoverRequest switchover) {

    public ClusterState {
        if (generation < 1) {
            throw new IllegalArgumentException("generation must be at least 1, got " + generation);
        }
        Objects.requireNonNull(primary, "a cluster state names its primary");
        Objects.requireNonNull(initWal, "a cluster state names its initWal");
        asyncs = List.copyOf(Objects.requireNonNull(asyncs, "asyncs (use an empty list)"));
        deposed = List.copyOf(Objects.requireNonNull(deposed, "deposed (use an empty list)"));
        Set<MemberId> seen = new HashSet<>();
        seen.add(primary);
        if (sync != null && !seen.add(sync)) {
            throw new IllegalArgumentException("member " + sync + " cannot be both primary and sync");
        }
        for (MemberId async : asyncs) {
            if (!seen.add(async)) {
                throw new IllegalArgumentException("member " + async + " holds more than one place in the cluster state");
            }
        }
        for (DeposedMember d : deposed) {
            if (!seen.add(d.id())) {
                throw new IllegalArgumentException("member " + d.id() + " is deposed and also holds another place");
            }
            if (d.generation() > generation) {
                throw new IllegalArgumentException("member " + d.id() + " is deposed in generation " + d.generation()
                        + ", after the state's generation " + generation);
            }
        }
        if (singleton && (sync != null || !asyncs.isEmpty())) {
            throw new IllegalArgumentException("a singleton cluster has no sync and no asyncs");
        }
    }

    /** The state a new cluster starts from. */
    public static ClusterState initial(MemberId primary, MemberId sync, List<MemberId> asyncs, WalPosition initWal) {
        return new ClusterState(1, primary, sync, asyncs, List.of(), initWal, null, false, null);
    }

    /** The state a new single-node cluster starts from. */
    public static ClusterState initialSingleton(MemberId primary, WalPosition initWal) {
        return new ClusterState(1, primary, null, List.of(), List.of(), initWal, null, true, null);
    }

    public Role roleOf(MemberId member) {
        if (primary.equals(member)) {
            return Role.PRIMARY;
        }
        if (member.equals(sync)) {
            return Role.SYNC;
        }
        if (isDeposed(member)) {
            return Role.DEPOSED;
        }
        if (asyncs.contains(member)) {
            return Role.ASYNC;
        }
        return Role.UNASSIGNED;
    }

    public boolean isFrozen() {
        return frozen != null;
    }

    public boolean isDeposed(MemberId member) {
        return deposedEntry(member).isPresent();
    }

    public Optional<DeposedMember> deposedEntry(MemberId member) {
        return deposed.stream().filter(d -> d.id().equals(member)).findFirst();
    }

    public Set<MemberId> deposedIds() {
        return deposed.stream().map(DeposedMember::id).collect(Collectors.toUnmodifiableSet());
    }

    /** Every member the state mentions, in a stable order: primary, sync, asyncs, deposed. */
    public List<MemberId> members() {
        List<MemberId> all = new ArrayList<>();
        all.add(primary);
        if (sync != null) {
            all.add(sync);
        }
        all.addAll(asyncs);
        deposed.forEach(d -> all.add(d.id()));
        return List.copyOf(all);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builds the next state from this one; the record's constructor checks the result. */
    public static final class Builder {
        private long generation;
        private MemberId primary;
        private MemberId sync;
        private List<MemberId> asyncs;
        private List<DeposedMember> deposed;
        private WalPosition initWal;
        private Freeze frozen;
        private boolean singleton;
        private SwitchoverRequest switchover;

        private Builder(ClusterState s) {
            generation = s.generation;
            primary = s.primary;
            sync = s.sync;
            asyncs = s.asyncs;
            deposed = s.deposed;
            initWal = s.initWal;
            frozen = s.frozen;
            singleton = s.singleton;
            switchover = s.switchover;
        }

        /** Starts the next generation: a new primary or sync always comes with a new generation and initWal. */
        public Builder nextGeneration(WalPosition newInitWal) {
            generation = generation + 1;
            initWal = newInitWal;
            return this;
        }

        public Builder primary(MemberId v) { primary = v; return this; }
        public Builder sync(MemberId v) { sync = v; return this; }
        public Builder asyncs(List<MemberId> v) { asyncs = v; return this; }
        public Builder deposed(List<DeposedMember> v) { deposed = v; return this; }
        public Builder frozen(Freeze v) { frozen = v; return this; }
        public Builder singleton(boolean v) { singleton = v; return this; }
        public Builder switchover(SwitchoverRequest v) { switchover = v; return this; }

        public ClusterState build() {
            return new ClusterState(generation, primary, sync, asyncs, deposed, initWal, frozen, singleton, switchover);
        }
    }
}
