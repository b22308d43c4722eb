package dev.appliance.node;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults 'appliance drill' injects into a node that allows them ({@code drills = true}): a crash, as a power
 * cut would (postgres and the daemon killed, no hand-over, no goodbye), and a partition from the other members
 * by iptables rules on their addresses, healed on a timer.
 */
final class DrillFaults implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DrillFaults.class);
    private static final String CHAIN = "APX_DRILL";

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "drill-heal");
        t.setDaemon(true);
        return t;
    });
    private boolean partitioned;

    /** Removes a partition a crashed daemon left behind. */
    DrillFaults() {
        if (chainExists()) {
            LOG.warn("drill: a partition from before this daemon started is still in place; healing it");
            heal();
        }
    }

    /**
     * Ends this process at once, a moment after the caller has answered. Postgres dies with it: it was started
     * with a parent-death signal of SIGKILL (and stopping it through the supervisor could wait on work under way).
     */
    void crash() {
        Thread t = new Thread(() -> {
            sleep(200);
            LOG.warn("drill: crashing now (the daemon and its postgres are killed; exit {})", Daemon.DRILL_CRASH_EXIT);
            Runtime.getRuntime().halt(Daemon.DRILL_CRASH_EXIT);
        }, "drill-crash");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Drops every packet between this machine and {@code others} for {@code seconds}. Refused where that would not
     * be a partition of this node alone: members on loopback addresses share one machine's network.
     */
    synchronized void partition(List<String> others, int seconds) {
        if (others.isEmpty()) {
            throw new IllegalStateException("there is no other member to cut this node off from");
        }
        if (others.stream().anyMatch(h -> h.startsWith("127.") || h.equals("localhost"))) {
            throw new IllegalStateException("the members share this machine's loopback addresses (" + others + "), so rules "
                    + "on addresses would not cut this node alone; on one machine, use bin/jepsen --nemesis partition-primary");
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("a partition drill changes iptables rules, which needs the daemon to run as root");
        }
        if (partitioned) {
            throw new IllegalStateException("a partition drill is already under way on this node");
        }
        partitioned = true;
        try {
            iptables(true, "-N", CHAIN);
            for (String host : others) {
                iptables(true, "-A", CHAIN, "-s", host, "-j", "DROP");
                iptables(true, "-A", CHAIN, "-d", host, "-j", "DROP");
            }
            iptables(true, "-I", "INPUT", "1", "-j", CHAIN);
            iptables(true, "-I", "OUTPUT", "1", "-j", CHAIN);
        } catch (RuntimeException e) {
            heal();
            throw e;
        }
        LOG.warn("drill: cut off from {} for {} s", others, seconds);
        timer.schedule(this::heal, seconds, TimeUnit.SECONDS);
    }

    synchronized void heal() {
        iptables(false, "-D", "INPUT", "-j", CHAIN);
        iptables(false, "-D", "OUTPUT", "-j", CHAIN);
        iptables(false, "-F", CHAIN);
        iptables(false, "-X", CHAIN);
        if (partitioned) {
            LOG.warn("drill: the partition is healed");
        }
        partitioned = false;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        if (partitioned) {
            heal();
        }
    }

    private static boolean chainExists() {
        return "root".equals(System.getProperty("user.name")) && run(List.of("iptables", "-w", "-n", "-L", CHAIN)) == 0;
    }

    private static void iptables(boolean required, String... args) {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w"));
        cmd.addAll(List.of(args));
        int code = run(cmd);
        if (code != 0 && required) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + code + ")");
        }
    }

    private static int run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
