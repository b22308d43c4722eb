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
 * others, both ways, with iptables on loopback; healed by removing the rules), and {@code mix} (each in turn).
 * Partitions need root, iptables and cgroup2 ({@link LoopbackPartitions#unavailable()}).
 */
final class Nemesis {
    static final List<String> FAULTS = List.of("kill", "kill-postgres", "pause", "partition-primary", "partition-sync");
    static final List<String> PARTITIONS = List.of("partition-primary", "partition-sync");

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

    /** @param net the partitions, or null where they cannot be made (mix then leaves them out) */
    Nemesis(LocalCluster cluster, LoopbackPartitions net, History history, String name, Duration quiet, Duration held,
            long startedNanos) {
        this.cluster = cluster;
        this.net = net;
        this.history = history;
        this.faults = name.equals("mix") ? FAULTS.stream().filter(f -> net != null || !PARTITIONS.contains(f))
                .filter(f -> cluster.runner().whyCannot(f).isEmpty()).toList() : List.of(name);
        if (net == null && PARTITIONS.contains(name)) {
            throw new IllegalArgumentException(name + " needs partitions: " + LoopbackPartitions.unavailable().orElse("?"));
        }
        cluster.runner().whyCannot(name).ifPresent(why -> {
            throw new IllegalArgumentException(name + " cannot run on " + cluster.runner().name() + ": " + why);
        });
        if (!name.equals("mix") && !FAULTS.contains(name)) {
            throw new IllegalArgumentException("no nemesis '" + name + "'; there are " + FAULTS + " and mix");
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
            while (!stopping.await(quiet.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                String fault = faults.get(round++ % faults.size());
                try {
                    inject(fault);
                } catch (IOException | RuntimeException e) {
                    event("error", null, fault + ": " + e);    // recorded, and the schedule goes on
                }
                stopping.await(held.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                healNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void inject(String fault) throws IOException, InterruptedException {
        JsonNode s = cluster.status();
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

    private synchronized void healNow() {
        Runnable h = heal;
        heal = null;
        if (h != null) {
            h.run();
            event("heal", null, null);
        }
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
