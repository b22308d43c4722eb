package dev.appliance.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.peer.Engine;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Hand-written scenarios that read like a runbook. Each pins down one behaviour of the engine in the
 * simulated cluster; n1 creates the cluster (it registers first), with n2 as sync and n3 as async.
 */
class RunbookScenariosTest {

    /** The ending heals everything one second after the last op, so scenarios end with a harmless op. */
    private static Outcome run(String scenario) {
        Outcome o = Simulation.run(Scenario.parse(scenario), new Engine(), true);
        assertTrue(o.violations().isEmpty(), () -> String.join("\n", o.trace()) + "\n" + o.violations());
        return o;
    }

    private static String cluster(int nodes, String ops) {
        StringBuilder phases = new StringBuilder();
        for (int i = 0; i < nodes; i++) {
            phases.append(i == 0 ? "" : ",").append(i * 100);
        }
        return "nodes=" + nodes + ";phases=" + phases + ";ops=" + ops;
    }

    private static MemberId id(String v) {
        return MemberId.of(v);
    }

    private static long count(Outcome o, String event) {
        return o.events().getOrDefault(event, 0L);
    }

    private static boolean traced(Outcome o, String node, String text) {
        return o.trace().stream().anyMatch(l -> l.contains(" " + node + " ") && l.contains(text));
    }

    @Test
    void aQuietClusterFormsPrimarySyncAndAsyncAndAcknowledgesCommits() {
        Outcome o = run(cluster(3, "5000 leader-change"));
        ClusterState s = o.finalState();
        assertEquals(id("n1"), s.primary());
        assertEquals(id("n2"), s.sync());
        assertEquals(List.of(id("n3")), s.asyncs());
        assertEquals(1, s.generation());
        assertTrue(o.acknowledged() > 100, "acknowledged " + o.acknowledged());
    }

    @Test
    void killOfThePrimaryLetsTheSyncTakeOverAndTheOldPrimaryRejoinsAfterARewind() {
        Outcome o = run(cluster(3, "5000 kill n1,15000 restart n1"));
        ClusterState s = o.finalState();
        assertEquals(id("n2"), s.primary());
        assertEquals(id("n3"), s.sync(), "the async became the new sync");
        assertEquals(List.of(id("n1")), s.asyncs(), "the old primary rejoined as an async");
        assertTrue(s.deposed().isEmpty());
        assertEquals(1, count(o, "write takeover"));
        assertTrue(count(o, "rewind") >= 1, "the old primary was rewound: " + o.events());
        assertTrue(traced(o, "n2", "detaching from it before taking over"));
    }

    @Test
    void aPrimaryCutFromRaftFencesItselfAndTheSyncTakesOver() {
        Outcome o = run(cluster(3, "5000 cut-raft n1,15000 heal n1"));
        assertEquals(id("n2"), o.finalState().primary());
        assertTrue(count(o, "fenced primary") >= 1);
        assertTrue(traced(o, "n1", "fenced: this node's view of the cluster is stale"));
    }

    @Test
    void aFreezeBlocksTheTakeoverUntilUnfrozen() {
        Outcome o = run(cluster(3, "5000 freeze,6000 kill n1,12000 unfreeze"));
        assertTrue(traced(o, "n2", "the cluster is frozen"), "the sync refused while frozen");
        assertEquals(id("n2"), o.finalState().primary());
        assertFalse(o.finalState().isFrozen());
    }

    @Test
    void aPlannedSwitchoverHandsOverWithoutDeposingOrRebuildingAnyone() {
        Outcome o = run(cluster(3, "5000 switchover n2"));
        ClusterState s = o.finalState();
        assertEquals(id("n2"), s.primary());
        assertEquals(2, s.generation());
        assertTrue(s.deposed().isEmpty());
        assertTrue(s.asyncs().contains(id("n1")) || id("n1").equals(s.sync()));
        assertEquals(1, count(o, "write switchover"));
        assertEquals(0, count(o, "rewind"), "the old primary follows the new timeline without a rewind");
    }

    @Test
    void aTwoNodeClusterDoesNotFailOverByDefault() {
        Outcome o = run(cluster(2, "5000 kill n1") + ";ending=HEAL_ALL_BUT_PRIMARY");
        assertEquals(1, o.finalState().generation());
        assertTrue(traced(o, "n2", "no async could become the new sync"));
    }

    @Test
    void aTwoNodeClusterFailsOverWhenAllowed() {
        Outcome o = run(cluster(2, "5000 kill n1") + ";twoNode=true;ending=HEAL_ALL_BUT_PRIMARY");
        assertEquals(id("n2"), o.finalState().primary());
    }

    @Test
    void aPrimaryWhosePostgresStaysBrokenResignsAndTheSyncTakesOver() {
        Outcome o = run(cluster(3, "5000 break-pg n1,20000 leader-change"));
        assertTrue(traced(o, "n1", "resigned"));
        assertEquals(1, count(o, "write takeover"));
    }

    @Test
    void aPausedPrimaryFencesAsItWakesAndIsDeposed() {
        Outcome o = run(cluster(3, "5000 pause n1 6000,20000 leader-change"));
        assertTrue(traced(o, "n1", "fenced"));
        assertEquals(id("n2"), o.finalState().primary());
    }

    @Test
    void afterADoubleFaultTheDeposedPrimaryRewindsFromTheSyncWhichTakesOverWithIt() {
        // n1 dies and n2 takes over (n3 its sync); n2 dies too while n1 is down. When n1 returns it cannot rewind
        // from n2: it rewinds from the sync n3 and streams from it, so n3 can take over with n1 as its sync
        // without waiting for n2.
        Outcome o = run(cluster(3, "5000 kill n1,12000 kill n2,14000 restart n1") + ";ending=HEAL_ALL_BUT_PRIMARY");
        assertTrue(traced(o, "n1", "postgres: rewind from n3"), o.events().toString());
        assertEquals(id("n3"), o.finalState().primary(), o.finalState().toString());
        assertEquals(id("n1"), o.finalState().sync(), o.finalState().toString());
        assertEquals(2, count(o, "write takeover"), o.events().toString());
    }

    @Test
    void aDeadSyncIsReplacedByTheAsync() {
        Outcome o = run(cluster(3, "5000 kill n2,15000 leader-change"));
        assertEquals(1, count(o, "write sync-replaced"), o.events().toString());
    }

    @Test
    void aRunIsAPureFunctionOfItsScenario() {
        String scenario = cluster(4, "4000 isolate n1,6000 kill-pg n2,9000 heal n1,12000 switchover any");
        List<String> first = Simulation.run(Scenario.parse(scenario), new Engine(), true).trace();
        List<String> second = Simulation.run(Scenario.parse(scenario), new Engine(), true).trace();
        assertEquals(first, second);
    }

    @Test
    void scenariosRoundTripThroughTheirOneLineForm() {
        for (int i = 0; i < 200; i++) {
            Scenario s = Scenario.generate(Explorer.scheduleSeed(7, i));
            assertEquals(s, Scenario.parse(s.format()));
        }
    }

    @Test
    void badScenarioLinesAreRejectedWithTheReason() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Scenario.parse("nodes=3;phases=0,1,2;ops=100 explode n1"));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains("unknown op"), e.getMessage());
    }
}
