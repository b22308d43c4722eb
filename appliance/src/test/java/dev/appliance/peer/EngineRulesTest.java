package dev.appliance.peer;

import static dev.appliance.peer.Expect.all;
import static dev.appliance.peer.Expect.expectedVersion;
import static dev.appliance.peer.Expect.fenced;
import static dev.appliance.peer.Expect.holds;
import static dev.appliance.peer.Expect.postgres;
import static dev.appliance.peer.Expect.resigns;
import static dev.appliance.peer.Expect.routable;
import static dev.appliance.peer.Expect.when;
import static dev.appliance.peer.Expect.writes;
import static dev.appliance.peer.Fixture.at;
import static dev.appliance.peer.Fixture.detachedPg;
import static dev.appliance.peer.Fixture.id;
import static dev.appliance.peer.Fixture.ids;
import static dev.appliance.peer.Fixture.lsn;
import static dev.appliance.peer.Fixture.noDataPg;
import static dev.appliance.peer.Fixture.primaryPg;
import static dev.appliance.peer.Fixture.standbyPg;
import static dev.appliance.peer.Fixture.state;
import static dev.appliance.peer.Fixture.stoppedPg;
import static dev.appliance.peer.ReasonCode.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.Expect.Case;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** One table per rule of DESIGN.md §3; each case is a sentence about what the rule promises. */
class EngineRulesTest {

    /** A rule's table: its cases come from the static {@code cases()} of the implementing class. */
    interface RuleTable {
        @ParameterizedTest(name = "{0}")
        @MethodSource("cases")
        default void rule(Case c) {
            c.run();
        }
    }

    private static final PostgresTarget STOPPED = new PostgresTarget.Stopped();

    private static PostgresTarget.Primary primary(boolean writable, String... required) {
        return new PostgresTarget.Primary(ids(required), writable);
    }

    private static PostgresTarget.Standby standbyOf(String upstream) {
        return new PostgresTarget.Standby(id(upstream));
    }

    @Nested
    class Bootstrap implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("bootstrap: the smallest id initializes its database before anything is written",
                    at("n1").local(noDataPg()).liveNoData("n2").liveNoData("n3"),
                    all(holds(INITIALIZING), postgres(new PostgresTarget.Initialize()))),
                when("bootstrap: once initialized it creates generation 1 with the others as sync and asyncs",
                    at("n1").local(stoppedPg(40).pristine()).liveNoData("n2").liveNoData("n3"),
                    all(writes(BOOTSTRAP, s -> {
                        assertEquals(1, s.generation());
                        assertEquals(id("n1"), s.primary());
                        assertEquals(id("n2"), s.sync());
                        assertEquals(List.of(id("n3")), s.asyncs());
                        assertEquals(lsn(40), s.initWal());
                    }), expectedVersion(0), postgres(STOPPED))),
                when("bootstrap: normal mode waits for a second member",
                    at("n1").local(noDataPg()),
                    holds(BOOTSTRAP_WAITING_FOR_PEERS)),
                when("bootstrap: the other members wait for the creator",
                    at("n2").local(noDataPg()).liveNoData("n1"),
                    all(holds(BOOTSTRAP_WAITING_FOR_MEMBER), postgres(STOPPED))),
                when("bootstrap: the one member holding data creates the cluster around it, whatever its id",
                    at("n3").local(stoppedPg(900)).liveNoData("n1").liveNoData("n2"),
                    writes(BOOTSTRAP, s -> {
                        assertEquals(id("n3"), s.primary());
                        assertEquals(lsn(900), s.initWal());
                    })),
                when("bootstrap: with several members holding data nobody proceeds",
                    at("n1").local(stoppedPg(900)).live("n2", stoppedPg(800)),
                    holds(BOOTSTRAP_AMBIGUOUS_DATA)),
                when("bootstrap: a pristine initdb does not count as data against the member holding data",
                    at("n2").local(stoppedPg(900)).live("n1", stoppedPg(40).pristine()),
                    writes(BOOTSTRAP, s -> assertEquals(id("n2"), s.primary()))),
                when("bootstrap: nothing before this node's own session is live",
                    at("n1").local(stoppedPg(40).pristine()).liveNoData("n2").selfSessionExpired(),
                    holds(WAITING_FOR_SESSION)),
                when("bootstrap: singleton mode starts alone",
                    at("n1").settings(EngineSettings.defaults().withSingleton(true)).local(stoppedPg(40).pristine()),
                    writes(BOOTSTRAP, s -> {
                        assertTrue(s.singleton());
                        assertNull(s.sync());
                    })));
        }
    }

    @Nested
    class Singleton implements RuleTable {
        static Stream<Case> cases() {
            EngineSettings singleton = EngineSettings.defaults().withSingleton(true);
            return Stream.of(
                when("singleton: the primary acknowledges commits on its own and is routable",
                    at("n1").settings(singleton).state(state().singleton()).local(primaryPg(100)),
                    all(holds(PRIMARY_STEADY), postgres(primary(true)), routable(true))),
                when("singleton: other members follow the primary, unlisted",
                    at("n2").state(state().singleton()).local(standbyPg("n1", 100)).live("n1", primaryPg(100)),
                    all(holds(FOLLOWING), postgres(standbyOf("n1")))),
                when("singleton: a dead primary is never replaced (there is no sync)",
                    at("n2").state(state().singleton()).local(standbyPg("n1", 100)),
                    all(holds(FOLLOWING), postgres(standbyOf("n1")))),
                when("singleton upgrade: a primary no longer configured singleton first requires the new sync",
                    at("n1").state(state().singleton()).local(primaryPg(100).replica("n2", 100)).live("n2", standbyPg("n1", 100))
                            .dwelt("n2"),
                    all(holds(SINGLETON_UPGRADE_PREPARING), postgres(primary(true, "n2")))),
                when("singleton upgrade: then it writes g+1 naming that sync, initWal read after the requirement",
                    at("n1").state(state().singleton()).local(primaryPg(120).required("n2").replica("n2", 100).replica("n3", 100))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n1", 100)).dwelt("n2", "n3"),
                    writes(SINGLETON_UPGRADE, s -> {
                        assertEquals(2, s.generation());
                        assertEquals(id("n2"), s.sync());
                        assertEquals(List.of(id("n3")), s.asyncs());
                        assertEquals(lsn(120), s.initWal());
                    })),
                when("singleton upgrade: waits for a replica that has streamed long enough",
                    at("n1").state(state().singleton()).local(primaryPg(100)).live("n2", standbyPg("n1", 100)),
                    holds(SINGLETON_WAITING_FOR_REPLICA)));
        }
    }

    @Nested
    class Freeze implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("freeze: the sync does not take over a dead primary",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").frozen("maintenance"))
                            .local(standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    holds(TAKEOVER_REFUSED_FROZEN)),
                when("freeze: the primary does not replace a dead sync",
                    at("n1").state(state().gen(3).sync("n2").asyncs("n3").frozen("maintenance"))
                            .local(primaryPg(100).required("n2")).live("n3", standbyPg("n2", 100)).dwelt("n3"),
                    all(holds(FROZEN), postgres(primary(true, "n2")))),
                when("freeze: the primary does not edit the async list",
                    at("n1").state(state().gen(3).sync("n2").asyncs("n3").frozen("maintenance"))
                            .local(primaryPg(100).required("n2")).live("n2", standbyPg("n1", 100))
                            .live("n4", standbyPg("n2", 100)),
                    holds(FROZEN)),
                when("freeze: a pending switchover waits",
                    at("n1").state(state().gen(3).sync("n2").frozen("maintenance").switchoverTo("n2"))
                            .local(primaryPg(100).required("n2")).live("n2", standbyPg("n1", 100)),
                    all(holds(FROZEN), postgres(primary(true, "n2")))));
        }
    }

    @Nested
    class R1AsyncList implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("R1 a new live member joins the asyncs at the end, in id order",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2"))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100))
                            .live("n5", noDataPg()).live("n4", noDataPg()),
                    all(writes(ASYNCS_UPDATED, s -> {
                        assertEquals(List.of(id("n3"), id("n4"), id("n5")), s.asyncs());
                        assertEquals(2, s.generation());
                    }), expectedVersion(10))),
                when("R1 an async without a live session is dropped, the others keep their order",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3", "n4", "n5")).local(primaryPg(100).required("n2"))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)).live("n5", standbyPg("n2", 100)),
                    writes(ASYNCS_UPDATED, s -> assertEquals(List.of(id("n3"), id("n5")), s.asyncs()))),
                when("R1 a deposed member rebuilt for its generation rejoins as an async",
                    at("n2").state(state().gen(3).primary("n2").sync("n3").deposed("n1", 3))
                            .local(primaryPg(100).required("n3")).live("n3", standbyPg("n2", 100))
                            .live("n1", standbyPg("n3", 90).rebuiltFor(3)),
                    writes(ASYNCS_UPDATED, s -> {
                        assertEquals(List.of(id("n1")), s.asyncs());
                        assertTrue(s.deposed().isEmpty());
                    })),
                when("R1 a deposed member not yet rebuilt for its generation stays deposed",
                    at("n2").state(state().gen(3).primary("n2").sync("n3").deposed("n1", 3))
                            .local(primaryPg(100).required("n3")).live("n3", standbyPg("n2", 100))
                            .live("n1", standbyPg("n3", 90).rebuiltFor(2)),
                    holds(PRIMARY_STEADY)),
                when("R1 nothing changes when the list already matches",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2"))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    all(holds(PRIMARY_STEADY), postgres(primary(true, "n2")))),
                when("R1 only the primary edits the asyncs: a sync seeing a new member writes nothing",
                    at("n2").state(state().gen(2).sync("n2")).local(standbyPg("n1", 100))
                            .live("n1", primaryPg(100)).live("n3", noDataPg()),
                    holds(FOLLOWING)),
                when("R1 only the primary edits the asyncs: an async seeing a dead async writes nothing",
                    at("n3").state(state().gen(2).sync("n2").asyncs("n3", "n4")).local(standbyPg("n2", 100))
                            .live("n1", primaryPg(100)).live("n2", standbyPg("n1", 100)),
                    holds(FOLLOWING)));
        }
    }

    @Nested
    class R1SyncReplacement implements RuleTable {
        static Stream<Case> cases() {
            EngineSettings twoNode = EngineSettings.defaults().withAllowTwoNodeFailover(true);
            return Stream.of(
                when("R1 a dead sync: the primary first requires both the old and the new sync",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3", "n4"))
                            .local(primaryPg(100).required("n2").replica("n3", 90).replica("n4", 95))
                            .live("n3", standbyPg("n2", 90)).live("n4", standbyPg("n2", 95)).dwelt("n3", "n4"),
                    all(holds(SYNC_REPLACEMENT_PREPARING), postgres(primary(true, "n2", "n4")))),
                when("R1 a dead sync: once both are required it writes g+1 with initWal = current position",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3", "n4"))
                            .local(primaryPg(130).required("n2", "n4").replica("n3", 90).replica("n4", 95))
                            .live("n3", standbyPg("n2", 90)).live("n4", standbyPg("n2", 95)).dwelt("n3", "n4"),
                    all(writes(SYNC_REPLACED, s -> {
                        assertEquals(3, s.generation());
                        assertEquals(id("n1"), s.primary());
                        assertEquals(id("n4"), s.sync());
                        assertEquals(List.of(id("n3")), s.asyncs());
                        assertEquals(lsn(130), s.initWal());
                    }), postgres(primary(true, "n2", "n4")))),
                when("R1 a dead sync: an async that has not streamed for syncDwell is not a candidate",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2").replica("n3", 100))
                            .live("n3", standbyPg("n2", 100)),
                    all(holds(NO_ELIGIBLE_SYNC), postgres(primary(true, "n2")))),
                when("R1 a dead sync: an async lagging beyond maxSyncLag is not a candidate",
                    at("n1").settings(EngineSettings.defaults().withMaxSyncLagBytes(50)).state(state().gen(2).sync("n2")
                            .asyncs("n3")).local(primaryPg(1000).required("n2")).live("n3", standbyPg("n2", 100)).dwelt("n3"),
                    holds(NO_ELIGIBLE_SYNC)),
                when("R1 a dead sync: an async not observed streaming on the primary's line is not a candidate",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2"))
                            .live("n3", standbyPg("n2", 100)).dwelt("n3"),
                    holds(NO_ELIGIBLE_SYNC)),
                when("R1 an async streaming from a sync that streams from the primary is on the primary's line",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(120).required("n2").replica("n2", 80))
                            .live("n2", standbyPg("n1", 80)).live("n3", standbyPg("n2", 80)).dwelt("n3")
                            .memory(new EngineMemory.Builder().syncTracked(id("n2")).syncFlushSeen(lsn(80))
                                    .syncStuckSince(Fixture.T0).build()),
                    holds(SYNC_REPLACEMENT_PREPARING)),
                when("R1 a dead sync with no async: commits wait, nothing is written",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2")),
                    all(holds(NO_ELIGIBLE_SYNC), postgres(primary(true, "n2")))),
                when("R1 a dead sync with no async and allowTwoNodeFailover: dropped, still required until written",
                    at("n1").settings(twoNode).state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2")),
                    all(writes(SYNC_DROPPED, s -> {
                        assertNull(s.sync());
                        assertEquals(3, s.generation());
                    }), postgres(primary(true, "n2")))),
                when("R1 running without a sync, the primary takes an eligible async as sync again",
                    at("n1").state(state().gen(3).asyncs("n2")).local(primaryPg(100).replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).dwelt("n2"),
                    all(holds(SYNC_REPLACEMENT_PREPARING), postgres(primary(true, "n2")))),
                when("R1 a live sync is kept while it makes progress",
                    at("n1").state(state().gen(2).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)).dwelt("n3"),
                    holds(PRIMARY_STEADY)));
        }
    }

    @Nested
    class R1StuckSync {
        private Fixture.Input stuck(Duration stuckFor) {
            EngineMemory memory = new EngineMemory.Builder().syncTracked(id("n2")).syncFlushSeen(lsn(80))
                    .syncStuckSince(Fixture.T0.plusSeconds(100).minus(stuckFor)).build();
            return at("n1").state(state().gen(2).sync("n2").asyncs("n3"))
                    .local(primaryPg(100).required("n2").replica("n2", 80).replica("n3", 80))
                    .live("n2", standbyPg("n1", 80).notStreaming()).live("n3", standbyPg("n2", 80)).dwelt("n3")
                    .memory(memory);
        }

        @org.junit.jupiter.api.Test
        void r1_a_live_sync_stuck_behind_for_syncFailTimeout_is_replaced_and_stays_an_async() {
            Decision prepare = stuck(Duration.ofSeconds(3)).decide();
            holds(SYNC_REPLACEMENT_PREPARING).accept(prepare);
            Fixture.Input ready = stuck(Duration.ofSeconds(4))
                    .local(primaryPg(100).required("n2", "n3").replica("n2", 80).replica("n3", 80));
            writes(SYNC_REPLACED, s -> {
                assertEquals(id("n3"), s.sync());
                assertEquals(List.of(id("n2")), s.asyncs());
            }).accept(ready.decide());
        }

        @org.junit.jupiter.api.Test
        void r1_a_stuck_sync_is_not_replaced_before_syncFailTimeout() {
            Decision d = stuck(Duration.ofSeconds(1)).decide();
            holds(PRIMARY_STEADY).accept(d);
            assertTrue(d.recheckIn().compareTo(Duration.ofSeconds(2)) <= 0);
        }

        @org.junit.jupiter.api.Test
        void r1_a_sync_whose_flush_moves_is_not_stuck() {
            Decision d = stuck(Duration.ofSeconds(10)).local(primaryPg(100).required("n2").replica("n2", 90).replica("n3", 80))
                    .decide();
            holds(PRIMARY_STEADY).accept(d);
            assertNull(d.memory().syncStuckSince());
        }
    }

    @Nested
    class R2Takeover implements RuleTable {
        static Stream<Case> cases() {
            EngineSettings twoNode = EngineSettings.defaults().withAllowTwoNodeFailover(true);
            return Stream.of(
                when("R2 when the primary's session expired and replay >= initWal, the sync first detaches from it",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(standbyPg("n1", 150).replica("n3", 150)).live("n3", standbyPg("n2", 150)),
                    all(holds(TAKEOVER_DETACHING), postgres(new PostgresTarget.Detached()))),
                when("R2 once detached it writes g+1: itself primary, old primary deposed, initWal = all it flushed",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3", "n4").deposed("n0", 2).initWal(100))
                            .local(detachedPg(150).replay(120).replica("n3", 140).replica("n4", 150))
                            .live("n3", standbyPg("n2", 140))
                            .live("n4", standbyPg("n2", 150)),
                    all(writes(TAKEOVER, s -> {
                        assertEquals(4, s.generation());
                        assertEquals(id("n2"), s.primary());
                        assertEquals(id("n4"), s.sync());
                        assertEquals(List.of(id("n3")), s.asyncs());
                        assertEquals(List.of(new DeposedMember(id("n0"), 2), new DeposedMember(id("n1"), 4)), s.deposed());
                        assertEquals(lsn(150), s.initWal());
                    }), d -> assertEquals(Set.of(id("n1")), d.proposal().orElseThrow().requireExpired()))),
                when("R2 the sync does not promote before its write has committed",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(detachedPg(150).replica("n3", 150)).live("n3", standbyPg("n2", 150)),
                    postgres(new PostgresTarget.Detached())),
                when("R2 a detached sync re-attaches when the primary's session comes back",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(detachedPg(150)).live("n1", primaryPg(150)).live("n3", standbyPg("n2", 150)),
                    all(holds(FOLLOWING), postgres(standbyOf("n1")))),
                when("R2 once the state names it primary, the former sync promotes",
                    at("n2").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4).initWal(150))
                            .local(detachedPg(150)).live("n3", standbyPg("n2", 150)),
                    all(holds(PROMOTING), postgres(primary(true, "n3")), routable(false))),
                when("R2 no takeover while the primary's session is live",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(standbyPg("n1", 150).notStreaming()).live("n1", primaryPg(150)).live("n3", standbyPg("n2", 150)),
                    holds(FOLLOWING)),
                when("R2 no takeover before replaying initWal",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(standbyPg("n1", 120).replay(99).replica("n3", 99)).live("n3", standbyPg("n2", 99)),
                    holds(TAKEOVER_REFUSED_NOT_CAUGHT_UP)),
                when("R2 replay exactly at initWal is enough",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(detachedPg(100).replica("n3", 100)).live("n3", standbyPg("n2", 100)),
                    writes(TAKEOVER)),
                when("R2 a deposed member rebuilt from the sync while the primary was gone becomes its new sync",
                    at("n2").state(state().gen(3).sync("n2").deposed("n0", 3).initWal(100))
                            .local(detachedPg(150).replica("n0", 150)).live("n0", standbyPg("n2", 150).rebuiltFor(3)),
                    writes(TAKEOVER, s -> {
                        assertEquals(id("n0"), s.sync());
                        assertEquals(List.of(new DeposedMember(id("n1"), 4)), s.deposed());
                    })),
                when("R2 a deposed member not yet rebuilt for its generation is no successor",
                    at("n2").state(state().gen(3).sync("n2").deposed("n0", 3).initWal(100))
                            .local(detachedPg(150).replica("n0", 150)).live("n0", standbyPg("n2", 150).rebuiltFor(2)),
                    holds(TAKEOVER_REFUSED_NO_ASYNC)),
                when("R2 no takeover when no async could become the sync",
                    at("n2").state(state().gen(3).sync("n2").initWal(100)).local(standbyPg("n1", 150)),
                    holds(TAKEOVER_REFUSED_NO_ASYNC)),
                when("R2 a replica that does not stream from the sync cannot become its sync, so no takeover",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(detachedPg(150)).live("n3", standbyPg("n1", 160)),
                    holds(TAKEOVER_REFUSED_NO_ASYNC)),
                when("R2 a live unassigned standby streaming from the sync can become its sync",
                    at("n2").state(state().gen(3).sync("n2").initWal(100))
                            .local(detachedPg(150).replica("n5", 150)).live("n5", standbyPg("n2", 150)),
                    writes(TAKEOVER, s -> assertEquals(id("n5"), s.sync()))),
                when("R2 an async whose postgres is not a running standby does not count as a successor",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(standbyPg("n1", 150)).live("n3", noDataPg()),
                    holds(TAKEOVER_REFUSED_NO_ASYNC)),
                when("R2 with allowTwoNodeFailover the sync takes over alone",
                    at("n2").settings(twoNode).state(state().gen(3).sync("n2").initWal(100)).local(detachedPg(150)),
                    writes(TAKEOVER, s -> assertNull(s.sync()))),
                when("R2 a sync whose postgres is down cannot take over",
                    at("n2").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(stoppedPg(150)).live("n3", standbyPg("n2", 150)),
                    holds(TAKEOVER_REFUSED_NOT_RUNNING)),
                when("R2 an async never takes over, even caught up",
                    at("n3").state(state().gen(3).sync("n2").asyncs("n3").initWal(100))
                            .local(standbyPg("n2", 500)).live("n2", standbyPg("n1", 150)),
                    holds(FOLLOWING)),
                when("R2 a deposed member never takes over",
                    at("n0").state(state().gen(3).sync("n2").deposed("n0", 2).initWal(100))
                            .local(standbyPg("n1", 500).rebuiltFor(2)).live("n2", standbyPg("n1", 150)),
                    holds(REJOIN_PENDING)),
                when("R2 an unassigned member never takes over",
                    at("n5").state(state().gen(3).sync("n2").initWal(100)).local(standbyPg("n2", 500))
                            .live("n2", standbyPg("n1", 150)),
                    holds(FOLLOWING)));
        }
    }

    @Nested
    class R2Resign {
        private Fixture.Input downFor(Duration down) {
            EngineMemory memory = new EngineMemory.Builder().pgDownSince(Fixture.T0.plusSeconds(100).minus(down)).build();
            return at("n1").state(state().gen(3).sync("n2").asyncs("n3").initWal(100)).local(stoppedPg(200))
                    .live("n2", standbyPg("n1", 200).replica("n3", 200)).live("n3", standbyPg("n2", 200)).memory(memory);
        }

        @org.junit.jupiter.api.Test
        void r2_a_primary_restarts_its_crashed_postgres_first() {
            Decision d = downFor(Duration.ofSeconds(1)).decide();
            all(holds(PRIMARY_RESTARTING), postgres(primary(true, "n2")), resigns(false)).accept(d);
        }

        @org.junit.jupiter.api.Test
        void r2_a_primary_whose_postgres_stays_down_resigns_when_the_sync_can_take_over() {
            all(holds(PRIMARY_RESIGNED), resigns(true), postgres(STOPPED)).accept(downFor(Duration.ofSeconds(5)).decide());
        }

        @org.junit.jupiter.api.Test
        void r2_a_primary_does_not_resign_when_the_sync_could_not_take_over() {
            Decision d = downFor(Duration.ofSeconds(60)).live("n2", standbyPg("n1", 90).replica("n3", 90)).decide();
            all(holds(PRIMARY_RESTARTING), resigns(false)).accept(d);
        }

        @org.junit.jupiter.api.Test
        void r2_a_primary_without_its_data_never_reinitializes_empty() {
            Decision d = at("n1").state(state().gen(1).sync("n2")).local(noDataPg()).live("n2", standbyPg("n1", 0)).decide();
            all(holds(PRIMARY_DATA_MISSING), postgres(STOPPED)).accept(d);
        }

        @org.junit.jupiter.api.Test
        void r2_a_resigned_primary_stays_resigned_for_two_ttl_then_tries_again() {
            Decision first = downFor(Duration.ofSeconds(5)).decide();
            Fixture.Input later = downFor(Duration.ofSeconds(5)).memory(first.memory());
            assertTrue(later.decide().resign());
            Decision expired = downFor(Duration.ofSeconds(5)).memory(first.memory())
                    .now(Fixture.T0.plusSeconds(107)).decide();
            assertTrue(expired.resign(), "re-resigns at once: the sync can still take over");
            assertEquals(Fixture.T0.plusSeconds(107), expired.memory().resignedAt());
        }
    }

    @Nested
    class R3SyncRequired implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("R3 the primary requires exactly the sync of the current generation",
                    at("n1").state(state().gen(5).sync("n3").asyncs("n2")).local(primaryPg(100).required("n2"))
                            .live("n3", standbyPg("n1", 100)).live("n2", standbyPg("n3", 100)),
                    postgres(primary(true, "n3"))),
                when("R3 a prepared replacement that is no longer needed goes back to the agreed sync",
                    at("n1").state(state().gen(5).sync("n2").asyncs("n3")).local(primaryPg(100).required("n2", "n3").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    postgres(primary(true, "n2"))));
        }
    }

    @Nested
    class R4Fencing implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("R4 a primary whose last confirmed renewal is ttl - margin old fences: read-only, not routable",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).confirmedAgo(Duration.ofSeconds(2)),
                    all(holds(VIEW_STALE), fenced(true), routable(false), postgres(primary(false, "n2")))),
                when("R4 a sync with a stale view does not take over",
                    at("n2").state(state().gen(2).sync("n2").asyncs("n3").initWal(10)).local(standbyPg("n1", 100))
                            .live("n3", standbyPg("n2", 100)).confirmedAgo(Duration.ofSeconds(5)),
                    all(holds(VIEW_STALE), fenced(true))),
                when("R4 a primary that reaches no majority keeps serving while its lease lasts (a Raft election "
                        + "must not cut its clients)",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).noMajority(),
                    all(fenced(false), routable(true), postgres(primary(true, "n2")))),
                when("R4 a node that reaches no majority proposes nothing",
                    at("n2").state(state().gen(2).sync("n2").asyncs("n3").initWal(10)).local(standbyPg("n1", 100))
                            .live("n3", standbyPg("n2", 100)).noMajority(),
                    all(fenced(false), d -> assertTrue(d.proposal().isEmpty(), () -> "proposed "
                            + d.proposal().get().reason().summary()))),
                when("R4 a node whose copy of the state is behind its latest confirmed renewal stays fenced "
                        + "(a healed partition: it may have been deposed meanwhile)",
                    at("n1").state(state().gen(1).sync("n2")).local(primaryPg(100).required("n2"))
                            .live("n2", standbyPg("n1", 100)).catchingUp(),
                    all(holds(VIEW_STALE), fenced(true), routable(false), postgres(primary(false, "n2")))),
                when("R4 a node that reaches no majority fences once its lease runs out",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2"))
                            .live("n2", standbyPg("n1", 100)).noMajority().confirmedAgo(Duration.ofSeconds(2)),
                    all(holds(VIEW_STALE), fenced(true), postgres(primary(false, "n2")))),
                when("R4 a node whose session was never confirmed does not bootstrap",
                    at("n1").local(stoppedPg(40).pristine()).liveNoData("n2").neverConfirmed(),
                    all(holds(VIEW_STALE), fenced(true))),
                when("R4 a fresh view is not fenced, and the engine wakes before it would go stale",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(100).required("n2").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).confirmedAgo(Duration.ofMillis(1800)),
                    all(fenced(false), routable(true),
                        d -> assertEquals(Duration.ofMillis(200), d.recheckIn()))));
        }
    }

    @Nested
    class R5Deposed implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("R5 a deposed primary rewinds from the new primary before it follows",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4))
                            .local(Fixture.primaryPg(200)).live("n2", primaryPg(180)).live("n3", standbyPg("n2", 180)),
                    all(holds(REWINDING), postgres(new PostgresTarget.Rewind(id("n2"), id("n3"), 4)))),
                when("R5 a deposed primary whose rewind failed is re-cloned from a healthy replica",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4))
                            .local(stoppedPg(200).rewindFailed()).live("n2", primaryPg(180)).live("n3", standbyPg("n2", 180)),
                    all(holds(RECLONING), postgres(new PostgresTarget.Clone(id("n3"), id("n3"), 4)))),
                when("R5 a deposed primary rebuilt for its generation follows and waits to be listed",
                    at("n1").state(state().gen(5).primary("n2").sync("n3").deposed("n1", 4))
                            .local(standbyPg("n3", 170).rebuiltFor(4)).live("n2", primaryPg(180)).live("n3", standbyPg("n2", 180)),
                    all(holds(REJOIN_PENDING), postgres(standbyOf("n3")))),
                when("R5 a rebuild done before the deposing generation does not count",
                    at("n1").state(state().gen(5).primary("n2").sync("n3").deposed("n1", 5))
                            .local(stoppedPg(170).rebuiltFor(4)).live("n2", primaryPg(180)).live("n3", standbyPg("n2", 180)),
                    holds(REWINDING)),
                when("R5 while the primary is gone, a deposed member rewinds from the sync, which it then follows",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4))
                            .local(primaryPg(200)).live("n3", standbyPg("n2", 180)),
                    all(holds(REWINDING), postgres(new PostgresTarget.Rewind(id("n3"), id("n3"), 4)))),
                when("R5 while the primary is gone, a deposed member whose rewind failed is re-cloned from the sync",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4))
                            .local(stoppedPg(200).rewindFailed()).live("n3", standbyPg("n2", 180)),
                    all(holds(RECLONING), postgres(new PostgresTarget.Clone(id("n3"), id("n3"), 4)))),
                when("R5 a deposed member waits, stopped, with neither a live primary nor a standby sync to rewind from",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").deposed("n1", 4))
                            .local(primaryPg(200)).live("n3", stoppedPg(180)),
                    all(holds(DEPOSED_WAITING_FOR_PRIMARY), postgres(STOPPED))),
                when("R5 a listed replica whose postgres runs as a primary is rewound, never followed as is",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(primaryPg(200)).live("n2", primaryPg(180)).live("n4", standbyPg("n2", 180)),
                    holds(REWINDING)),
                when("R5 a replica whose WAL left the upstream's history is rewound",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(standbyPg("n4", 200).diverged()).live("n2", primaryPg(180)).live("n4", standbyPg("n2", 180)),
                    all(holds(REWINDING), postgres(new PostgresTarget.Rewind(id("n2"), id("n4"), 4)))),
                when("R5 a replica without data clones from a healthy sync, not the primary",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(noDataPg()).live("n2", primaryPg(180)).live("n4", standbyPg("n2", 180)),
                    all(holds(CLONING), postgres(new PostgresTarget.Clone(id("n4"), id("n4"), 4)))),
                when("R5 an async whose upstream lacks the WAL it needs next (an upstream cloned after it) is re-cloned",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(standbyPg("n4", 100).upstreamLacksWal()).live("n2", primaryPg(180))
                            .live("n4", standbyPg("n2", 180)),
                    all(holds(RECLONING), postgres(new PostgresTarget.Clone(id("n4"), id("n4"), 4)))),
                when("R5 the re-clone holds once postgres is stopped for it (it stops before it clones)",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(stoppedPg(100).upstreamLacksWal()).live("n2", primaryPg(180))
                            .live("n4", standbyPg("n2", 180)),
                    all(holds(RECLONING), postgres(new PostgresTarget.Clone(id("n4"), id("n4"), 4)))),
                when("R5 an async an operator asked to rebuild is re-cloned, though its data could follow",
                    at("n3").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(standbyPg("n4", 180).rebuildRequested()).live("n2", primaryPg(180))
                            .live("n4", standbyPg("n2", 180)),
                    all(holds(REBUILDING), postgres(new PostgresTarget.Clone(id("n4"), id("n4"), 4)))),
                when("R5 a sync keeps a rebuild request until it is an async: re-cloning would stall every commit",
                    at("n4").state(state().gen(4).primary("n2").sync("n4").asyncs("n3"))
                            .local(standbyPg("n2", 180).rebuildRequested()).live("n2", primaryPg(180))
                            .live("n3", standbyPg("n2", 180)),
                    all(holds(FOLLOWING), postgres(standbyOf("n2")))),
                when("R5 the old sync returning after its replacement is unassigned and follows until listed",
                    at("n2").state(state().gen(3).primary("n1").sync("n3")).local(stoppedPg(100))
                            .live("n1", primaryPg(150)).live("n3", standbyPg("n1", 150)),
                    all(holds(FOLLOWING), postgres(standbyOf("n3")))));
        }
    }

    @Nested
    class R6Gate implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("R6 a restarted primary is not routable until the sync flushed past its end of WAL at start",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(200).required("n2").servingSince(180)
                            .replica("n2", 170)).live("n2", standbyPg("n1", 170)),
                    all(holds(PRIMARY_STEADY), routable(false), postgres(primary(true, "n2")))),
                when("R6 the gate opens once the sync flushed that far",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(200).required("n2").servingSince(180)
                            .replica("n2", 180)).live("n2", standbyPg("n1", 180)),
                    all(routable(true), d -> assertEquals(lsn(180), d.memory().gateOpenFor()))),
                when("R6 once open for a start the gate stays open while the sync reconnects",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(200).required("n2").servingSince(180))
                            .live("n2", standbyPg("n1", 180))
                            .memory(new EngineMemory.Builder().gateOpenFor(lsn(180)).build()),
                    routable(true)),
                when("R6 a read-only primary is never routable",
                    at("n1").state(state().gen(2).sync("n2")).local(primaryPg(200).required("n2").readOnly()
                            .replica("n2", 200)).live("n2", standbyPg("n1", 200)),
                    routable(false)));
        }
    }

    @Nested
    class R7Switchover implements RuleTable {
        static Stream<Case> cases() {
            Fixture.StateBuilder toSync = state().gen(3).sync("n2").asyncs("n3").switchoverTo("n2");
            return Stream.of(
                when("R7 switchover: the primary first drains (read-only, not routable)",
                    at("n1").state(toSync).local(primaryPg(100).required("n2").replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    all(holds(SWITCHOVER_DRAINING), postgres(primary(false, "n2")), routable(false))),
                when("R7 switchover: it waits for the target to flush everything",
                    at("n1").state(toSync).local(primaryPg(100).required("n2").readOnly().replica("n2", 90))
                            .live("n2", standbyPg("n1", 90)).live("n3", standbyPg("n2", 90)),
                    holds(SWITCHOVER_WAITING_FOR_TARGET)),
                when("R7 switchover: then stops postgres cleanly",
                    at("n1").state(toSync).local(primaryPg(100).required("n2").readOnly().replica("n2", 100))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    all(holds(SWITCHOVER_STOPPING), postgres(STOPPED))),
                when("R7 switchover: once the target flushed the shutdown position it writes g+1; nobody is deposed",
                    at("n1").state(toSync).local(stoppedPg(100).cleanShutdownAt(104))
                            .live("n2", standbyPg("n1", 104).replica("n3", 104)).live("n3", standbyPg("n2", 104)).dwelt("n3"),
                    all(writes(SWITCHOVER, s -> {
                        assertEquals(4, s.generation());
                        assertEquals(id("n2"), s.primary());
                        assertEquals(id("n3"), s.sync());
                        assertEquals(List.of(id("n1")), s.asyncs());
                        assertTrue(s.deposed().isEmpty());
                        assertNull(s.switchover());
                        assertEquals(WalPosition.of(104), s.initWal());
                    }), postgres(STOPPED))),
                when("R7 switchover: not before the target has the shutdown checkpoint",
                    at("n1").state(toSync).local(stoppedPg(100).cleanShutdownAt(104))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100)),
                    holds(SWITCHOVER_WAITING_FOR_TARGET)),
                when("R7 switchover to an async keeps the live sync, which re-points to the new primary",
                    at("n1").state(state().gen(3).sync("n2").asyncs("n3").switchoverTo("n3"))
                            .local(stoppedPg(100).cleanShutdownAt(104))
                            .live("n2", standbyPg("n1", 104)).live("n3", standbyPg("n2", 104)),
                    writes(SWITCHOVER, s -> {
                        assertEquals(id("n3"), s.primary());
                        assertEquals(id("n2"), s.sync());
                        assertEquals(List.of(id("n1")), s.asyncs());
                    })),
                when("R7 switchover in a two-node cluster makes the old primary the sync",
                    at("n1").state(state().gen(3).sync("n2").switchoverTo(null)).local(stoppedPg(100).cleanShutdownAt(104))
                            .live("n2", standbyPg("n1", 104)),
                    writes(SWITCHOVER, s -> {
                        assertEquals(id("n2"), s.primary());
                        assertEquals(id("n1"), s.sync());
                    })),
                when("R7 switchover to a member that is not a replica is abandoned and cleared",
                    at("n1").state(state().gen(3).sync("n2").deposed("n9", 2).switchoverTo("n9"))
                            .local(primaryPg(100).required("n2")).live("n2", standbyPg("n1", 100)).live("n9", stoppedPg(90)),
                    all(writes(SWITCHOVER_ABANDONED, s -> assertNull(s.switchover())), postgres(primary(true, "n2")))),
                when("R7 switchover that takes longer than switchoverTimeout is abandoned; the primary resumes",
                    at("n1").state(toSync).local(stoppedPg(100).cleanShutdownAt(104))
                            .live("n2", standbyPg("n1", 100)).live("n3", standbyPg("n2", 100))
                            .memory(new EngineMemory.Builder().switchoverRequestedAt(Fixture.T0)
                                    .switchoverSeenAt(Fixture.T0.plusSeconds(60)).build()),
                    all(writes(SWITCHOVER_ABANDONED), postgres(primary(true, "n2")))),
                when("R7 the target promotes when the new generation names it",
                    at("n2").state(state().gen(4).primary("n2").sync("n3").asyncs("n1")).local(standbyPg("n1", 104))
                            .live("n3", standbyPg("n2", 104)).live("n1", stoppedPg(104)),
                    all(holds(PROMOTING), postgres(primary(true, "n3")))),
                when("R7 the old primary follows the new timeline as a replica, without a rebuild",
                    at("n1").state(state().gen(4).primary("n2").sync("n3").asyncs("n1")).local(stoppedPg(104).cleanShutdownAt(104))
                            .live("n2", primaryPg(110)).live("n3", standbyPg("n2", 110)),
                    all(holds(FOLLOWING), postgres(standbyOf("n3")))));
        }
    }

    @Nested
    class Topology implements RuleTable {
        static Stream<Case> cases() {
            return Stream.of(
                when("topology: the sync streams from the primary",
                    at("n2").state(state().gen(2).sync("n2").asyncs("n3")).local(standbyPg("n1", 100))
                            .live("n1", primaryPg(100)).live("n3", standbyPg("n2", 100)),
                    postgres(standbyOf("n1"))),
                when("topology: asyncs stream from the sync (cascading), so none is ever ahead of it",
                    at("n3").state(state().gen(2).sync("n2").asyncs("n3")).local(standbyPg("n2", 100))
                            .live("n1", primaryPg(100)).live("n2", standbyPg("n1", 100)),
                    postgres(standbyOf("n2"))),
                when("topology: asyncs stream from the primary while the sync has no session, so they can catch up",
                    at("n3").state(state().gen(2).sync("n2").asyncs("n3")).local(standbyPg("n2", 100))
                            .live("n1", primaryPg(100)),
                    postgres(standbyOf("n1"))));
        }
    }
}
