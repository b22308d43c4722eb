package dev.appliance.resources;

import dev.appliance.postgres.PgBinaries;
import dev.appliance.postgres.PgCredentials;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dumps and restores a resource's database with the daemon's own pg_dump and pg_restore, against the primary, in
 * PostgreSQL's custom format, so files are interchangeable with plain pg_dump and pg_restore. The password
 * reaches them in a pgpass file readable only by the daemon's user, never on a command line.
 */
public final class PgArchives {
    private static final int MAX_MESSAGES = 10;
    private static final Pattern IGNORED = Pattern.compile("errors ignored on restore: (\\d+)");

    private final PgBinaries bin;
    private final PgCredentials credentials;
    private final Path workDir;

    /** What a restore did: pg_restore's exit code, how many errors it met, and the first of their messages. */
    public record Restored(int exitCode, int errors, List<String> messages, int entries, boolean atomic) {
        public boolean ok() {
            return exitCode == 0 && errors == 0;
        }
    }

    public PgArchives(PgBinaries bin, PgCredentials credentials, Path workDir) {
        this.bin = bin;
        this.credentials = credentials;
        this.workDir = workDir;
    }

    /**
     * Streams a custom-format dump of {@code database} on the primary to {@code out}; returns its size.
     *
     * @throws IOException pg_dump failed (its messages are in the exception) or {@code out} went away
     */
    public long dump(PrimaryAddress primary, String database, OutputStream out) throws IOException {
        Path passfile = passfile(primary);
        Process p = null;
        try {
            p = start(List.of(bin.tool("pg_dump").toString(), "--format=custom", "--host=" + primary.host(),
                    "--port=" + primary.port(), "--username=" + PgCredentials.SUPERUSER, "--no-password",
                    "--dbname=" + database), passfile, true);
            Messages errors = Messages.collect(p.getErrorStream());
            long total;
            try (InputStream in = p.getInputStream()) {
                total = in.transferTo(out);
            }
            int exit = waitFor(p);
            if (exit != 0) {
                throw new IOException("pg_dump of " + database + " on " + primary + " failed (exit " + exit + "): "
                        + errors.summary());
            }
            out.flush();
            return total;
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();    // the receiver went away: stop reading the database
            }
            Files.deleteIfExists(passfile);
        }
    }

    /**
     * Copies an uploaded archive to a file of its own, so it is read whole, and checked, before anything in the
     * database is touched. The caller deletes it.
     */
    public Path spool(InputStream upload) throws IOException {
        Files.createDirectories(workDir);
        Path f = Files.createTempFile(workDir, "restore-", ".dump");
        try {
            Files.copy(upload, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(f);
            throw e;
        }
        return f;
    }

    /**
     * Restores {@code archive} into the resource's database, owned by the resource's role. Atomic (one transaction,
     * stopping at the first error, so a failed restore changes nothing) unless {@code keepGoing}, which carries on
     * past errors the way plain pg_restore does and counts them.
     *
     * @throws IllegalArgumentException the file is not a custom-format archive pg_restore can read
     */
    public Restored restore(PrimaryAddress primary, Resource r, Path archive, boolean clean, boolean keepGoing)
            throws IOException {
        int entries = entries(archive);
        Path passfile = passfile(primary);
        try {
            List<String> cmd = new ArrayList<>(List.of(bin.tool("pg_restore").toString(), "--host=" + primary.host(),
                    "--port=" + primary.port(), "--username=" + PgCredentials.SUPERUSER, "--no-password",
                    "--dbname=" + r.database(), "--role=" + r.user(), "--no-owner", "--no-acl"));
            if (clean) {
                cmd.addAll(List.of("--clean", "--if-exists"));
            }
            if (!keepGoing) {
                cmd.add("--single-transaction");
            }
            cmd.add(archive.toString());
            Process p = start(cmd, passfile, false);
            Messages messages = Messages.collect(p.getErrorStream());
            int exit = waitFor(p);
            messages.await();
            int errors = messages.errorLines();
            Matcher m = IGNORED.matcher(messages.all());
            if (m.find()) {
                errors = Math.max(errors, Integer.parseInt(m.group(1)));
            }
            if (exit != 0 && errors == 0) {
                errors = 1;
            }
            return new Restored(exit, errors, messages.first(MAX_MESSAGES), entries, !keepGoing);
        } finally {
            Files.deleteIfExists(passfile);
        }
    }

    /** How many entries the archive's table of contents lists; refuses a file that is not an archive. */
    private int entries(Path archive) throws IOException {
        Process p = start(List.of(bin.tool("pg_restore").toString(), "--list", archive.toString()), null, true);
        Messages errors = Messages.collect(p.getErrorStream());
        int count = 0;
        try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith(";")) {
                    count++;
                }
            }
        }
        if (waitFor(p) != 0) {
            throw new IllegalArgumentException("the file is not an archive pg_restore can read (" + errors.summary()
                    + "); make it with 'appliance pg dump' or 'pg_dump --format=custom'");
        }
        return count;
    }

    private Path passfile(PrimaryAddress primary) throws IOException {
        Files.createDirectories(workDir);
        Path f = workDir.resolve("pgpass-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        PgCredentials.writeSecretFile(f, primary.host() + ":" + primary.port() + ":*:" + PgCredentials.SUPERUSER + ":"
                + credentials.superuserPassword() + "\n");
        return f;
    }

    private static Process start(List<String> command, Path passfile, boolean readStdout) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (!readStdout) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        }
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.environment().put("PGAPPNAME", "appliance");
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        if (passfile != null) {
            pb.environment().put("PGPASSFILE", passfile.toString());
        }
        return pb.start();
    }

    private static int waitFor(Process p) throws IOException {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** A program's stderr, read on its own thread so the program never blocks on it. */
    private static final class Messages {
        private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread reader;

        private Messages(InputStream in) {
            reader = new Thread(() -> {
                try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (lines.size() < 10_000) {
                            lines.add(line);
                        }
                    }
                } catch (IOException ignored) {
                    // the program ended
                }
            }, "pg-archive-stderr");
            reader.setDaemon(true);
            reader.start();
        }

        static Messages collect(InputStream in) {
            return new Messages(in);
        }

        void await() {
            try {
                reader.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        int errorLines() {
            synchronized (lines) {
                return (int) lines.stream().filter(l -> l.contains("error:")).count();
            }
        }

        List<String> first(int n) {
            synchronized (lines) {
                List<String> errs = lines.stream().filter(l -> l.contains("error:")).limit(n).toList();
                return errs.isEmpty() ? lines.stream().limit(n).toList() : errs;
            }
        }

        String all() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }

        String summary() {
            await();
            List<String> f = first(3);
            return f.isEmpty() ? "no message" : String.join("; ", f);
        }
    }
}
