package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.harness.LocalCluster;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code appliance cluster ...}: a local cluster, and the state of any cluster. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Runs a local cluster, or shows a cluster's state.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Status.class, ClusterCommand.History.class})
final class ClusterCommand {
    static final Path DEFAULT_DIR = Path.of("appliance-cluster");

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {
                "Starts a whole cluster on this machine: node i runs on 127.0.0.(10+i) with its data in DIR/n<i>.",
                "",
                "Waits until the primary, the sync and the asyncs are healthy, then prints DATABASE_URL and",
                "writes DIR/appliance.env (APPLIANCE_URL, APPLIANCE_TOKEN, DATABASE_URL). Ctrl-C stops every",
                "daemon it started. Run it again on the same DIR to restart the same cluster with its data."})
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--nodes", defaultValue = "3", description = "How many nodes (1-9; 1 runs a singleton). Default ${DEFAULT-VALUE}.")
        int nodes;

        @Option(names = "--dir", paramLabel = "DIR", description = "Where the cluster lives. Default ./appliance-cluster.")
        Path dir = DEFAULT_DIR;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (nodes < 1 || nodes > 9) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--nodes must be 1 to 9");
            }
            // Drills on: this is a cluster to try things on, 'appliance drill kill-primary' included.
            LocalCluster cluster = LocalCluster.in(dir.toAbsolutePath(), nodes, 11, Map.of("drills", "true"));
            for (LocalCluster.NodeSpec n : cluster.nodes()) {
                requireFree(n.host(), List.of(7000, 5432, 8008, 6432));
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping = true;
                err.println("stopping the cluster...");
                err.flush();
                try {
                    cluster.close();
                } catch (IOException e) {
                    err.println("stopping the cluster: " + e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "cluster-down"));
            cluster.startAll();
            cluster.superviseDrillCrashes(Duration.ofSeconds(3), line -> {
                err.println(line);
                err.flush();
            });
            for (LocalCluster.NodeSpec n : cluster.nodes()) {
                err.printf("started %s on %s (%s), log %s%n", n.id(), n.host(),
                        cluster.handle(n.id()).map(dev.appliance.harness.NodeHandle::where).orElse("not started"), n.log());
            }
            err.println("waiting for the cluster to become healthy (a first start initializes and clones postgres)...");
            err.flush();
            JsonNode status = cluster.awaitHealthy(Duration.ofMinutes(10), line -> {
                err.println("  " + line);
                err.flush();
            });
            int routePort = cluster.leaderRoute();
            LocalCluster.NodeSpec p = cluster.nodes().get(0);
            String databaseUrl = cluster.appDatabase().routeUrl();
            Map<String, String> env = new LinkedHashMap<>();
            env.put("APPLIANCE_URL", p.api());
            env.put("APPLIANCE_TOKEN", cluster.token().orElseThrow());
            env.put("DATABASE_URL", databaseUrl);
            Path envFile = dir.toAbsolutePath().resolve("appliance.env");
            writeSecretFile(envFile, env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                    .reduce("", String::concat));
            out.println("cluster up: " + nodes + " node" + (nodes == 1 ? "" : "s") + " in " + dir.toAbsolutePath());
            out.println(LocalCluster.picture(status));
            out.println("DATABASE_URL=" + databaseUrl);
            out.println("APPLIANCE_URL, APPLIANCE_TOKEN and DATABASE_URL are in " + envFile);
            out.println("Every node's proxy forwards port " + routePort + " to the primary, whichever node that is; "
                    + "DATABASE_URL names them all, so any live node will do.");
            out.println("Ctrl-C stops the cluster.");
            out.flush();
            watch(cluster, err);
            return 0;
        }

        private static volatile boolean stopping;

        /** Reports daemons that exit, until Ctrl-C. */
        private static void watch(LocalCluster cluster, PrintWriter err) throws IOException, InterruptedException {
            Map<MemberId, Boolean> reported = new HashMap<>();
            while (true) {
                for (LocalCluster.NodeSpec n : cluster.nodes()) {
                    dev.appliance.harness.NodeHandle proc = cluster.handle(n.id()).orElse(null);
                    if (!stopping && proc != null && !proc.alive()
                            && proc.awaitExit(Duration.ZERO) != dev.appliance.node.Daemon.DRILL_CRASH_EXIT
                            && reported.put(n.id(), true) == null) {
                        err.printf("%s's daemon exited (code %d); the cluster carries on without it. Its log: %s%n", n.id(),
                                proc.awaitExit(Duration.ZERO), n.log());
                        err.flush();
                    }
                }
                Thread.sleep(1000);
            }
        }

        private static void requireFree(String host, List<Integer> ports) throws IOException {
            for (int port : ports) {
                try (ServerSocket s = new ServerSocket()) {
                    s.setReuseAddress(true);
                    s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
                } catch (IOException e) {
                    throw new IOException(host + ":" + port + " is in use (" + e.getMessage() + "); stop what listens "
                            + "there, or a cluster already running from another directory");
                }
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = {
                "Shows the cluster: generation, primary, sync, asyncs, and every member's health.",
                "",
                "Asks the daemon at --url, else $APPLIANCE_URL, else the nodes of the cluster in --dir;",
                "the token comes from $APPLIANCE_TOKEN or DIR/appliance.env."})
    static final class Status extends ApiCommand {
        @Option(names = "--json", description = "Print the JSON document (a stable contract).")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            ApiClient.Answer a = target.client().get("/cluster");
            if (!a.ok()) {
                spec.commandLine().getErr().println("appliance: " + a.from() + " answered: " + a.error());
                return 1;
            }
            if (json) {
                out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(a.body()));
            } else {
                print(a.body(), out);
            }
            out.flush();
            return 0;
        }

        static void print(JsonNode s, PrintWriter out) {
            List<String> asyncs = new ArrayList<>();
            s.path("asyncs").forEach(x -> asyncs.add(x.asText()));
            out.printf("generation %d, primary %s, sync %s, asyncs %s%s%n", s.path("generation").asLong(),
                    text(s.path("primary")), text(s.path("sync")), asyncs.isEmpty() ? "none" : String.join(" ", asyncs),
                    s.path("singleton").asBoolean() ? " (singleton)" : "");
            if (s.path("frozen").asBoolean()) {
                out.printf("FROZEN since %s: %s%n", s.path("frozenAt").asText(), s.path("frozenReason").asText());
            }
            if (s.has("switchover")) {
                out.printf("switchover under way to %s, requested by %s%n", text(s.path("switchover").path("to")),
                        s.path("switchover").path("requestedBy").asText());
            }
            String format = "%-6s %-10s %-8s %-9s %-12s %-10s %-22s %s%n";
            out.printf(format, "ID", "ROLE", "HEALTHY", "POSTGRES", "LSN", "LAG", "ADDRESS", "API");
            for (JsonNode m : s.path("members")) {
                JsonNode pg = m.path("pg");
                out.printf(format, m.path("id").asText(), m.path("role").asText(), m.path("healthy").asBoolean() ? "yes" : "NO",
                        m.path("live").asBoolean() ? pg.path("state").asText("?") : "down", pg.path("lsn").asText("-"),
                        pg.has("lagBytes") ? bytes(pg.path("lagBytes").asLong()) : "-", m.path("postgres").asText("-"),
                        m.path("api").asText("-"));
            }
        }

        private static String text(JsonNode n) {
            return n.isNull() || n.isMissingNode() || n.asText().isEmpty() ? "none" : n.asText();
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true,
            description = "The decision audit: every agreed change (failovers, switchovers, freezes, routes), who made it and why.")
    static final class History extends ApiCommand {
        @Option(names = {"-n", "--limit"}, defaultValue = "50", description = "How many of the latest entries. Default ${DEFAULT-VALUE}.")
        int limit;

        @Option(names = "--json", description = "Print the JSON document.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (limit < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1");
            }
            JsonNode h = Cli.require(target.client().get("/history?limit=" + limit));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Cli.printJson(out, h);
            } else {
                String format = "%-8s %-24s %-22s %-28s %s%n";
                out.printf(format, "INDEX", "AT", "KEY", "BY", "WHY");
                for (JsonNode e : h.path("entries")) {
                    out.printf(format, e.path("index").asLong(), e.path("at").asText(), e.path("key").asText(),
                            e.path("writer").asText(), e.path("reason").asText());
                }
            }
            out.flush();
            return 0;
        }
    }

    static String bytes(long b) {
        return b < 1024 ? b + " B" : b < 1 << 20 ? b / 1024 + " kB" : b < 1L << 30 ? b / (1 << 20) + " MB" : b / (1L << 30) + " GB";
    }

    /**
     * An API client with its token. Addresses: --url, else $APPLIANCE_URL, else the file $APPLIANCE_CONFIG, else the
     * cluster in {@code dir} (its appliance.env and every node's config); each may list several, comma-separated,
     * and a member whose API is down is skipped. The token: $APPLIANCE_TOKEN, else the file's.
     */
    static ApiClient client(String url, Path dir) throws IOException {
        Map<String, String> envFile = new HashMap<>();
        String configFile = System.getenv("APPLIANCE_CONFIG");
        Path f = configFile != null ? Path.of(configFile) : dir.toAbsolutePath().resolve("appliance.env");
        if (configFile != null && !Files.isReadable(f)) {
            throw new Cli.Failure("APPLIANCE_CONFIG names " + f + ", which cannot be read");
        }
        if (Files.exists(f)) {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("#")) {
                    envFile.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
                }
            }
        }
        List<String> urls = new ArrayList<>();
        if (url != null) {
            addAll(urls, url);
        } else if (System.getenv("APPLIANCE_URL") != null) {
            addAll(urls, System.getenv("APPLIANCE_URL"));
        } else {
            if (envFile.containsKey("APPLIANCE_URL")) {
                addAll(urls, envFile.get("APPLIANCE_URL"));
            }
            for (int i = 1; i <= 9 && configFile == null; i++) {
                Path conf = dir.toAbsolutePath().resolve("n" + i).resolve("appliance.conf");
                if (Files.exists(conf)) {
                    for (String line : Files.readAllLines(conf, StandardCharsets.UTF_8)) {
                        if (line.startsWith("host = ")) {
                            addAll(urls, "http://" + line.substring("host = ".length()).trim() + ":8008");
                        }
                    }
                }
            }
        }
        // On a node (its image, or a unit with the daemon's environment): the node's own API and token.
        String host = System.getenv("APPLIANCE_HOST");
        if (urls.isEmpty() && host != null && !host.isBlank()) {
            urls.add("http://" + host.strip() + ":" + System.getenv().getOrDefault("APPLIANCE_API_PORT", "8008").strip());
        }
        String token = System.getenv("APPLIANCE_TOKEN") != null ? System.getenv("APPLIANCE_TOKEN")
                : envFile.getOrDefault("APPLIANCE_TOKEN", "");
        String dataDir = System.getenv("APPLIANCE_DATA_DIR");
        if (token.isEmpty() && dataDir != null && Files.isReadable(Path.of(dataDir, "secrets", "api-token"))) {
            token = Files.readString(Path.of(dataDir, "secrets", "api-token"), StandardCharsets.UTF_8).strip();
        }
        return new ApiClient(urls, token);
    }

    private static void addAll(List<String> urls, String commaSeparated) {
        for (String u : commaSeparated.split(",")) {
            String t = u.strip().replaceAll("/+$", "");
            if (!t.isEmpty() && !urls.contains(t)) {
                urls.add(t);
            }
        }
    }

    static void writeSecretFile(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
