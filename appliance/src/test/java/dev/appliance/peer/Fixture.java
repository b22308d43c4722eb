package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.Freeze;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.SwitchoverRequest;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.state.WalPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Builders that keep an engine table case to a few lines. */
final class Fixture {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Fixture() {
    }

    static MemberId id(String v) {
        return MemberId.of(v);
    }

    static Set<MemberId> ids(String... v) {
        return Arrays.stream(v).map(MemberId::of).collect(Collectors.toSet());
    }

    static WalPosition lsn(long v) {
        return WalPosition.of(v);
    }

    static StateBuilder state() {
        return new StateBuilder();
    }

    static Pg primaryPg(long current) {
        return new Pg(PgObservation.primary(lsn(current), Set.of(), Map.of()).toBuilder());
    }

    static Pg standbyPg(String upstream, long flushAndReplay) {
        return new Pg(PgObservation.standby(id(upstream), lsn(flushAndReplay), lsn(flushAndReplay)).toBuilder());
    }

    /** A standby that receives from nobody: a sync that has detached before taking over. */
    static Pg detachedPg(long flushAndReplay) {
        return new Pg(PgObservation.standby(id("n1"), lsn(flushAndReplay), lsn(flushAndReplay)).toBuilder()
                .upstream(null).streaming(false));
    }

    static Pg stoppedPg(long at) {
        return new Pg(PgObservation.stopped(lsn(at)).toBuilder());
    }

    static Pg noDataPg() {
        return new Pg(PgObservation.noData().toBuilder());
    }

    static Input at(String self) {
        return new Input(self);
    }

    static final class StateBuilder {
        private long generation = 1;
        private String primary = "n1";
        private String sync;
        private final List<String> asyncs = new ArrayList<>();
        private final List<DeposedMember> deposed = new ArrayList<>();
        private long initWal;
        private Freeze frozen;
        private boolean singleton;
        private SwitchoverRequest switchover;

        StateBuilder gen(long v) { generation = v; return this; }
        StateBuilder primary(String v) { primary = v; return this; }
        StateBuilder sync(String v) { sync = v; return this; }
        StateBuilder asyncs(String... v) { asyncs.addAll(List.of(v)); return this; }
        StateBuilder deposed(String member, long inGeneration) { deposed.add(new DeposedMember(id(member), inGeneration)); return this; }
        StateBuilder initWal(long v) { initWal = v; return this; }
        StateBuilder frozen(String reason) { frozen = new Freeze(reason, T0); return this; }
        StateBuilder singleton() { singleton = true; return this; }
        StateBuilder switchoverTo(String to) {
            switchover = new SwitchoverRequest(to == null ? null : id(to), T0, "test");
            return this;
        }

        ClusterState build() {
            return new ClusterState(generation, id(primary), sync == null ? null : id(sync),
                    asyncs.stream().map(MemberId::of).toList(), deposed, lsn(initWal), frozen, singleton, switchover);
        }
    }

    /** A postgres observation under construction. */
    static final class Pg {
        final PgObservation.Builder b;
        private final Map<MemberId, WalPosition> replicas = new TreeMap<>();

        Pg(PgObservation.Builder b) {
            this.b = b;
        }

        Pg required(String... members) { b.syncRequired(ids(members)); return this; }
        Pg replica(String member, long flush) { replicas.put(id(member), lsn(flush)); b.replicas(replicas); return this; }
        Pg flush(long v) { b.flush(lsn(v)).current(lsn(v)); return this; }
        Pg replay(long v) { b.replay(lsn(v)); return this; }
        Pg current(long v) { b.current(lsn(v)); return this; }
        Pg notStreaming() { b.streaming(false); return this; }
        Pg readOnly() { b.writable(false); return this; }
        Pg servingSince(long v) { b.servingSince(lsn(v)); return this; }
        Pg diverged() { b.diverged(true); return this; }
        Pg rewindFailed() { b.rewindFailed(true); return this; }
        Pg rebuiltFor(long generation) { b.rebuiltForGeneration(generation); return this; }
        Pg cleanShutdownAt(long v) { b.cleanShutdownAt(lsn(v)); return this; }
        Pg pristine() { b.pristine(true); return this; }
        Pg rebuildRequested() { b.rebuildRequested(true); return this; }
        Pg upstreamLacksWal() { b.upstreamLacksWal(true).streaming(false); return this; }
        Pg runningAsPrimary() { b.state(PgState.PRIMARY).writable(true); return this; }

        PgObservation build() {
            return b.build();
        }
    }

    /** One engine input under construction; by default this node's session is live and its view fresh. */
    static final class Input {
        private final MemberId self;
        private EngineSettings settings = EngineSettings.defaults();
        private ClusterState state;
        private long version = 10;
        private final Map<MemberId, PgObservation> sessions = new LinkedHashMap<>();
        private PgObservation local = PgObservation.noData();
        private boolean selfLive = true;
        private Instant now = T0.plusSeconds(100);
        private Instant confirmedAt;
        private boolean majority = true;
        private boolean caughtUp = true;
        private EngineMemory memory = EngineMemory.EMPTY;
        private final Map<MemberId, Instant> healthySince = new TreeMap<>();
        private boolean confirmedNever;

        Input(String self) {
            this.self = id(self);
        }

        Input state(StateBuilder v) { state = v.build(); return this; }
        Input version(long v) { version = v; return this; }
        Input settings(EngineSettings v) { settings = v; return this; }
        Input local(Pg v) { local = v.build(); return this; }
        Input live(String member, Pg pg) { sessions.put(id(member), pg.build()); return this; }
        Input liveNoData(String member) { sessions.put(id(member), PgObservation.noData()); return this; }
        Input selfSessionExpired() { selfLive = false; return this; }
        Input now(Instant v) { now = v; return this; }
        Input confirmedAgo(Duration v) { confirmedAt = now.minus(v); return this; }
        Input neverConfirmed() { confirmedNever = true; return this; }
        Input noMajority() { majority = false; return this; }

        Input catchingUp() { caughtUp = false; return this; }
        Input memory(EngineMemory v) { memory = v; return this; }
        /** Marks members as streaming under the lag limit long enough to be sync candidates. */
        Input dwelt(String... members) {
            for (String m : members) {
                healthySince.put(id(m), now.minus(settings.syncDwell()).minusSeconds(1));
            }
            return this;
        }

        EngineInput build() {
            Map<MemberId, MemberStatus> live = new TreeMap<>();
            sessions.forEach((m, pg) -> live.put(m, MemberStatus.of(pg)));
            if (selfLive) {
                live.put(self, MemberStatus.of(local));
            }
            Instant confirmed = confirmedNever ? null : confirmedAt != null ? confirmedAt : now.minusMillis(100);
            Map<MemberId, Instant> healthy = new TreeMap<>(memory.healthySince());
            healthy.putAll(healthySince);
            EngineMemory mem = memory.toBuilder().healthySince(healthy).build();
            Versioned<ClusterState> versioned = state == null ? null : new Versioned<>(version, state);
            return new EngineInput(self, settings, versioned, live, local, new ViewHealth(confirmed, majority, caughtUp), mem, now);
        }

        Decision decide() {
            return new Engine().decide(build());
        }
    }
}
