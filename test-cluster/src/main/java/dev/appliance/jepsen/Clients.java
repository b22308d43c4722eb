package dev.appliance.jepsen;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;

/**
 * A pool of clients for one workload, each its own thread with its own connection through the leader route
 * (every node's proxy in one URL, as an application would connect). Every operation is recorded twice: when it is
 * invoked and when it ends. An operation ends ok, failed (it certainly did not take effect: the connection was
 * never made, or postgres refused it in a way that rolls it back), or unknown (the connection broke after it was
 * sent: it may have committed).
 */
final class Clients {
    /** SQLSTATEs after which the statement certainly did not take effect. */
    private static final Set<String> DEFINITE = Set.of("25006", "40001", "40P01", "57014", "23505", "42P01", "28P01", "3D000");

    private final Workload workload;
    private final History history;
    private final String url;
    private final Properties properties;
    private final long started;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;

    Clients(Workload workload, History history, String url, Properties properties, long startedNanos) {
        this.workload = workload;
        this.history = history;
        this.url = url;
        this.properties = properties;
        this.started = startedNanos;
    }

    void start(int count, long firstProcess, long seed, long pauseMillis) {
        for (int i = 0; i < count; i++) {
            long process = firstProcess + i;
            Random rnd = new Random(seed * 1000 + process);
            Thread t = new Thread(() -> loop(process, rnd, pauseMillis), "jepsen-" + workload.name() + "-" + process);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    void stop() throws InterruptedException {
        stop = true;
        for (Thread t : threads) {
            t.join(60_000);
        }
    }

    private void loop(long process, Random rnd, long pauseMillis) {
        Connection c = null;
        long deadline;
        while (!stop) {
            Op invoke = history.add(workload.invocation(process, rnd, now()));
            c = run(c, invoke);
            deadline = System.nanoTime() + pauseMillis * 1_000_000;
            while (!stop && System.nanoTime() < deadline) {
                sleep(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        }
        close(c);
    }

    /** Runs one operation on {@code c} (connecting first when null) and records its end; returns the connection to reuse. */
    Connection run(Connection c, Op invoke) {
        if (c == null) {
            try {
                c = DriverManager.getConnection(url, properties);
            } catch (SQLException e) {
                history.add(invoke.complete(Op.Type.FAIL, null, now(), "connect: " + e.getMessage()));
                sleep(100);
                return null;
            }
        }
        try {
            Workload.Completion done = workload.execute(c, invoke);
            history.add(invoke.complete(done.type(), done.value(), now(), null));
            return c;
        } catch (SQLException e) {
            boolean definite = e.getSQLState() != null && DEFINITE.contains(e.getSQLState());
            history.add(invoke.complete(definite ? Op.Type.FAIL : Op.Type.INFO, null, now(),
                    e.getSQLState() + ": " + e.getMessage()));
            close(c);
            sleep(50);
            return null;
        } catch (RuntimeException e) {
            history.add(invoke.complete(Op.Type.INFO, null, now(), e.toString()));
            close(c);
            return null;
        }
    }

    private long now() {
        return System.nanoTime() - started;
    }

    static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken anyway
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
