package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The operator's writes to the agreed state: a planned switchover, and freezing automatic failover. */
final class OperatorCommands {
    private OperatorCommands() {
    }

    @Command(name = "switchover", mixinStandardHelpOptions = true,
            description = {
                "Hands the primary role to the sync (or to --to NODE) with no acknowledged commit lost: the "
                        + "primary stops taking writes, the target catches up, is promoted, and the old primary follows it."
                        + " Waits for it to finish unless --no-wait."})
    static final class Switchover extends ApiCommand {
        @Option(names = "--to", paramLabel = "NODE", description = "The replica to promote; default the sync.")
        String to;

        @Option(names = "--no-wait", description = "Return once the request is agreed.")
        boolean noWait;

        @Option(names = "--timeout", defaultValue = "60", description = "Seconds to wait for it. Default ${DEFAULT-VALUE}.")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            JsonNode before = Cli.require(api.get("/cluster"));
            String from = before.path("primary").asText();
            var body = ApiClient.JSON.createObjectNode();
            if (to != null) {
                body.put("to", to);
            }
            JsonNode r = Cli.require(api.post("/switchover", body));
            PrintWriter out = out();
            out.println(r.path("result").asText() + " (primary now " + from + ")");
            out.flush();
            if (noWait) {
                return 0;
            }
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            while (System.nanoTime() < deadline) {
                Thread.sleep(200);
                JsonNode now;
                try {
                    now = api.get("/cluster").body();
                } catch (java.io.IOException busy) {
                    continue;    // the answering node may be the one handing over
                }
                if (!now.has("switchover") && !now.path("primary").asText().equals(from)
                        && !now.path("primary").asText().isEmpty()) {
                    out.println("switchover done: primary " + now.path("primary").asText() + ", generation "
                            + now.path("generation").asLong());
                    out.flush();
                    return 0;
                }
                if (!now.has("switchover") && now.path("primary").asText().equals(from)) {
                    throw new Cli.Failure("the switchover was abandoned; " + from + " is still the primary. See why "
                            + "with: appliance cluster history");
                }
            }
            throw new Cli.Failure("the switchover did not finish within " + timeoutSeconds + " s; see "
                    + "'appliance cluster status' and 'appliance cluster history'");
        }
    }

    @Command(name = "freeze", mixinStandardHelpOptions = true,
            description = {
                "Stops automatic failover and switchovers (for maintenance): roles stay as they are until "
                        + "unfreeze. The primary keeps serving, still fenced by its lease."})
    static final class Freeze extends ApiCommand {
        @Option(names = "--reason", required = true, description = "Why; shown in status and history.")
        String reason;

        @Override
        public Integer call() throws Exception {
            if (reason.isBlank()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--reason must say why");
            }
            say(Cli.require(target.client().post("/freeze", ApiClient.JSON.createObjectNode().put("reason", reason)))
                    .path("result").asText());
            return 0;
        }
    }

    @Command(name = "unfreeze", mixinStandardHelpOptions = true, description = "Lets the cluster fail over on its own again.")
    static final class Unfreeze extends ApiCommand {
        @Override
        public Integer call() throws Exception {
            say(Cli.require(target.client().post("/unfreeze", null)).path("result").asText());
            return 0;
        }
    }
}
