package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Postgres never outlives its daemon: SIGKILL the daemon's JVM and its postmaster goes too. */
class PostgresLifelineTest {
    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.bind(new java.net.InetSocketAddress("127.0.0.78", 0));
            return s.getLocalPort();
        }
    }

    @Test
    void postgresDiesWithItsDaemon() throws Exception {
        PgTestNodes.create(77, 1).close(); // skips, with the reason printed, where postgres cannot run
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-lifeline-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process daemon = new ProcessBuilder(List.of(javaBin, "-cp", System.getProperty("java.class.path"),
                LifelineChild.class.getName(), dir.resolve("node").toString(), "127.0.0.78", Integer.toString(freePort())))
                .redirectErrorStream(true).start();
        ProcessHandle pm = null;
        try {
            long postmaster = -1;
            BufferedReader out = new BufferedReader(new InputStreamReader(daemon.getInputStream()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            for (String line; System.nanoTime() < deadline && (line = out.readLine()) != null; ) {
                if (line.startsWith("POSTMASTER ")) {
                    postmaster = Long.parseLong(line.substring("POSTMASTER ".length()).trim());
                    break;
                }
            }
            assertTrue(postmaster > 0, "the stand-in daemon did not start postgres");
            pm = ProcessHandle.of(postmaster).orElseThrow();
            assertTrue(pm.isAlive());
            daemon.destroyForcibly();
            daemon.waitFor(30, TimeUnit.SECONDS);
            long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (pm.isAlive() && System.nanoTime() < gone) { // the handle knows its start time: no pid reuse
                Thread.sleep(50);
            }
            assertTrue(!pm.isAlive(), "postgres outlived its daemon");
        } finally {
            daemon.destroyForcibly();
            // If the lifeline failed, the orphan is ours to stop.
            if (pm != null && pm.isAlive()) {
                pm.destroyForcibly();
            }
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
