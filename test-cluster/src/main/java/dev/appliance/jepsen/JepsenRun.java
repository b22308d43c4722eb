package dev.appliance.jepsen;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.harness.ContainerRunner;
import dev.appliance.harness.LocalCluster;
import dev.appliance.harness.NodeRunner;
import dev.appliance.harness.LoopbackPartitions;
import dev.appliance.node.TcpBackoffCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * One Jepsen-style run, or several: a 3-node cluster of real daemons on 127.0.0.x, the append, register and bank
 * workloads through the leader route, a nemesis on a schedule, then the cluster healed, a final read, and every
 * checker. Each run leaves {@code history.jsonl} and {@code summary.json} in its directory (and the cluster's
 * logs and data when a checker failed) and prints a {@code RESULT} line.
 */
public final class JepsenRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one run found. */
    public record Outcome(boolean valid, boolean unknown, long lost, long worstUnavailableMillis, int faults,
            int operations, Path dir) {
    }

    /** A run's settings. */
    /** A run's settings; {@code runner} is {@code process} or {@code containers}. */
    public record Options(Duration time, String nemesis, int firstOctet, long seed, Duration quiet, Duration held,
            Duration linearizabilityBudget, String runner, int nodes) {
        /** Five nodes where the nemesis needs them, else as asked. */
        int nodesFor() {
            return Nemesis.FIVE_NODES.contains(nemesis) ? Math.max(5, nodes) : nodes;
        }
    }

    private JepsenRun() {
    }

    private static int positive(String option, String value) {
        int n = Integer.parseInt(value);
        if (n < 1) {
            throw new IllegalArgumentException(option + " must be at least 1 (seconds), not " + n);
        }
        return n;
    }

    public static void main(String[] args) throws Exception {
        int seconds = 60;
        int runs = 1;
        String nemesis = "mix";
        Path dir = Path.of("jepsen-runs");
        int octet = 101;
        long seed = System.currentTimeMillis();
        String runnerName = "process";
        int nodes = 3;
        Integer quiet = null;
        int held = 8;
        for (int i = 0; i < args.length; i++) {
            try {
                switch (args[i]) {
                    case "--time" -> seconds = Integer.parseInt(args[++i]);
                    case "--runs" -> runs = Integer.parseInt(args[++i]);
                    case "--nemesis" -> nemesis = args[++i];
                    case "--dir" -> dir = Path.of(args[++i]);
                    case "--first-octet" -> octet = Integer.parseInt(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--runner" -> runnerName = runnerNamed(args[++i]).name();
                    case "--nodes" -> nodes = Integer.parseInt(args[++i]);
                    case "--quiet" -> quiet = positive("--quiet", args[++i]);
                    case "--fault-for" -> held = positive("--fault-for", args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]);
                }
            } catch (RuntimeException e) {
                System.err.println("jepsen: " + e.getMessage() + "\nusage: bin/jepsen [--time 60] [--nemesis "
                        + String.join("|", Nemesis.FAULTS) + "|mix|random|all] [--runs N] [--dir DIR] [--seed N] [--runner process|containers] [--nodes 3|5] "
                        + "[--quiet 5 (15 for restart-all)] [--fault-for 8]");
                System.exit(2);
            }
        }
        String why = LocalCluster.whyPostgresCannotRun();
        if (why != null) {
            System.err.println("jepsen: cannot run: " + why);
            System.exit(2);
        }
        NodeRunner runner = runnerNamed(runnerName);
        if (runner instanceof ContainerRunner) {
            Optional<String> noContainers = ContainerRunner.unavailable(ContainerRunner.IMAGE);
            if (noContainers.isPresent()) {
                System.err.println("jepsen: cannot run containers: " + noContainers.get());
                System.exit(2);
            }
        }
        Optional<String> noPartitions = LoopbackPartitions.unavailable();
        List<String> nemeses = new ArrayList<>(nemesis.equals("all") ? Nemesis.FAULTS : List.of(nemesis));
        if (noPartitions.isPresent() && nemeses.removeIf(Nemesis.PARTITIONS::contains)) {
            System.out.println("SKIPPED: the partition nemeses: " + noPartitions.get());
        }
        for (String fault : List.copyOf(nemeses)) {
            runner.whyCannot(fault).ifPresent(reason -> {
                nemeses.remove(fault);
                System.out.println("SKIPPED: " + fault + " on " + runner.name() + ": " + reason);
            });
        }
        if (nemeses.isEmpty()) {
            System.exit(2);
        }
        System.out.println("TCP retransmission back-off ceiling (net.ipv4.tcp_rto_max_ms): "
                + TcpBackoffCheck.ceilingMillis(TcpBackoffCheck.SETTING).map(ms -> ms + " ms").orElse("not settable on this kernel"));
        int valid = 0;
        int invalid = 0;
        int unknown = 0;
        long lost = 0;
        long worst = 0;
        int errors = 0;
        for (String n : nemeses) {
            for (int r = 1; r <= runs; r++) {
                Path runDir = dir.resolve(Instant.now().toString().replace(':', '-') + "-" + n + "-" + r);
                Outcome o;
                try {
                    o = run(new Options(Duration.ofSeconds(seconds), n, octet, seed + r,
                            Duration.ofSeconds(quiet != null ? quiet : Nemesis.defaultQuietSeconds(n)),
                            Duration.ofSeconds(held), Duration.ofSeconds(60), runner.name(), nodes), runDir);
                } catch (Exception e) {
                    // The harness could not finish the run (the cluster did not form or heal in time): no verdict.
                    errors++;
                    System.out.printf("run %s %d: ERROR, no verdict: %s; %s%n", n, r, e.getMessage(), runDir);
                    continue;
                }
                valid += o.valid() && !o.unknown() ? 1 : 0;
                invalid += o.valid() ? 0 : 1;
                unknown += o.valid() && o.unknown() ? 1 : 0;
                lost += o.lost();
                worst = Math.max(worst, o.worstUnavailableMillis());
                System.out.printf("run %s %d: %s, %d faults, %d operations, %d lost, worst write gap %d ms; %s%n", n, r,
                        o.valid() ? (o.unknown() ? "valid so far (a checker said unknown)" : "valid") : "INVALID",
                        o.faults(), o.operations(), o.lost(), o.worstUnavailableMillis(), o.dir());
            }
        }
        System.out.printf("RESULT runs=%d nemesis=%s seconds=%d valid=%d invalid=%d unknown=%d errors=%d lost=%d "
                + "worst_unavailability_ms=%d%n", runs * nemeses.size(), nemesis, seconds, valid, invalid, unknown, errors, lost,
                worst);
        System.exit(invalid == 0 && errors == 0 ? 0 : 1);
    }

    static NodeRunner runnerNamed(String name) {
        return switch (name) {
            case "process" -> NodeRunner.PROCESSES;
            case "containers" -> new ContainerRunner(ContainerRunner.IMAGE);
            default -> throw new IllegalArgumentException("no runner '" + name + "'; there are process and containers");
        };
    }

    public static Outcome run(Options o, Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path clusterDir = dir.resolve("cluster");
        LocalCluster cluster = LocalCluster.in(clusterDir, o.nodesFor(), o.firstOctet(), Map.of());
        NodeRunner runner = runnerNamed(o.runner());
        cluster.runWith(runner);
        History history = new History();
        boolean keep = true;
        LoopbackPartitions net = LoopbackPartitions.unavailable().isEmpty() && runner.whyCannot("partition-primary").isEmpty()
                ? LoopbackPartitions.create() : null;
        if (net != null) {
            cluster.placeIn(n -> {
                try {
                    return net.cgroup(n.id().value(), n.host());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        try {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofMinutes(3), line -> { });
            LocalCluster.AppDatabase app = cluster.appDatabase();
            int port = cluster.leaderRoute();
            StringBuilder hosts = new StringBuilder();
            for (LocalCluster.NodeSpec n : cluster.nodes()) {
                hosts.append(hosts.length() == 0 ? "" : ",").append(n.host()).append(':').append(port);
            }
            String url = "jdbc:postgresql://" + hosts + "/" + app.database();
            Properties props = app.properties();
            props.setProperty("connectTimeout", "5");
            props.setProperty("socketTimeout", "20");
            List<Workload> workloads = List.of(new AppendWorkload(), new RegisterWorkload(5, o.linearizabilityBudget()),
                    new BankWorkload());
            try (var c = java.sql.DriverManager.getConnection(url, props)) {
                for (Workload w : workloads) {
                    w.setUp(c);
                }
            }
            long started = System.nanoTime();
            List<Clients> pools = new ArrayList<>();
            long process = 0;
            for (Workload w : workloads) {
                Clients pool = new Clients(w, history, url, props, started);
                int count = w instanceof RegisterWorkload ? 3 : 2;
                pool.start(count, process, o.seed(), w instanceof RegisterWorkload ? 30 : 10);
                process += count;
                pools.add(pool);
            }
            Nemesis nemesis = new Nemesis(cluster, net, history, o.nemesis(), o.quiet(), o.held(), o.seed(), started);
            nemesis.start();
            Thread.sleep(o.time().toMillis());
            nemesis.stop();
            for (Clients pool : pools) {
                pool.stop();
            }
            cluster.awaitHealthy(Duration.ofMinutes(3), line -> { });
            for (int i = 0; i < workloads.size(); i++) {
                Clients finalReader = new Clients(workloads.get(i), history, url, props, started);
                for (Op invoke : workloads.get(i).finalInvocations(100 + i, System.nanoTime() - started)) {
                    finalRead(finalReader, history, invoke, started);
                }
            }
            history.write(dir.resolve("history.jsonl"));
            List<CheckResult> results = new ArrayList<>();
            for (Workload w : workloads) {
                results.addAll(w.check(history));
            }
            CheckResult availability = Availability.check(history, 1000);
            results.add(availability);
            boolean ok = results.stream().noneMatch(r -> r.verdict() == CheckResult.Verdict.INVALID);
            boolean anyUnknown = results.stream().anyMatch(r -> r.verdict() == CheckResult.Verdict.UNKNOWN);
            long lostRows = results.stream().filter(r -> r.checker().equals("append"))
                    .mapToLong(r -> ((Number) r.facts().getOrDefault("lost", 0)).longValue()).sum();
            long worst = ((Number) availability.facts().get("worstMillis")).longValue();
            writeSummary(dir.resolve("summary.json"), o, history, results, nemesis.injected(), ok);
            Report.write(dir.resolve("report.html"), "Jepsen run: nemesis " + o.nemesis() + ", " + o.time().toSeconds()
                    + " s, seed " + o.seed() + (ok ? "" : " (INVALID)"), history, results);
            keep = !ok;
            return new Outcome(ok, anyUnknown, lostRows, worst, nemesis.injected(), history.ops().size(), dir);
        } finally {
            cluster.close();
            if (net != null) {
                net.close();
            }
            if (!keep) {
                deleteData(clusterDir);
            }
        }
    }

    /** The final read, retried until it succeeds (the cluster has healed, but a client may still be routed late). */
    static void finalRead(Clients reader, History history, Op invoke, long started) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Op current = history.add(invoke);
        while (true) {
            java.sql.Connection c = reader.run(null, current);
            Clients.close(c);
            if (c != null || System.nanoTime() > deadline) {
                return;
            }
            Thread.sleep(500);
            current = history.add(Op.invoke(invoke.process(), invoke.f(), invoke.key(), invoke.value(),
                    System.nanoTime() - started));
        }
    }

    private static void writeSummary(Path file, Options o, History history, List<CheckResult> results, int faults,
            boolean ok) throws IOException {
        ObjectNode s = JSON.createObjectNode().put("nemesis", o.nemesis()).put("runner", o.runner()).put("nodes", o.nodesFor()).put("seconds", o.time().toSeconds())
                .put("seed", o.seed()).put("quietSeconds", o.quiet().toSeconds()).put("faultSeconds", o.held().toSeconds())
                .put("faults", faults).put("operations", history.ops().size()).put("valid", ok);
        // Recovery after a partition heals depends on it (see TcpBackoffCheck), so each run records it.
        TcpBackoffCheck.ceilingMillis(TcpBackoffCheck.SETTING).ifPresentOrElse(ms -> s.put("tcpRtoMaxMs", ms),
                () -> s.putNull("tcpRtoMaxMs"));
        ArrayNode checks = s.putArray("checkers");
        for (CheckResult r : results) {
            checks.addObject().put("checker", r.checker()).put("verdict", r.verdict().name().toLowerCase())
                    .put("summary", r.summary()).set("facts", JSON.valueToTree(r.facts()));
        }
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s) + "\n");
    }

    /** Removes the nodes' data directories of a valid run; their logs stay. */
    private static void deleteData(Path clusterDir) throws IOException {
        try (Stream<Path> nodes = Files.list(clusterDir)) {
            for (Path node : nodes.toList()) {
                Path data = node.resolve("data");
                if (Files.isDirectory(data)) {
                    try (Stream<Path> all = Files.walk(data)) {
                        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
            }
        }
    }
}
