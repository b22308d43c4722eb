package dev.appliance.postgres;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lock files a postgres left behind when it was killed: {@code postmaster.pid} in the data directory and
 * {@code .s.PGSQL.NNNN.lock} next to its socket. Postgres treats such a file as live while the pid in its first line
 * answers {@code kill(pid, 0)}. After a container restart that pid belongs to a new PID namespace and is often
 * taken (a thread of the daemon's JVM answers too), so postgres would refuse to start for as long as that process
 * lives. Every postgres process, the postmaster and each backend, works in its data directory; when no process
 * does, no postgres of this data directory runs and the files are stale, whatever their pids name.
 */
final class StaleLockFiles {
    private static final Logger LOG = LoggerFactory.getLogger(StaleLockFiles.class);
    private static final Path PROC = Path.of("/proc");
    /** How long a start waits for the backends of a killed postmaster to leave before it judges the files. */
    static final Duration BACKENDS_WAIT = Duration.ofSeconds(5);

    private StaleLockFiles() {
    }

    /**
     * Removes the stale lock files of {@code pgdata} once no process works in it, waiting up to {@code wait} for
     * the backends of a killed postmaster to go. While some process still works there the files stay, and postgres
     * makes its own checks (shared memory in use, a live postmaster).
     *
     * @return the files removed
     */
    static List<Path> remove(Path pgdata, Path socketDir, Duration wait) throws IOException {
        List<Path> locks = lockFiles(pgdata, socketDir);
        if (locks.isEmpty()) {
            return List.of();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        List<Long> inside = processesIn(pgdata);
        while (!inside.isEmpty() && System.nanoTime() < deadline) {
            PostgresSupervisor.sleep(100);
            inside = processesIn(pgdata);
        }
        if (!inside.isEmpty()) {
            LOG.info("lock files of {} kept: processes {} still work in it", pgdata, inside);
            return List.of();
        }
        List<Path> removed = new ArrayList<>();
        for (Path lock : locks) {
            if (Files.deleteIfExists(lock)) {
                removed.add(lock);
            }
        }
        if (!removed.isEmpty()) {
            LOG.info("removed lock files left by a postgres that no longer runs: {}", removed);
        }
        return removed;
    }

    private static List<Path> lockFiles(Path pgdata, Path socketDir) throws IOException {
        List<Path> locks = new ArrayList<>();
        Path pid = pgdata.resolve("postmaster.pid");
        if (Files.exists(pid)) {
            locks.add(pid);
        }
        if (Files.isDirectory(socketDir)) {
            try (DirectoryStream<Path> sockets = Files.newDirectoryStream(socketDir, ".s.PGSQL.*.lock")) {
                sockets.forEach(locks::add);
            }
        }
        return locks;
    }

    /** The pids whose working directory is {@code dir}; processes this user may not inspect are not seen. */
    static List<Long> processesIn(Path dir) throws IOException {
        Path real = dir.toRealPath();
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> entries = Files.list(PROC)) {
            for (Path entry : (Iterable<Path>) entries::iterator) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (Files.readSymbolicLink(entry.resolve("cwd")).equals(real)) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException | SecurityException e) {
                    // Gone meanwhile, or another user's: neither is a postgres this daemon started.
                }
            }
        }
        return pids;
    }
}
