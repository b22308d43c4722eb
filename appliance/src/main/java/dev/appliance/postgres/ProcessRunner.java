package dev.appliance.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one PostgreSQL program to completion, bounded in time, as the operating-system user postgres runs
 * as. Secrets never go on its command line: programs get them from files named in the environment
 * ({@code PGPASSFILE}).
 */
final class ProcessRunner {
    private ProcessRunner() {
    }

    /** The result of a program: its exit code and everything it printed. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** The command prefixed to run as {@code user} (when this process is root), dying with its parent. */
    static List<String> asUser(String user, boolean dieWithParent, List<String> command) {
        List<String> out = new ArrayList<>();
        boolean switchUser = user != null && isRoot();
        if (switchUser || dieWithParent) {
            out.add("setpriv");
            if (switchUser) {
                out.addAll(List.of("--reuid=" + user, "--regid=" + user, "--init-groups"));
            }
            if (dieWithParent) {
                out.addAll(List.of("--pdeathsig", "KILL"));
            }
            out.add("--");
        }
        out.addAll(command);
        return out;
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Result run(String user, List<String> command, Map<String, String> env, Path workDir, long timeoutSeconds,
            Consumer<String> lines) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(asUser(user, true, command)).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
        pb.environment().put("LANG", "C.UTF-8");
        pb.environment().put("LC_ALL", "C.UTF-8");
        pb.environment().putAll(env);
        if (workDir != null) {
            pb.directory(workDir.toFile());
        }
        Process p = pb.start();
        StringBuilder all = new StringBuilder();
        Thread reader = new Thread(() -> readLines(p.getInputStream(), line -> {
            synchronized (all) {
                all.append(line).append('\n');
            }
            lines.accept(line);
        }), "output-" + command.get(0));
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new IOException(Path.of(command.get(0)).getFileName() + " did not finish within " + timeoutSeconds
                        + " s and was killed");
            }
            reader.join(5000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
        synchronized (all) {
            return new Result(p.exitValue(), all.toString());
        }
    }

    /** Runs a quick program (as this process's user) and returns what it printed; fails on a non-zero exit. */
    static String output(List<String> command, long timeoutSeconds) throws IOException {
        Result r = run(null, command, Map.of(), null, timeoutSeconds, line -> { });
        if (!r.ok()) {
            throw new IOException(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.output().trim());
        }
        return r.output();
    }

    /** Reads lines ending in \n, \r or both (progress meters rewrite a line with \r). */
    static void readLines(InputStream in, Consumer<String> lines) {
        try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isEmpty()) {
                    lines.accept(line);
                }
            }
        } catch (IOException ignored) {
            // the program closed its output
        }
    }
}
