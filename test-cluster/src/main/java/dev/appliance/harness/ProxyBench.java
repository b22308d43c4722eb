package dev.appliance.harness;

import dev.appliance.postgres.PgBinaries;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench/proxy}: pgbench through four paths to the same postgres, measured side by side in one run:
 * direct, the appliance's leader route, HAProxy (TCP mode) and pgbouncer (session mode). A one-node appliance
 * (singleton, so commits do not wait for a replica; ttl 10 s) runs on 127.0.0.91; HAProxy and pgbouncer listen beside it
 * on the same address. Every workload runs against the four paths in turn, the order rotated each round, and
 * the figures are the median tps of the rounds and their ratio to direct. The last line is {@code RESULT ...}.
 */
public final class ProxyBench {
    private static final String HOST = "127.0.0.91";
    private static final int HAPROXY_PORT = 6433;
    private static final int PGBOUNCER_PORT = 6434;
    private static final int WARM_UP_SECONDS = 10;
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

    private record Workload(String name, List<String> args) {
    }

    private ProxyBench() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = 10;
        int rounds = 3;
        int scale = 10;
        Set<String> only = new TreeSet<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds": seconds = Integer.parseInt(args[++i]); break;
                case "--rounds": rounds = Integer.parseInt(args[++i]); break;
                case "--scale": scale = Integer.parseInt(args[++i]); break;
                case "--only": only.addAll(List.of(args[++i].split(","))); break;
                default:
                    System.err.println("usage: ProxyBench [--seconds N (10)] [--rounds N (3)] [--scale N (10)]"
                            + " [--only S_c1,S_c16,S_c64,S_C_c16,tpcb_c1,tpcb_c16,tpcb_c64]");
                    System.exit(2);
            }
        }
        Path haproxy = Path.of("/usr/sbin/haproxy");
        Path pgbouncer = Path.of("/usr/sbin/pgbouncer");
        if (!Files.isExecutable(haproxy) || !Files.isExecutable(pgbouncer)) {
            System.err.println("bench/proxy needs HAProxy and pgbouncer (Debian: apt-get install haproxy pgbouncer)");
            System.exit(2);
        }
        PgBinaries bin = PgBinaries.discover();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "proxy-bench-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<Workload> workloads = List.of(
                new Workload("select -c 1", List.of("-S", "-c", "1", "-j", "1")),
                new Workload("select -c 16", List.of("-S", "-c", "16", "-j", "2")),
                new Workload("select -c 64", List.of("-S", "-c", "64", "-j", "2")),
                new Workload("select -C -c 16", List.of("-S", "-C", "-c", "16", "-j", "2")),
                new Workload("tpcb -c 1", List.of("-c", "1", "-j", "1")),
                new Workload("tpcb -c 16", List.of("-c", "16", "-j", "2")),
                new Workload("tpcb -c 64", List.of("-c", "64", "-j", "2")))
                .stream().filter(w -> only.isEmpty() || only.contains(key(w.name()))).toList();
        if (workloads.isEmpty()) {
            System.err.println("--only " + only + " names no workload");
            System.exit(2);
        }
        System.out.printf("proxy: %d workloads x 4 paths x %d rounds, %d s each, pgbench scale %d; logs in %s%n",
                workloads.size(), rounds, seconds, scale, dir);
        // ttl 10 s: pgbench saturating both cores stalled the whole machine for up to 2 s at connection storms,
        // which fenced the node at the default ttl (3 s, fence after 2 s). This benchmark measures forwarding.
        LocalCluster cluster = LocalCluster.in(dir.resolve("appliance"), 1, 91, Map.of("ttl", "10s", "fence.margin", "3s"));
        List<NodeProcess> helpers = new ArrayList<>();
        try {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofMinutes(5), line -> System.out.println("  " + line));
            LocalCluster.AppDatabase app = cluster.appDatabase();
            int routePort = cluster.leaderRoute();
            Map<String, Integer> paths = new LinkedHashMap<>();
            paths.put("direct", 5432);
            paths.put("appliance", routePort);
            paths.put("haproxy", HAPROXY_PORT);
            paths.put("pgbouncer", PGBOUNCER_PORT);

            Path haproxyCfg = dir.resolve("haproxy.cfg");
            Files.writeString(haproxyCfg, "global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n"
                    + "  timeout client 1h\n  timeout server 1h\nlisten postgres\n  bind " + HOST + ":" + HAPROXY_PORT
                    + "\n  server primary " + HOST + ":5432\n");
            helpers.add(NodeProcess.startProgram("haproxy", dir.resolve("haproxy.log"),
                    List.of(haproxy.toString(), "-db", "-f", haproxyCfg.toString())));
            Path bouncerDir = dir.resolve("pgbouncer");
            Files.createDirectories(bouncerDir);
            Files.writeString(bouncerDir.resolve("userlist.txt"), "\"" + app.user() + "\" \"" + app.password() + "\"\n");
            Files.writeString(bouncerDir.resolve("pgbouncer.ini"), "[databases]\n" + app.database() + " = host=" + HOST
                    + " port=5432 dbname=" + app.database() + "\n[pgbouncer]\nlisten_addr = " + HOST + "\nlisten_port = "
                    + PGBOUNCER_PORT + "\nunix_socket_dir =\nauth_type = scram-sha-256\nauth_file = "
                    + bouncerDir.resolve("userlist.txt") + "\npool_mode = session\nmax_client_conn = 1000\n"
                    + "default_pool_size = 80\nlog_connections = 0\nlog_disconnections = 0\n");
            List<String> bouncerCmd = new ArrayList<>();
            if ("root".equals(System.getProperty("user.name"))) {
                // pgbouncer refuses to run as root.
                for (String f : List.of("", "userlist.txt", "pgbouncer.ini")) {
                    Path p = f.isEmpty() ? bouncerDir : bouncerDir.resolve(f);
                    new ProcessBuilder("chown", "postgres:postgres", p.toString()).inheritIO().start().waitFor();
                }
                bouncerCmd.addAll(List.of("setpriv", "--reuid", "postgres", "--regid", "postgres", "--init-groups", "--"));
            }
            bouncerCmd.addAll(List.of(pgbouncer.toString(), bouncerDir.resolve("pgbouncer.ini").toString()));
            helpers.add(NodeProcess.startProgram("pgbouncer", dir.resolve("pgbouncer.log"), bouncerCmd));
            for (int port : paths.values()) {
                awaitListening(port, Duration.ofSeconds(20));
            }

            System.out.println("pgbench -i -s " + scale + " ...");
            pgbench(bin, app, 5432, List.of("-i", "-s", Integer.toString(scale), "-q"), dir);
            quiesce(cluster);

            // Warm-up, not counted, on every path alike: the daemon's JIT compiles the proxy's per-connection code over
            // its first ~10,000 connections (cold, it spent 2.3 times the CPU per connection measured warm), and a
            // production daemon runs warm. HAProxy and pgbouncer need no warm-up; they get the same runs anyway.
            for (String path : paths.keySet()) {
                for (List<String> w : List.of(List.of("-S", "-C", "-c", "16", "-j", "2"), List.of("-S", "-c", "16", "-j", "2"))) {
                    List<String> a = new ArrayList<>(w);
                    a.addAll(List.of("-n", "-T", Integer.toString(WARM_UP_SECONDS)));
                    pgbench(bin, app, paths.get(path), a, dir);
                }
                System.out.println("warmed up " + path);
            }

            Map<String, Map<String, List<Double>>> tps = new LinkedHashMap<>();
            List<String> order = new ArrayList<>(paths.keySet());
            for (int round = 1; round <= rounds; round++) {
                for (Workload w : workloads) {
                    for (String path : order) {
                        List<String> a = new ArrayList<>(w.args());
                        a.addAll(List.of("-n", "-T", Integer.toString(seconds)));
                        double t = tps(pgbench(bin, app, paths.get(path), a, dir));
                        tps.computeIfAbsent(w.name(), k -> new TreeMap<>()).computeIfAbsent(path, k -> new ArrayList<>()).add(t);
                        System.out.printf("round %d  %-16s %-10s %10.0f tps%n", round, w.name(), path, t);
                    }
                    Collections.rotate(order, 1);
                }
            }

            System.out.println();
            System.out.printf("%-16s %12s %18s %18s %18s%n", "workload", "direct tps", "appliance", "haproxy", "pgbouncer");
            StringBuilder result = new StringBuilder("RESULT rounds=" + rounds + " seconds=" + seconds);
            for (Workload w : workloads) {
                Map<String, List<Double>> byPath = tps.get(w.name());
                double direct = median(byPath.get("direct"));
                StringBuilder line = new StringBuilder(String.format("%-16s %12.0f", w.name(), direct));
                for (String path : List.of("appliance", "haproxy", "pgbouncer")) {
                    double m = median(byPath.get(path));
                    line.append(String.format(" %9.0f (%5.2f)", m, m / direct));
                    result.append(' ').append(key(w.name())).append('_').append(path).append('=')
                            .append(String.format("%.2f", m / direct));
                }
                System.out.println(line);
            }
            System.out.println(result);
        } finally {
            for (NodeProcess p : helpers) {
                p.terminate(Duration.ofSeconds(5));
            }
            cluster.close();
        }
    }

    /**
     * Checkpoints and writes back everything the load left dirty, so no run pays for it. Without this the
     * kernel's writeback of the load (seconds later) stalled the Raft log's fsync for over two seconds on
     * this kind of machine, and the node fenced itself in the middle of a run.
     */
    private static void quiesce(LocalCluster cluster) throws Exception {
        LocalCluster.NodeSpec n = cluster.nodes().get(0);
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", dev.appliance.postgres.PgCredentials.SUPERUSER);
        p.setProperty("password", Files.readString(n.secrets().resolve("postgres-superuser.password")).trim());
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:postgresql://" + n.host() + ":5432/postgres", p);
                java.sql.Statement st = c.createStatement()) {
            st.execute("CHECKPOINT");
        }
        new ProcessBuilder("sync").inheritIO().start().waitFor();
        Thread.sleep(3000);
    }

    private static String key(String workload) {
        return workload.replace("select", "S").replace("tpcb", "tpcb").replace(" -C", "_C").replace(" -c ", "_c")
                .replace(" ", "");
    }

    private static String pgbench(PgBinaries bin, LocalCluster.AppDatabase app, int port, List<String> args, Path dir)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(bin.tool("pgbench").toString(), "-h", HOST, "-p",
                Integer.toString(port), "-U", app.user()));
        command.addAll(args);
        command.add(app.database());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(dir.toFile());
        pb.environment().put("PGPASSWORD", app.password());
        pb.environment().put("PGSSLMODE", "disable");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("pgbench " + args + " on port " + port + " failed:\n" + out);
        }
        return out;
    }

    private static double tps(String pgbenchOutput) throws IOException {
        Matcher m = TPS.matcher(pgbenchOutput);
        if (!m.find()) {
            throw new IOException("no tps in pgbench's output:\n" + pgbenchOutput);
        }
        return Double.parseDouble(m.group(1));
    }

    private static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    private static void awaitListening(int port, Duration limit) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("nothing listens on " + HOST + ":" + port + " after " + limit.toSeconds() + " s");
                }
                Thread.sleep(100);
            }
        }
    }
}
