package dev.appliance.postgres;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The postmaster as a child of the daemon. Running it directly (not through pg_ctl) lets the daemon see a
 * crash the moment it happens and capture its log from stderr. It is started with a parent-death signal, so
 * postgres dies with its daemon and can never serve unsupervised. That signal fires when the spawning thread
 * ends, so every postmaster is spawned from one thread that lives as long as the daemon.
 */
final class PostgresProcess {
    private static final ExecutorService SPAWNER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "postgres-spawner");
        t.setDaemon(true);
        return t;
    });
    private static final int LOG_TAIL = 40;

    private final Process process;
    private final Deque<String> tail = new ArrayDeque<>();

    private PostgresProcess(Process process, Consumer<String> log) {
        this.process = process;
        Thread reader = new Thread(() -> ProcessRunner.readLines(process.getInputStream(), line -> {
            synchronized (tail) {
                tail.addLast(line);
                while (tail.size() > LOG_TAIL) {
                    tail.removeFirst();
                }
            }
            log.accept(line);
        }), "postgres-log-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    static PostgresProcess start(String user, List<String> command, Consumer<String> log) throws IOException {
        CompletableFuture<Process> spawned = new CompletableFuture<>();
        SPAWNER.execute(() -> {
            try {
                ProcessBuilder pb = new ProcessBuilder(ProcessRunner.asUser(user, true, command)).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                pb.environment().clear();
                pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
                pb.environment().put("LANG", "C.UTF-8");
                pb.environment().put("LC_ALL", "C.UTF-8");
                spawned.complete(pb.start());
            } catch (Throwable t) {
                // The spawner thread must never die: a postmaster's parent-death signal fires with it.
                spawned.completeExceptionally(t);
            }
        });
        try {
            return new PostgresProcess(spawned.get(30, TimeUnit.SECONDS), log);
        } catch (ExecutionException e) {
            throw new IOException("could not start postgres: " + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException("starting postgres did not complete within 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting postgres", e);
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The last lines postgres logged, for error messages. */
    String logTail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    /**
     * Stops postgres: fast shutdown (SIGINT) first, then immediate (SIGQUIT), then SIGKILL, each bounded.
     * Returns how it ended.
     */
    StopOutcome stop(Duration fastWait, Duration immediateWait) throws IOException {
        if (!alive()) {
            return StopOutcome.ALREADY_STOPPED;
        }
        signal("INT");
        if (awaitExit(fastWait)) {
            return StopOutcome.FAST;
        }
        signal("QUIT");
        if (awaitExit(immediateWait)) {
            return StopOutcome.IMMEDIATE;
        }
        kill();
        return StopOutcome.KILLED;
    }

    enum StopOutcome { ALREADY_STOPPED, FAST, IMMEDIATE, KILLED }

    void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(30));
    }

    /**
     * SIGKILLs postgres and every process below it. The backends must go too: a stopped backend would never
     * notice its postmaster's death, and a new postmaster refuses to start while one still holds the old
     * shared memory. Returns whether all of them exited within {@code timeout}.
     */
    boolean killTree(Duration timeout) {
        List<ProcessHandle> tree = new java.util.ArrayList<>(process.toHandle().descendants().toList());
        tree.add(0, process.toHandle());
        tree.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle p : tree) {
            while (p.isAlive()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return awaitExit(Duration.ofSeconds(1));
    }

    boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private void signal(String sig) throws IOException {
        ProcessRunner.Result r = ProcessRunner.run(null, List.of("kill", "-s", sig, Long.toString(process.pid())),
                java.util.Map.of(), null, 10, line -> { });
        if (!r.ok() && alive()) {
            throw new IOException("could not send SIG" + sig + " to postgres (pid " + process.pid() + "): " + r.output().trim());
        }
    }
}
