package dev.appliance.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.api.ApiClient;
import dev.appliance.jepsen.Drill;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code appliance drill KIND}: a failover drill on a live cluster, with writes and the lost-write check. */
@Command(name = "drill", mixinStandardHelpOptions = true,
        description = {
            "Runs a failover drill on a live, healthy cluster and checks that no acknowledged write was lost.",
            "",
            "  kill-primary       the primary crashes (daemon and postgres killed, no hand-over); its",
            "                     supervisor (systemd, Kubernetes, 'cluster up') must restart it",
            "  partition-primary  the primary is cut off from the other members (iptables; members on",
            "                     separate machines, the daemon as root)",
            "  switchover         a planned switchover to the sync",
            "",
            "Writes go through the leader route into a resource of its own ('drill', removed after) before,",
            "during and after the fault. It prints the downtime (the longest gap between acknowledged writes),",
            "the writes acknowledged and lost, and waits until the cluster is healthy again. Exit 0 only when",
            "nothing was lost and the cluster is healthy. Faults need 'drills = true' on the members."})
final class DrillCommand extends ApiCommand {
    @Parameters(index = "0", paramLabel = "KIND", completionCandidates = Kinds.class,
            description = "kill-primary, partition-primary or switchover.")
    String kind;

    @Option(names = "--before", paramLabel = "SECONDS", description = "Writes before the fault (default 5).")
    int before = 5;

    @Option(names = "--after", paramLabel = "SECONDS", description = "Writes after a new primary serves (default 10).")
    int after = 10;

    @Option(names = "--for", paramLabel = "SECONDS", description = "How long a partition lasts (default 10).")
    int faultSeconds = 10;

    @Option(names = "--heal-limit", paramLabel = "SECONDS",
            description = "How long to wait for the cluster to be healthy again (default 180).")
    int healLimit = 180;

    @Option(names = "--history", paramLabel = "FILE", description = "Also write every operation to FILE (JSONL).")
    Path history;

    @Option(names = "--json", description = "Print the outcome as JSON.")
    boolean json;

    static final class Kinds extends java.util.ArrayList<String> {
        Kinds() {
            super(Drill.KINDS);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (!Drill.KINDS.contains(kind)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "no drill '" + kind + "'; there are "
                    + String.join(", ", Drill.KINDS));
        }
        if (before < 1 || after < 1 || faultSeconds < 1 || faultSeconds > 300 || healLimit < 10) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--before and --after take at least 1 s, "
                    + "--for 1-300 s, --heal-limit at least 10 s");
        }
        ApiClient api = target.client();
        Drill.Outcome o;
        try {
            o = Drill.run(api, kind, new Drill.Timing(Duration.ofSeconds(before), Duration.ofSeconds(after), faultSeconds,
                    Duration.ofSeconds(healLimit)), history, line -> {
                        if (!json) {
                            say("drill " + kind + ": " + line);
                        }
                    });
        } catch (IllegalStateException e) {
            throw new Cli.Failure(e.getMessage());
        }
        boolean passed = o.valid() && o.lost() == 0 && o.healthy();
        if (json) {
            ObjectNode n = ApiClient.JSON.createObjectNode().put("drill", o.kind()).put("oldPrimary", o.oldPrimary())
                    .put("newPrimary", o.newPrimary()).put("downtimeMillis", o.downtimeMillis())
                    .put("acknowledged", o.acknowledged()).put("lost", o.lost()).put("valid", o.valid())
                    .put("healthy", o.healthy()).put("cluster", o.picture()).put("passed", passed);
            Cli.printJson(out(), n);
            out().flush();
        } else {
            say(String.format("drill %s: downtime %,d ms (the longest gap between acknowledged writes)", kind,
                    o.downtimeMillis()));
            say(String.format("  %,d writes acknowledged, %d lost%s", o.acknowledged(), o.lost(),
                    o.valid() ? "" : "; THE CHECKER FOUND A VIOLATION" + (history == null ? " (rerun with --history)" : "")));
            say("  " + (o.healthy() ? "healthy again: " : "NOT healthy within " + healLimit + " s: ") + o.picture());
            say(String.format("RESULT drill=%s downtime_ms=%d acknowledged=%d lost=%d healthy=%s", kind, o.downtimeMillis(),
                    o.acknowledged(), o.lost(), o.healthy()));
        }
        return passed ? 0 : 1;
    }
}
