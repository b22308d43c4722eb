package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.node.Daemon;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code appliance node ...}: this machine's daemon. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Runs this machine's daemon; rebuilds or removes a member.",
        subcommands = {NodeCommand.Start.class, NodeCommand.Config.class, NodeCommand.Add.class, NodeCommand.Rebuild.class,
            NodeCommand.Remove.class})
final class NodeCommand {

    @Command(name = "config", mixinStandardHelpOptions = true,
            description = "Prints a configuration file with every setting, its default and its meaning.")
    static final class Config implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(dev.appliance.config.Settings.template());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {
                "Runs the node daemon in the foreground, logging to stdout.",
                "",
                "Settings come from the file, then from APPLIANCE_* environment variables, which win;",
                "docs/configuration.md lists them all. A bad configuration is refused, with every",
                "problem listed, before anything is touched. SIGTERM (or POST /stop) leaves cleanly:",
                "a primary hands over to its sync first."})
    static final class Start implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "The node's configuration file.")
        Path config;

        @Override
        public Integer call() throws Exception {
            return Daemon.run(config, System.getenv(), new PrintStream(System.err, true));
        }
    }

    /** A member's entry in GET /cluster, or a failure naming the members there are. */
    static JsonNode member(JsonNode cluster, String id) {
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (JsonNode m : cluster.path("members")) {
            if (m.path("id").asText().equals(id)) {
                return m;
            }
            ids.add(m.path("id").asText());
        }
        throw new Cli.Failure("no member " + id + " in this cluster (members: " + String.join(", ", ids) + ")");
    }

    @Command(name = "rebuild", mixinStandardHelpOptions = true,
            description = {
                "Replaces a replica's data directory with a fresh clone of the primary (the old one is kept as "
                        + "pgdata.replaced until the next clone). For a replica whose data is suspect. Not for the primary "
                        + "(switch over first) or the sync. Waits until it serves again unless --no-wait."})
    static final class Rebuild extends ApiCommand {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "ID", description = "The member to rebuild.")
        String id;

        @Option(names = "--no-wait", description = "Return once the member has the request.")
        boolean noWait;

        @Option(names = "--timeout", defaultValue = "3600", description = "Seconds to wait. Default ${DEFAULT-VALUE}.")
        int timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            dev.appliance.api.ApiClient api = target.client();
            JsonNode m = member(Cli.require(api.get("/cluster")), id);
            String memberApi = m.path("api").asText();
            JsonNode r;
            try {
                r = Cli.require(api.at(java.util.List.of(memberApi)).post("/rebuild", null));
            } catch (java.io.IOException down) {
                throw new Cli.Failure(id + "'s daemon does not answer at " + memberApi + " (" + down.getMessage()
                        + "); a member rebuilds itself, so start it first");
            }
            java.io.PrintWriter w = out();
            w.println(r.path("result").asText());
            w.flush();
            if (noWait) {
                return 0;
            }
            long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
            String last = "";
            boolean started = false;    // the member has published the request (or stopped postgres for it)
            while (System.nanoTime() < deadline) {
                JsonNode now;
                try {
                    now = member(api.get("/cluster").body(), id);
                } catch (java.io.IOException | Cli.Failure busy) {
                    Thread.sleep(250);
                    continue;
                }
                JsonNode pg = now.path("pg");
                String state = pg.path("state").asText("?");
                boolean requested = pg.path("rebuildRequested").asBoolean(false);
                started |= requested || !state.equals("standby");
                if (!state.equals(last)) {
                    w.println("  " + id + ": postgres " + state);
                    w.flush();
                    last = state;
                }
                if (started && !requested && now.path("healthy").asBoolean()) {
                    w.println(id + " is rebuilt and serves again as " + now.path("role").asText());
                    w.flush();
                    return 0;
                }
                Thread.sleep(250);
            }
            throw new Cli.Failure(id + " did not finish its rebuild within " + timeoutSeconds + " s; see "
                    + "'appliance cluster status' and its log");
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {
                "Adds a member to the running cluster, voting (the default) or not. Start its daemon first with",
                "join = true (APPLIANCE_JOIN=true) and peers naming the members it will have; it waits to be added.",
                "Once added it registers, and the cluster makes it an async, which clones the primary.",
                "To replace a dead member by a new one of the same id on a fresh volume: 'node remove ID', then",
                "start the new one with join = true, then 'node add ID'."})
    static final class Add extends ApiCommand {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "ID", description = "The new member's id (its node.id).")
        String id;

        @Option(names = "--host", required = true, description = "The address the other members reach it at (its host).")
        String host;

        @Option(names = "--raft-port", paramLabel = "PORT", description = "Its raft.port (default 7000).")
        int raftPort = 7000;

        @Option(names = "--non-voting", description = "A listener: it follows the log and can hold a role, but does "
                + "not vote, so it does not change how many failures the group tolerates.")
        boolean nonVoting;

        @Override
        public Integer call() throws Exception {
            if (!dev.appliance.consensus.state.MemberId.isValid(id)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "'" + id + "' is not a member id: "
                        + "1-63 of a-z, 0-9, '-', '_'");
            }
            dev.appliance.api.ApiClient api = target.client();
            com.fasterxml.jackson.databind.node.ObjectNode body = dev.appliance.api.ApiClient.JSON.createObjectNode()
                    .put("id", id).put("host", host).put("raftPort", raftPort).put("voting", !nonVoting);
            say(Cli.require(api.post("/members", body)).path("result").asText());
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {
                "Removes a member for good: its role, its Raft vote and its registry entry (its data directory is "
                        + "left alone). Stop its daemon first. Not for the primary or the sync: the cluster moves those "
                        + "roles away once the stopped member's session expires. Asks first unless --yes."})
    static final class Remove extends ApiCommand {
        @picocli.CommandLine.Parameters(index = "0", paramLabel = "ID", description = "The member to remove.")
        String id;

        @Option(names = {"-y", "--yes"}, description = "Do not ask.")
        boolean yes;

        @Override
        public Integer call() throws Exception {
            dev.appliance.api.ApiClient api = target.client();
            member(Cli.require(api.get("/cluster")), id);
            confirm(yes, "Removing " + id + " shrinks the Raft group, so fewer failures are tolerated until a member "
                    + "is added.", id);
            say(Cli.require(api.delete("/members/" + id)).path("result").asText());
            return 0;
        }
    }
}
