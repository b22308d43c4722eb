package dev.appliance.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.peer.Engine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The deterministic simulation over seeded random schedules. {@code -Dsim.schedules=N} sets how many
 * (default 2,000), {@code -Dsim.seed=S} the base seed (default 1), and {@code -Dsim.replay=...} replays one
 * scenario line (or one schedule seed) with its trace.
 */
class SimulationExplorationTest {

    @Test
    void seededSchedulesBreakNoInvariant() {
        int schedules = Integer.getInteger("sim.schedules", 2000);
        long seed = Long.getLong("sim.seed", 1L);
        Explorer.Report report = Explorer.explore(seed, schedules, new Engine(), 3,
                done -> System.out.printf("simulation: %d of %d schedules%n", done, schedules));
        System.out.println("simulation: " + report.summary() + " (base seed " + seed + ", "
                + report.decisions() + " engine decisions, " + report.acknowledged() + " acknowledged commits, "
                + String.format("%.1f s", report.elapsed().toMillis() / 1000.0) + ")");
        System.out.println("simulation coverage: " + report.coverage());
        report.failures().forEach(f -> System.out.println(f.describe()));
        assertEquals(schedules, report.schedules());
        assertEquals(0, report.violations(), () -> report.summary() + "\n" + report.failures().get(0).describe());
        assertTrue(report.events().getOrDefault("write takeover", 0L) > 0, "schedules must exercise takeovers");
        assertTrue(report.events().getOrDefault("write switchover", 0L) > 0, "schedules must exercise switchovers");
    }

    @Test
    @EnabledIfSystemProperty(named = "sim.replay", matches = ".+")
    void replay() {
        String replay = System.getProperty("sim.replay").trim();
        Scenario scenario = replay.matches("-?\\d+") ? Scenario.generate(Long.parseLong(replay)) : Scenario.parse(replay);
        Outcome outcome = Simulation.run(scenario, new Engine(), true);
        outcome.trace().forEach(System.out::println);
        System.out.println("scenario: " + scenario.format());
        System.out.println("violations: " + outcome.violations());
        assertTrue(outcome.violations().isEmpty(), () -> outcome.violations().toString());
    }
}
