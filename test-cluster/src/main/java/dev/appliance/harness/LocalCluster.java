package dev.appliance.harness;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A whole cluster on one machine: node {@code i} (n1, n2, …) runs as its own daemon process on 127.0.0.{base+i}
 * with the default ports, its configuration and data under {@code dir/n<i>/}. The configuration files are
 * written once; starting again on the same directory restarts the same cluster with its data. Used by
 * {@code appliance cluster up} and by the integration tests.
 */
public final class LocalCluster implements AutoCloseable {
    public static final String CLUSTER_NAME = "local";

    /** One node of the cluster. */
    public record NodeSpec(MemberId id, String host, Path dir, Path config, Path log, int apiPort) {
        public String api() {
            return "http://" + host + ":" + apiPort;
        }

        public Path secrets() {
            return dir.resolve("data").resolve("secrets");
        }
    }

    private final Path dir;
    private final List<NodeSpec> nodes;
    private final Map<MemberId, NodeHandle> processes = new TreeMap<>();
    private NodeRunner runner = NodeRunner.PROCESSES;
    /**
     * Daemons are started from this one thread, which lives as long as the cluster: a daemon dies with the thread
     * that started it (its parent-death signal follows the thread, not the process), so a node restarted from a
     * short-lived thread, a nemesis for one, would be stopped when that thread ended.
     */
    private final java.util.concurrent.ExecutorService launcher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "node-launcher");
        t.setDaemon(true);
        return t;
    });
    private java.util.function.Function<NodeSpec, Path> cgroups = n -> null;

    private LocalCluster(Path dir, List<NodeSpec> nodes) {
        this.dir = dir;
        this.nodes = nodes;
    }

    /**
     * The cluster in {@code dir}: its configuration is written when the directory holds none, with
     * {@code settings} added to every node's file; otherwise the existing one is used (and must have
     * {@code count} nodes).
     */
    /** Why a local cluster cannot run on this machine (no PostgreSQL, or root without a postgres user), or null. */
    public static String whyPostgresCannotRun() throws IOException, InterruptedException {
        try {
            dev.appliance.postgres.PgBinaries.discover();
        } catch (IOException e) {
            return "no PostgreSQL server programs: " + e.getMessage();
        }
        if ("root".equals(System.getProperty("user.name"))) {
            Process p = new ProcessBuilder("id", "-u", "postgres").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                return "running as root, and there is no 'postgres' user to run postgres as";
            }
        }
        return null;
    }

    public static LocalCluster in(Path dir, int count, int firstOctet, Map<String, String> settings) throws IOException {
        return in(dir, count, "127.0.0.", firstOctet, settings);
    }

    /** Nodes on {@code network}{@code firstOctet}, ... (for instance {@link NamespaceNetwork#PREFIX}). */
    public static LocalCluster in(Path dir, int count, String network, int firstOctet, Map<String, String> settings)
            throws IOException {
        if (count < 1 || count > 9) {
            throw new IllegalArgumentException("a local cluster has 1 to 9 nodes, not " + count);
        }
        Files.createDirectories(dir);
        List<Path> existing = existingConfigs(dir);
        if (!existing.isEmpty() && existing.size() != count) {
            throw new IllegalArgumentException(dir + " holds a cluster of " + existing.size() + " nodes, not " + count
                    + "; use --nodes " + existing.size() + ", or another --dir for a new cluster");
        }
        List<NodeSpec> nodes = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            MemberId id = MemberId.of("n" + i);
            String host = network + (firstOctet + i - 1);
            Path nodeDir = dir.resolve(id.value()).toAbsolutePath();
            nodes.add(new NodeSpec(id, host, nodeDir, nodeDir.resolve("appliance.conf"), nodeDir.resolve("daemon.log"), 8008));
        }
        if (existing.isEmpty()) {
            String peers = nodes.stream().map(n -> n.id() + "=" + n.host() + ":7000").collect(Collectors.joining(","));
            long memory = memoryPerNode(count);
            for (NodeSpec n : nodes) {
                writeConfig(n, count == 1 ? "" : peers, count == 1, memory, settings);
            }
        }
        return new LocalCluster(dir, new java.util.concurrent.CopyOnWriteArrayList<>(nodes));
    }

    private static void writeConfig(NodeSpec n, String peers, boolean singleton, long memory, Map<String, String> settings)
            throws IOException {
        Files.createDirectories(n.dir());
        Map<String, String> s = new LinkedHashMap<>();
        s.put("node.id", n.id().value());
        s.put("cluster.name", CLUSTER_NAME);
        s.put("data.dir", n.dir().resolve("data").toString());
        s.put("host", n.host());
        s.put("peers", peers);
        s.put("singleton", Boolean.toString(singleton));
        s.put("postgres.memory", (memory >> 20) + "MB");
        s.putAll(settings);
        StringBuilder b = new StringBuilder("# Written by 'appliance cluster up'. Start this node by hand with:\n"
                + "#   appliance node start --config " + n.config() + "\n");
        s.forEach((k, v) -> b.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(n.config(), b.toString(), StandardCharsets.UTF_8);
    }

    /**
     * A new node, n(count+1) on the next address, configured to join this running cluster ({@code join = true},
     * peers naming every member it will have). Start it, then add it through a member's API.
     */
    public synchronized NodeSpec addNode(Map<String, String> settings) throws IOException {
        NodeSpec last = nodes.get(nodes.size() - 1);
        int octet = Integer.parseInt(last.host().substring(last.host().lastIndexOf('.') + 1)) + 1;
        MemberId id = MemberId.of("n" + (nodes.size() + 1));
        Path nodeDir = dir.resolve(id.value()).toAbsolutePath();
        NodeSpec n = new NodeSpec(id, "127.0.0." + octet, nodeDir, nodeDir.resolve("appliance.conf"),
                nodeDir.resolve("daemon.log"), 8008);
        nodes.add(n);
        Map<String, String> joining = new LinkedHashMap<>(settings);
        joining.put("join", "true");
        writeConfig(n, peerList(), false, memoryPerNode(nodes.size()), joining);
        return n;
    }

    /**
     * Replaces a stopped node's volume by a fresh one: its data directory is deleted and it is configured to join
     * again under the same id (after 'node remove', a replacement of a dead machine).
     */
    public synchronized void freshVolume(MemberId id, Map<String, String> settings) throws IOException {
        if (running(id)) {
            throw new IllegalStateException(id + " runs; stop it first");
        }
        NodeSpec n = node(id);
        try (java.util.stream.Stream<Path> all = Files.walk(n.dir().resolve("data"))) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Map<String, String> joining = new LinkedHashMap<>(settings);
        joining.put("join", "true");
        writeConfig(n, peerList(), false, memoryPerNode(nodes.size()), joining);
    }

    private String peerList() {
        return nodes.stream().map(n -> n.id() + "=" + n.host() + ":7000").collect(Collectors.joining(","));
    }

    private static long memoryPerNode(int count) {
        return Math.max(256L << 20, Math.min(1L << 30, totalMemory() / 4 / count));
    }

    private static List<Path> existingConfigs(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 1; i <= 9; i++) {
            Path c = dir.resolve("n" + i).resolve("appliance.conf");
            if (Files.exists(c)) {
                out.add(c);
            }
        }
        return out;
    }

    private static long totalMemory() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
    }

    public Path dir() {
        return dir;
    }

    public List<NodeSpec> nodes() {
        return nodes;
    }

    public NodeSpec node(MemberId id) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + id + " in this cluster"));
    }

    /**
     * The application's database on this cluster: role and database {@code app}.
     *
     * @param routeUrl its {@code postgres://} URL through every member's proxy on the leader route
     */
    public record AppDatabase(String user, String password, String database, String routeUrl) {
        /** A {@code postgres://} URL to {@code node}'s postgres. */
        public String url(NodeSpec node) {
            return "postgres://" + user + ":" + password + "@" + node.host() + ":5432/" + database;
        }

        /** A {@code postgres://} URL through {@code node}'s proxy on a route's {@code port}. */
        public String url(NodeSpec node, int port) {
            return "postgres://" + user + ":" + password + "@" + node.host() + ":" + port + "/" + database;
        }

        /** A JDBC URL to {@code node}'s postgres (credentials separate). */
        public String jdbc(NodeSpec node) {
            return "jdbc:postgresql://" + node.host() + ":5432/" + database;
        }

        /** A JDBC URL through {@code node}'s proxy on a route's {@code port}. */
        public String jdbc(NodeSpec node, int port) {
            return "jdbc:postgresql://" + node.host() + ":" + port + "/" + database;
        }

        public java.util.Properties properties() {
            java.util.Properties p = new java.util.Properties();
            p.setProperty("user", user);
            p.setProperty("password", password);
            p.setProperty("connectTimeout", "3");
            p.setProperty("socketTimeout", "30");
            return p;
        }

        @Override
        public String toString() {
            return "AppDatabase[" + user + "@" + database + "]";
        }
    }

    /**
     * The application's database: the resource {@code app} (its own role and database), created through the API
     * once, with the leader route it is reached by.
     */
    public AppDatabase appDatabase() throws IOException {
        ensureLeaderRoute();
        ApiClient api = api();
        ApiClient.Answer a = api.get("/resources/app");
        if (a.status() == 404) {
            a = api.post("/resources", ApiClient.JSON.createObjectNode().put("service", "postgres").put("id", "app"));
        }
        if (!a.ok()) {
            throw new IOException("the application database (resource app) could not be had: " + a.error());
        }
        JsonNode env = a.body().path("env");
        return new AppDatabase(env.path("PGUSER").asText(), env.path("PGPASSWORD").asText(), env.path("PGDATABASE").asText(),
                env.path("DATABASE_URL").asText());
    }

    /**
     * The port of the cluster's leader route to postgres, added on 6432 when there is none; returns once every
     * running node's proxy listens on it.
     */
    public int leaderRoute() throws IOException, InterruptedException {
        int port = ensureLeaderRoute();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        for (NodeSpec n : nodes) {
            while (running(n.id())) {
                try (java.net.Socket s = new java.net.Socket()) {
                    s.connect(new java.net.InetSocketAddress(n.host(), port), 1000);
                    break;
                } catch (IOException notYet) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException(n.id() + "'s proxy does not listen on " + n.host() + ":" + port
                                + " (" + notYet.getMessage() + "); see " + n.log());
                    }
                    Thread.sleep(50);
                }
            }
        }
        return port;
    }

    private int ensureLeaderRoute() throws IOException {
        ApiClient.Answer list = api().get("/routes");
        if (!list.ok()) {
            throw new IOException("listing the routes failed: " + list.error());
        }
        for (com.fasterxml.jackson.databind.JsonNode r : list.body().path("routes")) {
            if (r.path("leader").asBoolean() && "postgres".equals(r.path("service").asText())) {
                return r.path("port").asInt();
            }
        }
        ApiClient.Answer added = api().post("/routes", ApiClient.JSON.createObjectNode().put("service", "postgres")
                .put("leader", true).put("port", 6432).put("id", "postgres"));
        if (!added.ok()) {
            throw new IOException("adding the leader route failed: " + added.error());
        }
        return added.body().path("port").asInt();
    }

    /**
     * Restarts a daemon that crashed for a drill (exit {@link dev.appliance.node.Daemon#DRILL_CRASH_EXIT}) after
     * {@code downFor}, as a machine's supervisor would. Reports each restart to {@code progress}.
     */
    public void superviseDrillCrashes(Duration downFor, Consumer<String> progress) {
        Thread t = new Thread(() -> {
            while (!launcher.isShutdown()) {
                for (NodeSpec n : nodes) {
                    NodeHandle h = handle(n.id()).orElse(null);
                    try {
                        if (h != null && !h.alive() && h.awaitExit(Duration.ZERO) == dev.appliance.node.Daemon.DRILL_CRASH_EXIT) {
                            Thread.sleep(downFor.toMillis());
                            progress.accept(n.id() + " crashed for a drill; restarting it");
                            start(n.id());
                        }
                    } catch (IOException e) {
                        progress.accept("restarting " + n.id() + " failed: " + e.getMessage());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "drill-supervisor");
        t.setDaemon(true);
        t.start();
    }

    /** Runs the nodes with {@code runner} (local processes unless told otherwise); before the first start. */
    public void runWith(NodeRunner runner) {
        this.runner = runner;
    }

    public NodeRunner runner() {
        return runner;
    }

    /** Starts each node's daemon in the cgroup {@code cgroupOf} names (null: none), e.g. for partitions. */
    public void placeIn(java.util.function.Function<NodeSpec, Path> cgroupOf) {
        this.cgroups = cgroupOf;
    }

    public void startAll() throws IOException {
        for (NodeSpec n : nodes) {
            start(n.id());
        }
    }

    public synchronized void start(MemberId id) throws IOException {
        NodeHandle p = processes.get(id);
        if (p != null && p.alive()) {
            return;
        }
        NodeSpec n = node(id);
        try {
            processes.put(id, launcher.submit(() -> runner.start(n, cgroups.apply(n)))
                    .get());
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException("starting " + id + " failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + id, e);
        }
    }

    public synchronized Optional<NodeHandle> handle(MemberId id) {
        return Optional.ofNullable(processes.get(id));
    }

    public synchronized boolean running(MemberId id) {
        NodeHandle p = processes.get(id);
        return p != null && p.alive();
    }

    /** SIGKILL of the daemon; its postgres dies with it. */
    public void kill(MemberId id) throws IOException, InterruptedException {
        NodeHandle p = handle(id).orElse(null);
        if (p != null) {
            p.kill();
        }
    }

    /** SIGTERM of the daemon, and its exit code (-1 if it did not exit within {@code timeout}). */
    public int terminate(MemberId id, Duration timeout) throws IOException, InterruptedException {
        NodeHandle p = handle(id).orElse(null);
        return p == null ? 0 : p.terminate(timeout);
    }

    /** The API token, once the first node has settled the cluster's secrets. */
    public Optional<String> token() {
        for (NodeSpec n : nodes) {
            Path f = n.secrets().resolve("api-token");
            try {
                if (Files.exists(f)) {
                    return Optional.of(Files.readString(f, StandardCharsets.UTF_8).trim());
                }
            } catch (IOException ignored) {
                // being written: try the next
            }
        }
        return Optional.empty();
    }

    /** A client of every node's API, live ones first. */
    public ApiClient api() {
        List<String> urls = new ArrayList<>();
        nodes.stream().filter(n -> running(n.id())).forEach(n -> urls.add(n.api()));
        nodes.stream().filter(n -> !running(n.id())).forEach(n -> urls.add(n.api()));
        return new ApiClient(urls, token().orElse(""));
    }

    /**
     * {@code GET /cluster} from a live node whose own view is current: a node that fenced itself (cut off from
     * the majority) answers only when no other does.
     */
    public JsonNode status() throws IOException {
        JsonNode fallback = null;
        IOException last = null;
        String token = token().orElse("");
        for (NodeSpec n : nodes) {
            if (!running(n.id())) {
                continue;
            }
            try {
                ApiClient.Answer a = new ApiClient(List.of(n.api()), token).get("/cluster");
                if (!a.ok()) {
                    last = new IOException(a.from() + ": " + a.error());
                } else if (!a.body().path("answererFenced").asBoolean()) {
                    return a.body();
                } else if (fallback == null) {
                    fallback = a.body();
                }
            } catch (IOException e) {
                last = e;
            }
        }
        if (fallback != null) {
            return fallback;
        }
        throw last != null ? last : new IOException("no daemon runs");
    }

    /**
     * Waits until every running node is healthy in its role (a primary routable, replicas streaming) and the
     * cluster has a sync unless it is a singleton, reporting each change of the picture.
     */
    public JsonNode awaitHealthy(Duration limit, Consumer<String> progress) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        String lastPicture = "";
        String problem = "no daemon answered yet";
        // Healthy twice in a row, 500 ms apart: right after the sync starts, the asyncs re-point from the primary to
        // it (cascading) and are not healthy for that moment.
        boolean healthyBefore = false;
        while (System.nanoTime() < deadline) {
            for (NodeSpec n : nodes) {
                NodeHandle p = handle(n.id()).orElse(null);
                if (p != null && !p.alive() && p.awaitExit(Duration.ZERO) != 0) {
                    throw new IOException(n.id() + "'s daemon exited with code " + p.awaitExit(Duration.ZERO) + "; the last "
                            + "lines of " + n.log() + ":\n" + tail(n.log(), 15));
                }
            }
            if (token().isPresent()) {
                try {
                    JsonNode s = status();
                    String picture = picture(s);
                    if (!picture.equals(lastPicture)) {
                        lastPicture = picture;
                        progress.accept(picture);
                    }
                    if (healthy(s) && healthyBefore) {
                        return s;
                    }
                    healthyBefore = healthy(s);
                    problem = picture;
                } catch (IOException e) {
                    problem = e.getMessage();
                }
            }
            Thread.sleep(500);
        }
        saveViews();
        throw new IOException("the cluster was not healthy within " + limit.toSeconds() + " s (" + problem + "); see the "
                + "daemons' logs in " + dir + "/n*/daemon.log, and next to each what it said of itself and of the cluster "
                + "(status.json, cluster.json) and its threads (threads.txt)");
    }

    /** Next to each running node's log: what it says of itself and of the cluster, and its threads if readable. */
    private void saveViews() {
        String token = token().orElse("");
        for (NodeSpec n : nodes) {
            NodeHandle h = handle(n.id()).orElse(null);
            if (h == null || !h.alive()) {
                continue;
            }
            // /status is the node itself (its decision, postgres, Raft role and leader), /cluster its view of all.
            for (String endpoint : List.of("/status", "/cluster")) {
                Path file = n.log().resolveSibling(endpoint.substring(1) + ".json");
                try {
                    ApiClient.Answer a = new ApiClient(List.of(n.api()), token).get(endpoint);
                    quietlyWrite(file, a.ok() ? a.body().toPrettyString() : a.error());
                } catch (IOException e) {
                    quietlyWrite(file, "no answer: " + e.getMessage());
                }
            }
            h.threads().ifPresent(t -> quietlyWrite(n.log().resolveSibling("threads.txt"), t));
        }
    }

    private static void quietlyWrite(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            // a post-mortem aid only: the error the caller throws says what matters
        }
    }

    private boolean healthy(JsonNode s) {
        if (s.path("primary").isNull() || s.path("primary").asText().isEmpty()) {
            return false;
        }
        if (!s.path("singleton").asBoolean() && (s.path("sync").isNull() || s.path("sync").asText().isEmpty())) {
            return false;
        }
        for (JsonNode m : s.path("members")) {
            if (running(MemberId.of(m.path("id").asText())) && !m.path("healthy").asBoolean()) {
                return false;
            }
        }
        return true;
    }

    /** One line: each member's role and state, e.g. {@code n1 primary (serving), n2 sync (cloning)}. */
    public static String picture(JsonNode s) {
        List<String> parts = new ArrayList<>();
        for (JsonNode m : s.path("members")) {
            String state = !m.path("live").asBoolean() ? "down"
                    : m.path("healthy").asBoolean() ? "healthy" : m.path("pg").path("state").asText("starting");
            parts.add(m.path("id").asText() + " " + m.path("role").asText() + " (" + state + ")");
        }
        return "generation " + s.path("generation").asLong() + ": " + String.join(", ", parts);
    }

    /** The last {@code lines} lines of a daemon's log, for a failure message. */
    public String logTail(MemberId id, int lines) {
        return nodes.stream().filter(n -> n.id().equals(id)).findFirst().map(n -> tail(n.log(), lines)).orElse("");
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    /** Stops every daemon: replicas first, then the primary (so it has nobody to hand over to). */
    @Override
    public void close() throws IOException, InterruptedException {
        String primary = "";
        try {
            primary = status().path("primary").asText("");
        } catch (IOException | RuntimeException ignored) {
            // nobody answers: stop them in any order
        }
        List<MemberId> order = new ArrayList<>();
        for (NodeSpec n : nodes) {
            if (!n.id().value().equals(primary)) {
                order.add(n.id());
            }
        }
        if (!primary.isEmpty()) {
            order.add(MemberId.of(primary));
        }
        List<NodeHandle> replicas = new ArrayList<>();
        for (MemberId id : order.subList(0, order.size() - (primary.isEmpty() ? 0 : 1))) {
            NodeHandle p = handle(id).orElse(null);
            if (p != null && p.alive()) {
                p.terminate(Duration.ZERO);
                replicas.add(p);
            }
        }
        for (NodeHandle p : replicas) {
            if (p.awaitExit(Duration.ofSeconds(60)) == -1) {
                p.kill();
            }
        }
        if (!primary.isEmpty()) {
            NodeHandle p = handle(MemberId.of(primary)).orElse(null);
            if (p != null && p.alive() && p.terminate(Duration.ofSeconds(60)) == -1) {
                p.kill();
            }
        }
        for (NodeHandle p : processes.values()) {
            p.close();    // kills what still runs, and removes what the runner made (a container)
        }
        launcher.shutdown();    // only once every daemon it started is gone
    }
}
