package dev.appliance.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.DecisionFunction;
import dev.appliance.peer.Engine;
import dev.appliance.peer.EngineInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The simulation catches protocol bugs: two mutants of the engine, each with one rule broken, are explored
 * like the real engine; each must be caught, with a seed and a shrunk schedule that replay the violation,
 * and the real engine must pass that same schedule.
 */
class MutantEnginesTest {
    private static final Engine REAL = new Engine();

    /** The takeover without its initWal check: the sync sees initWal 0/0 and so always counts as caught up. */
    static final DecisionFunction NO_INIT_WAL_CHECK = in -> {
        Versioned<ClusterState> st = in.state();
        if (st == null || st.value().roleOf(in.self()) != Role.SYNC) {
            return REAL.decide(in);
        }
        ClusterState blind = new ClusterState(st.value().generation(), st.value().primary(), st.value().sync(),
                st.value().asyncs(), st.value().deposed(), WalPosition.ZERO, st.value().frozen(), st.value().singleton(),
                st.value().switchover());
        return REAL.decide(with(in, new Versioned<>(st.version(), blind)));
    };

    /** An async that takes over: once the primary's session is gone, it believes it is the sync. */
    static final DecisionFunction ASYNC_TAKES_OVER = in -> {
        Versioned<ClusterState> st = in.state();
        if (st == null || st.value().roleOf(in.self()) != Role.ASYNC || st.value().sync() == null
                || in.sessions().containsKey(st.value().primary())) {
            return REAL.decide(in);
        }
        List<MemberId> asyncs = new ArrayList<>(st.value().asyncs());
        asyncs.set(asyncs.indexOf(in.self()), st.value().sync());
        ClusterState swapped = st.value().toBuilder().sync(in.self()).asyncs(asyncs).build();
        return REAL.decide(with(in, new Versioned<>(st.version(), swapped)));
    };

    private static EngineInput with(EngineInput in, Versioned<ClusterState> state) {
        return new EngineInput(in.self(), in.settings(), state, in.sessions(), in.local(), in.view(), in.memory(), in.now());
    }

    @Test
    void removingTheInitWalCheckIsCaught() {
        assertCaught("no initWal check", NO_INIT_WAL_CHECK, Set.of("legitimate-primary", "acknowledged-commits-survive"));
    }

    @Test
    void lettingAnAsyncTakeOverIsCaught() {
        assertCaught("an async takes over", ASYNC_TAKES_OVER,
                Set.of("legitimate-primary", "acknowledged-commits-survive"));
    }

    private static void assertCaught(String name, DecisionFunction mutant, Set<String> expected) {
        Explorer.Report report = Explorer.explore(11, 1500, mutant, 1, done -> { });
        assertTrue(report.violations() > 0, "the mutant went unnoticed: " + report.summary());
        Explorer.Failure failure = report.failures().get(0);
        System.out.println("mutant engine '" + name + "' was caught, as it must be (" + report.violations()
                + " of " + report.schedules() + " schedules):");
        System.out.println(failure.describe().replace("\n", "\n  | ").replaceFirst("^", "  | "));
        String invariant = failure.outcome().firstInvariant();
        assertTrue(expected.contains(invariant), "caught by " + invariant);

        Outcome replayOfSeed = Simulation.run(Scenario.generate(failure.seed()), mutant, false);
        assertEquals(failure.original(), replayOfSeed.scenario());
        assertTrue(replayOfSeed.failed(), "the printed seed replays the violation");

        Outcome replayOfLine = Simulation.run(Scenario.parse(failure.shrunk().format()), mutant, false);
        assertEquals(invariant, replayOfLine.firstInvariant(), "the printed shrunk line replays the violation");
        assertTrue(failure.shrunk().ops().size() <= failure.original().ops().size());

        Outcome real = Simulation.run(failure.shrunk(), REAL, false);
        assertTrue(real.violations().isEmpty(), "the real engine passes the same schedule: " + real.violations());
    }
}
