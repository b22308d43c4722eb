package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.api.ApiClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code appliance route add|list|remove}: the cluster's routes, served by every member's proxy. */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = "Routes: ports every member's proxy listens on and forwards to the primary.",
        subcommands = {RouteCommand.Add.class, RouteCommand.List.class, RouteCommand.Remove.class})
public final class RouteCommand {

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Adds a route and prints its address on every member.",
                "Example: appliance route add tcp --service postgres --leader"})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "tcp", description = "The route's kind; only tcp.")
        String kind;

        @Option(names = "--service", required = true, description = "What to route to; only postgres.")
        String service;

        @Option(names = "--leader", required = true, description = "Route to the primary (the only kind today).")
        boolean leader;

        @Option(names = "--port", description = "The port; default the first free one from proxy.port (6432) up.")
        Integer port;

        @Option(names = "--id", description = "The route's name; default postgres-PORT.")
        String id;

        @Option(names = "--json", description = "Print the route as JSON.")
        boolean json;

        @Mixin
        ApiTarget target;

        @Override
        public Integer call() throws Exception {
            if (!"tcp".equals(kind)) {
                throw new ParameterException(spec.commandLine(), "only tcp routes exist: appliance route add tcp ...");
            }
            if (port != null && (port < 1 || port > 65535)) {
                throw new ParameterException(spec.commandLine(), "--port must be 1-65535");
            }
            ObjectNode body = ApiClient.JSON.createObjectNode().put("service", service).put("leader", leader);
            if (port != null) {
                body.put("port", port);
            }
            if (id != null) {
                body.put("id", id);
            }
            ApiClient.Answer a = target.client().post("/routes", body);
            PrintWriter out = spec.commandLine().getOut();
            if (!a.ok()) {
                spec.commandLine().getErr().println("appliance: the route was not added: " + a.error());
                return 1;
            }
            if (json) {
                out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(a.body()));
            } else {
                out.println("Created route " + a.body().path("id").asText() + " (" + service + ", leader) on port "
                        + a.body().path("port").asInt() + "; every member's proxy serves it:");
                a.body().path("addresses").forEach(addr -> out.println("  " + addr.asText()));
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the routes.")
    static final class List implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print the JSON document.")
        boolean json;

        @Mixin
        ApiTarget target;

        @Override
        public Integer call() throws Exception {
            ApiClient.Answer a = target.client().get("/routes");
            PrintWriter out = spec.commandLine().getOut();
            if (!a.ok()) {
                spec.commandLine().getErr().println("appliance: " + a.from() + " answered: " + a.error());
                return 1;
            }
            if (json) {
                out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(a.body()));
            } else {
                String format = "%-20s %-10s %-8s %-6s %s%n";
                out.printf(format, "ID", "SERVICE", "LEADER", "PORT", "ADDRESSES");
                for (JsonNode r : a.body().path("routes")) {
                    java.util.List<String> addrs = new java.util.ArrayList<>();
                    r.path("addresses").forEach(x -> addrs.add(x.asText()));
                    out.printf(format, r.path("id").asText(), r.path("service").asText(),
                            r.path("leader").asBoolean() ? "yes" : "no", r.path("port").asInt(), String.join(" ", addrs));
                }
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Removes a route: every member stops listening on its port and closes its connections.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "The route's id (see 'route list').")
        String id;

        @Mixin
        ApiTarget target;

        @Override
        public Integer call() throws Exception {
            ApiClient.Answer a = target.client().delete("/routes/" + java.net.URLEncoder.encode(id,
                    java.nio.charset.StandardCharsets.UTF_8));
            if (!a.ok()) {
                spec.commandLine().getErr().println("appliance: the route was not removed: " + a.error());
                return 1;
            }
            spec.commandLine().getOut().println(a.body().path("result").asText());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
