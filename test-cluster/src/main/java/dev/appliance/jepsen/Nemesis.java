package dev.appliance.jepsen;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.harness.LocalCluster;
import dev.appliance.harness.LoopbackPartitions;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Faults on a schedule: quiet, then a fault on the current primary, held for a while, then healed; each
 * injection and heal is a nemesis event in the history. Faults: {@code kill} (SIGKILL of the primary's daemon,
 * whose postgres dies with it; healed by starting it again), {@code kill-postgres} (SIGKILL of the primary's
 * postgres only; its daemon restarts it), {@code pause} (SIGSTOP of the primary's daemon while its postgres runs
 * on; healed by SIGCONT), {@code partition-primary} and {@code partition-sync} (that node cut off from the two
 * others, both ways, with iptables on loopback; healed by removing the rules), {@code pause-postgres} (SIGSTOP of
 * the primary's postgres, every process of it, while its daemon runs on: a hung disk), {@code restart-all} (every
 * daemon SIGKILLed at once, then all started again), and on five nodes {@code partition-majority} (the primary
 * and one other member cut off from the other three) and {@code bridge} (two halves that only the sync, in the
 * middle, reaches both of). {@code mix} takes each in turn, {@code random} picks one at random each round and
 * holds it for a random time. Partitions need root, iptables and cgroup2 ({@link LoopbackPartitions#unavailable()}).
 */
final class Nemesis {
    static final List<String> FAULTS = List.of("kill", "kill-postgres", "pause", "partition-primary", "partition-sync",
            "pause-postgres", "restart-all", "partition-majority", "bridge");
    static final List<String> PARTITIONS = LoopbackPartitions.NEMESES;
    /** Faults that need five nodes. */
    static final List<String> FIVE_NODES = List.of("partition-majority", "bridge");

    /**
     * Seconds of quiet between faults unless chosen: a whole cluster needs 6-8 s after a restart before it
     * writes again, so 5 s of quiet would only ever measure restarts piled on restarts.
     */
    static int defaultQuietSeconds(String nemesis) {
        return nemesis.equals("restart-all") ? 15 : 5;
    }

    /** How long a fault waits for some daemon's API to answer before it is recorded as an error. */
    private static final Duration API_WAIT = Duration.ofSeconds(15);

    private final LocalCluster cluster;
    private final LoopbackPartitions net;
    private final History history;
    private final List<String> faults;
    private final Duration quiet;
    private final Duration held;
    private final long started;
    private final Thread thread;
    /** Counted down to stop: the schedule's waits end at once, but a fault under way completes and is healed. */
    private final java.util.concurrent.CountDownLatch stopping = new java.util.concurrent.CountDownLatch(1);
    private Runnable heal;
    private int injected;
    /** For {@code random}: which fault, and how long the quiet and the fault last (half to twice the usual). */
    private final java.util.Random random;

    /** @param net the partitions, or null where they cannot be made (mix then leaves them out) */
    Nemesis(LocalCluster cluster, LoopbackPartitions net, History history, String name, Duration quiet, Duration held,
            long seed, long startedNanos) {
        this.cluster = cluster;
        this.net = net;
        this.history = history;
        boolean several = name.equals("mix") || name.equals("random");
        this.faults = several ? FAULTS.stream().filter(f -> net != null || !PARTITIONS.contains(f))
                .filter(f -> cluster.nodes().size() >= 5 || !FIVE_NODES.contains(f))
                .filter(f -> cluster.runner().whyCannot(f).isEmpty()).toList() : List.of(name);
        this.random = name.equals("random") ? new java.util.Random(seed) : null;
        if (FIVE_NODES.contains(name) && cluster.nodes().size() < 5) {
            throw new IllegalArgumentException(name + " needs five nodes, not " + cluster.nodes().size());
        }
        if (net == null && PARTITIONS.contains(name)) {
            throw new IllegalArgumentException(name + " needs partitions: " + LoopbackPartitions.unavailable().orElse("?"));
        }
        cluster.runner().whyCannot(name).ifPresent(why -> {
            throw new IllegalArgumentException(name + " cannot run on " + cluster.runner().name() + ": " + why);
        });
        if (!several && !FAULTS.contains(name)) {
            throw new IllegalArgumentException("no nemesis '" + name + "'; there are " + FAULTS + ", mix and random");
        }
        this.quiet = quiet;
        this.held = held;
        this.started = startedNanos;
        this.thread = new Thread(this::run, "jepsen-nemesis");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops injecting and heals whatever fault is on. */
    void stop() throws InterruptedException {
        stopping.countDown();
        thread.join(120_000);
        healNow();
    }

    int injected() {
        return injected;
    }

    private void run() {
        int round = 0;
        try {
            while (!stopping.await(scaled(quiet), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                String fault = random == null ? faults.get(round++ % faults.size()) : faults.get(random.nextInt(faults.size()));
                try {
                    inject(fault);
                } catch (IOException | RuntimeException e) {
                    event("error", null, fault + ": " + e);    // recorded, and the schedule goes on
                }
                stopping.await(scaled(held), java.util.concurrent.TimeUnit.MILLISECONDS);
                healNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private long scaled(Duration d) {
        return random == null ? d.toMillis() : d.toMillis() / 2 + (long) (random.nextDouble() * d.toMillis() * 1.5);
    }

    private void inject(String fault) throws IOException, InterruptedException {
        JsonNode s = statusWithin(API_WAIT);
        if (s == null) {
            return;    // stopping
        }
        String primary = s.path(fault.equals("partition-sync") ? "sync" : "primary").asText("");
        if (primary.isEmpty()) {
            event(fault + "-skipped", null, "no primary");
            return;
        }
        MemberId id = MemberId.of(primary);
        long node = Long.parseLong(primary.replaceAll("\\D", ""));
        switch (fault) {
            case "kill" -> {
                cluster.kill(id);
                heal = () -> {
                    try {
                        cluster.start(id);
                    } catch (IOException e) {
                        event("error", node, "restart " + primary + ": " + e.getMessage());
                    }
                };
            }
            case "kill-postgres" -> {
                long pid = postgresPid(s, primary);
                if (pid <= 0) {
                    event(fault + "-skipped", node, "no postgres pid for " + primary);
                    return;
                }
                new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
                heal = () -> { };    // the daemon restarts it; the window still ends with a heal event
            }
            case "pause" -> {
                Optional<dev.appliance.harness.NodeHandle> p = cluster.handle(id);
                if (p.isEmpty()) {
                    return;
                }
                p.get().pause();
                heal = () -> {
                    try {
                        p.get().resume();
                    } catch (IOException | InterruptedException e) {
                        event("error", node, "resume " + primary + ": " + e.getMessage());
                    }
                };
            }
            case "pause-postgres" -> {
                long pid = postgresPid(s, primary);
                if (pid <= 0) {
                    event(fault + "-skipped", node, "no postgres pid for " + primary);
                    return;
                }
                List<Long> tree = processTree(pid);
                signal("STOP", tree);
                heal = () -> {
                    try {
                        signal("CONT", tree);
                    } catch (IOException | InterruptedException e) {
                        event("error", node, "resume postgres of " + primary + ": " + e.getMessage());
                    }
                };
            }
            case "restart-all" -> {
                for (LocalCluster.NodeSpec n : cluster.nodes()) {
                    cluster.kill(n.id());
                }
                heal = () -> {
                    for (LocalCluster.NodeSpec n : cluster.nodes()) {
                        try {
                            cluster.start(n.id());
                        } catch (IOException e) {
                            event("error", null, "restart " + n.id() + ": " + e.getMessage());
                        }
                    }
                };
            }
            case "partition-majority", "bridge" -> {
                String sync = s.path("sync").asText("");
                List<String> rest = new java.util.ArrayList<>(cluster.nodes().stream().map(n -> n.id().value())
                        .filter(m -> !m.equals(primary)).sorted().toList());
                if (rest.remove(sync)) {
                    rest.add(0, sync);    // the sync first: the primary's partner, or the bridge
                }
                // partition-majority: {primary, sync} | {the other three}. bridge: {primary, a} | sync | {b, c}.
                boolean bridge = fault.equals("bridge");
                List<String> left = List.of(primary, rest.get(bridge ? 1 : 0));
                List<String> right = rest.subList(bridge ? 2 : 1, rest.size());
                for (String l : left) {
                    net.isolate(cluster.node(MemberId.of(l)).host(),
                            right.stream().map(r -> cluster.node(MemberId.of(r)).host()).toList());
                }
                heal = () -> {
                    try {
                        net.heal();
                    } catch (IOException e) {
                        event("error", node, "heal the partition: " + e.getMessage());
                    }
                };
            }
            case "partition-primary", "partition-sync" -> {
                String host = cluster.node(id).host();
                List<String> others = cluster.nodes().stream().map(LocalCluster.NodeSpec::host).filter(h -> !h.equals(host))
                        .toList();
                net.isolate(host, others);
                heal = () -> {
                    try {
                        net.heal();
                    } catch (IOException e) {
                        event("error", node, "heal the partition: " + e.getMessage());
                    }
                };
            }
            default -> throw new IllegalArgumentException(fault);
        }
        injected++;
        event(fault, node, primary);
    }

    /**
     * The cluster's view, waiting for an API while restarted daemons come up (a fault drawn in that second would
     * otherwise be skipped); null when the schedule is stopping.
     */
    private JsonNode statusWithin(Duration wait) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            try {
                return cluster.status();
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
            if (stopping.await(250, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return null;
            }
        }
    }

    private synchronized void healNow() {
        Runnable h = heal;
        heal = null;
        if (h != null) {
            h.run();
            event("heal", null, null);
        }
    }

    /** {@code root} and every process below it, from /proc. */
    static List<Long> processTree(long root) throws IOException {
        java.util.Map<Long, Long> parent = new java.util.HashMap<>();
        try (var procs = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
            for (java.nio.file.Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String stat = java.nio.file.Files.readString(p.resolve("stat"));
                    String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    parent.put(Long.parseLong(p.getFileName().toString()), Long.parseLong(after[1]));
                } catch (IOException | RuntimeException gone) {
                    // the process ended while we looked
                }
            }
        }
        List<Long> tree = new java.util.ArrayList<>(List.of(root));
        for (int i = 0; i < tree.size(); i++) {
            long p = tree.get(i);
            parent.forEach((child, par) -> {
                if (par == p && !tree.contains(child)) {
                    tree.add(child);
                }
            });
        }
        return tree;
    }

    private static void signal(String sig, List<Long> pids) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("kill", "-" + sig));
        pids.forEach(p -> cmd.add(Long.toString(p)));
        new ProcessBuilder(cmd).redirectErrorStream(true).start().waitFor();
    }

    private static long postgresPid(JsonNode s, String member) {
        for (JsonNode m : s.path("members")) {
            if (m.path("id").asText().equals(member)) {
                return m.path("postgresPid").asLong(0);
            }
        }
        return 0;
    }

    private void event(String f, Long node, String detail) {
        history.add(new Op(-1, Op.NEMESIS, Op.Type.INFO, f, null, node == null ? List.of() : List.of(node),
                System.nanoTime() - started, detail));
    }
}
