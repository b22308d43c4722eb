package dev.appliance.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.peer.Engine;
import dev.appliance.sim.Explorer;
import dev.appliance.sim.Outcome;
import dev.appliance.sim.Scenario;
import dev.appliance.sim.Simulation;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Explores the failover protocol in the deterministic simulation, or replays one schedule. */
@Command(name = "simulate",
        mixinStandardHelpOptions = true,
        description = {
            "Explores the failover protocol in the deterministic simulation.",
            "",
            "Runs the decision engine on 2-5 simulated nodes through seeded random",
            "schedules of crashes, partitions, stalls, pauses, freezes and switchovers,",
            "checking after every step that no acknowledged commit is lost and no two",
            "primaries serve one generation. Exit code 0 when no invariant broke, 1 when",
            "one did; the failing schedule is printed shrunk, with a line that replays it."})
final class SimulateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--schedules", defaultValue = "2000", description = "How many schedules to explore (default ${DEFAULT-VALUE}).")
    int schedules;

    @Option(names = "--seed", defaultValue = "1", description = "The base seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--replay", paramLabel = "SCENARIO",
            description = "Replay one schedule, given as the line a failure printed or as a schedule seed, with its trace.")
    String replay;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (replay != null) {
            return replay(out);
        }
        if (schedules < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--schedules must be at least 1");
        }
        Explorer.Report report = Explorer.explore(seed, schedules, new Engine(), 1, done -> {
            err.printf("%d of %d schedules%n", done, schedules);
            err.flush();
        });
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode node = mapper.createObjectNode();
            node.put("schedules", report.schedules());
            node.put("steps", report.steps());
            node.put("decisions", report.decisions());
            node.put("acknowledged", report.acknowledged());
            node.put("violations", report.violations());
            node.put("seed", report.baseSeed());
            node.put("seconds", report.elapsed().toMillis() / 1000.0);
            node.set("events", mapper.valueToTree(report.events()));
            report.failures().forEach(f -> node.put("failure", f.shrunk().format()));
            out.println(node);
        } else {
            report.failures().forEach(f -> out.println(f.describe()));
            out.println(report.summary());
            out.printf("base seed %d, %d engine decisions, %d acknowledged commits, %.1f s%n", report.baseSeed(),
                    report.decisions(), report.acknowledged(), report.elapsed().toMillis() / 1000.0);
            out.println("exercised: " + report.coverage());
        }
        return report.violations() == 0 ? 0 : 1;
    }

    private int replay(PrintWriter out) {
        Scenario scenario;
        try {
            scenario = replay.trim().matches("-?\\d+") ? Scenario.generate(Long.parseLong(replay.trim()))
                    : Scenario.parse(replay);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--replay: " + e.getMessage() + " (pass the 'replay the shrunk schedule' line a failure printed)");
        }
        Outcome outcome = Simulation.run(scenario, new Engine(), true);
        outcome.trace().forEach(out::println);
        out.println("scenario: " + scenario.format());
        out.println(outcome.violations().isEmpty() ? "no violation" : "violations: " + outcome.violations());
        return outcome.violations().isEmpty() ? 0 : 1;
    }
}
