package dev.appliance.harness;

import java.io.IOException;
import java.time.Duration;

/** One running node daemon, however it runs (a local process, a container): the faults a nemesis needs. */
public interface NodeHandle extends AutoCloseable {
    /** Where it runs, for messages: {@code pid 1234} or {@code container apx-127.0.0.11}. */
    String where();

    boolean alive();

    /** SIGKILL of the daemon (and so of its postgres); returns once it is gone. */
    void kill() throws IOException, InterruptedException;

    /** SIGTERM: the daemon leaves cleanly. Returns the exit code, or -1 if it still runs after {@code timeout}. */
    int terminate(Duration timeout) throws IOException, InterruptedException;

    /** Freezes every process of the node (SIGSTOP, or the cgroup freezer). */
    void pause() throws IOException, InterruptedException;

    void resume() throws IOException, InterruptedException;

    /** Waits for the daemon to exit and returns its exit code, or -1 if it still runs after {@code timeout}. */
    int awaitExit(Duration timeout) throws IOException, InterruptedException;

    /** The daemon's threads and their stacks, where they can be read (a local JVM: jcmd), for a post-mortem. */
    default java.util.Optional<String> threads() {
        return java.util.Optional.empty();
    }

    @Override
    void close() throws IOException, InterruptedException;
}
