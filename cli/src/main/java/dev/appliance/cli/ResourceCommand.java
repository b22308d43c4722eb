package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code appliance resource ...}: databases for applications. */
@Command(name = "resource", mixinStandardHelpOptions = true,
        description = "Databases for applications: each a database and a login role of its own, reached through the leader route.",
        subcommands = {ResourceCommand.Add.class, ResourceCommand.List.class, ResourceCommand.Remove.class})
final class ResourceCommand {
    static final String[] ENV = {"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "DATABASE_URL"};

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {
                "Creates a database and a login role with a generated password on the primary, and prints how to "
                        + "connect through the leader route (every member's proxy, so any surviving node will do). The "
                        + "resource is a row in the primary's database: it replicates and survives failover."})
    static final class Add extends ApiCommand {
        @Parameters(index = "0", paramLabel = "postgres", description = "The service; only postgres.")
        String service;

        @Option(names = "--id", description = "The resource's name (also its database and role); default generated.")
        String id;

        @Option(names = "--json", description = "Print the resource as JSON.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (!"postgres".equals(service)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "unknown service '" + service + "': the only service is postgres");
            }
            var body = ApiClient.JSON.createObjectNode().put("service", service);
            if (id != null) {
                body.put("id", id);
            }
            JsonNode r = Cli.require(target.client().post("/resources", body));
            PrintWriter out = out();
            if (json) {
                Cli.printJson(out, r);
            } else {
                out.println("Created resource " + r.path("id").asText());
                out.println();
                printEnv(out, r);
            }
            out.flush();
            return 0;
        }
    }

    static void printEnv(PrintWriter out, JsonNode r) {
        for (String k : ENV) {
            out.println(k + "=" + r.path("env").path(k).asText());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the resources.")
    static final class List extends ApiCommand {
        @Option(names = "--json", description = "Print the JSON document.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode all = Cli.require(target.client().get("/resources"));
            PrintWriter out = out();
            if (json) {
                Cli.printJson(out, all);
            } else if (all.path("resources").isEmpty()) {
                out.println("no resources; create one with: appliance resource add postgres");
            } else {
                String format = "%-16s %-10s %-16s %-26s %s%n";
                out.printf(format, "ID", "SERVICE", "DATABASE", "CREATED", "BY");
                for (JsonNode r : all.path("resources")) {
                    out.printf(format, r.path("id").asText(), r.path("service").asText(), r.path("database").asText(),
                            r.path("createdAt").asText(), r.path("createdBy").asText());
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Drops a resource's database (ending its sessions) and role. Asks first unless --yes.")
    static final class Remove extends ApiCommand {
        @Parameters(index = "0", paramLabel = "ID", description = "The resource (see 'resource list').")
        String id;

        @Option(names = {"-y", "--yes"}, description = "Do not ask.")
        boolean yes;

        @Override
        public Integer call() throws Exception {
            ApiClient api = target.client();
            Cli.require(api.get("/resources/" + id));    // an unknown id fails here, before any question
            confirm(yes, "This drops database " + id + " and every row in it.", id);
            say(Cli.require(api.delete("/resources/" + id)).path("result").asText());
            return 0;
        }
    }
}
