package dev.appliance.node;

import dev.appliance.api.HttpApi;
import dev.appliance.api.Metrics;
import dev.appliance.config.NodeConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A node daemon as a process: configuration, the node loop, the HTTP API, and a clean exit on SIGTERM or
 * {@code POST /stop} (a primary hands over to its sync first).
 */
public final class Daemon {
    /** The exit code of a drill's crash: a supervisor (systemd, Kubernetes, 'cluster up') restarts the daemon. */
    public static final int DRILL_CRASH_EXIT = 75;
    private Daemon() {
    }

    /** Runs until stopped; returns the exit code (2: unusable configuration). */
    public static int run(Path configFile, Map<String, String> env, PrintStream err) throws Exception {
        Logging.daemon();
        NodeConfig cfg;
        try {
            cfg = NodeConfig.from(configFile, env);
        } catch (NodeConfig.ConfigException e) {
            err.println("appliance: " + e.getMessage());
            err.println("Nothing was started. See docs/configuration.md for every setting.");
            return 2;
        }
        Node node = Node.start(cfg);
        CountDownLatch stop = new CountDownLatch(1);
        HttpApi api;
        try {
            api = new HttpApi(node, new Metrics(node), stop::countDown);
        } catch (java.io.IOException e) {
            node.close();
            throw new java.io.IOException("the HTTP API cannot listen on " + cfg.host() + ":" + cfg.apiPort() + ": "
                    + e.getMessage(), e);
        }
        api.start();
        AtomicBoolean stopped = new AtomicBoolean();
        java.time.Duration stopBudget = cfg.engine().switchoverTimeout().plus(STOP_BEYOND_HANDOVER);
        Runnable leave = () -> {
            if (stopped.compareAndSet(false, true)) {
                armStopDeadline(stopBudget, err);
                node.shutdown(true);
                api.close();
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(leave, "shutdown"));
        stop.await();
        leave.run();
        return 0;
    }

    /**
     * A stop is bounded: a hand-over may take the switchover timeout, and what follows (postgres's fast shutdown,
     * giving up the session, closing Raft) this much more. A scheduler's kill would end it anyway, but without
     * saying why; this prints every thread first.
     */
    private static final java.time.Duration STOP_BEYOND_HANDOVER = java.time.Duration.ofSeconds(75);

    private static void armStopDeadline(java.time.Duration budget, PrintStream err) {
        Thread deadline = new Thread(() -> {
            try {
                Thread.sleep(budget.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            StringBuilder dump = new StringBuilder();
            Thread.getAllStackTraces().forEach((t, stack) -> {
                dump.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
                for (StackTraceElement frame : stack) {
                    dump.append("    at ").append(frame).append('\n');
                }
            });
            err.println("appliance: stopping took longer than " + budget.toSeconds() + " s; exiting without finishing."
                    + " Postgres may need crash recovery at the next start. Threads:\n" + dump);
            err.flush();
            Runtime.getRuntime().halt(1);
        }, "stop-deadline");
        deadline.setDaemon(true);
        deadline.start();
    }

    /** {@code java -cp appliance.jar dev.appliance.node.Daemon --config FILE}. */
    public static void main(String[] args) throws Exception {
        Path config = null;
        for (int i = 0; i < args.length; i++) {
            if ("--config".equals(args[i]) && i + 1 < args.length) {
                config = Path.of(args[++i]);
            } else {
                System.err.println("usage: Daemon [--config FILE]");
                System.exit(2);
            }
        }
        System.exit(run(config, System.getenv(), System.err));
    }
}
