package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The lock-file cleanup on its own; a start over stale files is in PostgresSupervisorTest. */
class StaleLockFilesTest {
    @Test
    void lockFilesOfAPostgresThatStillRunsAreKept() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-locks-");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path sockets = Files.createDirectories(dir.resolve("run"));
        Path pidFile = Files.writeString(pgdata.resolve("postmaster.pid"), "1\n");
        Path socketLock = Files.writeString(sockets.resolve(".s.PGSQL.5432.lock"), "1\n");
        Process inside = new ProcessBuilder("sleep", "120").directory(pgdata.toFile()).start();
        try {
            assertEquals(List.of(inside.pid()), StaleLockFiles.processesIn(pgdata));
            assertEquals(List.of(), StaleLockFiles.remove(pgdata, sockets, Duration.ofMillis(300)),
                    "a process works in the data directory: its postgres may still run");
            assertTrue(Files.exists(pidFile) && Files.exists(socketLock));
        } finally {
            inside.destroyForcibly();
            inside.waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals(Set.of(pidFile, socketLock), Set.copyOf(StaleLockFiles.remove(pgdata, sockets, Duration.ofSeconds(5))));
    }
}
