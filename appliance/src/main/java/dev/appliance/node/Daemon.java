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
        Runnable leave = () -> {
            if (stopped.compareAndSet(false, true)) {
                node.shutdown(true);
                api.close();
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(leave, "shutdown"));
        stop.await();
        leave.run();
        return 0;
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
