package dev.appliance.harness;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A node running as a separate JVM: start, SIGKILL, SIGSTOP/SIGCONT, its exit code and the last status
 * line it printed. Its output goes to a log file; the process ends when this JVM does (its stdin closes).
 */
public final class NodeProcess implements NodeHandle {
    private final String name;
    private final Process process;
    private final Path log;
    private final AtomicReference<String> lastStatus = new AtomicReference<>("");
    private final List<String> fatal = new java.util.concurrent.CopyOnWriteArrayList<>();

    private NodeProcess(String name, Process process, Path log, boolean outputInFile) {
        this.name = name;
        this.process = process;
        this.log = log;
        if (!outputInFile) {
            Thread reader = new Thread(this::readOutput, "output-" + name);
            reader.setDaemon(true);
            reader.start();
        }
    }

    /** Starts {@code mainClass} with {@code args} in a new JVM with this JVM's class path. */
    public static NodeProcess start(String name, Path log, String mainClass, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-Dorg.slf4j.simpleLogger.log.org.apache.ratis=" + System.getProperty("harness.ratisLog", "error"),
                "-Dorg.slf4j.simpleLogger.log.org.apache.ratis.server.impl=" + System.getProperty("harness.ratisElectionLog", "error"),
                "-Dorg.slf4j.simpleLogger.log.dev.appliance=" + System.getProperty("harness.applianceLog", "info"),
                "-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return launch(name, log, command, false);
    }

    /** Starts another program (a benchmark's HAProxy or pgbouncer), its output appended to {@code log}. */
    public static NodeProcess startProgram(String name, Path log, List<String> command) throws IOException {
        return launch(name, log, command, true);
    }

    /**
     * Starts a node daemon ({@code dev.appliance.node.Daemon}) with this JVM's class path. It gets SIGTERM when
     * this JVM ends (a parent-death signal), and its output is appended to {@code log} directly.
     */
    public static NodeProcess startDaemon(String name, Path log, Path config, Path cgroup) throws IOException {
        List<String> command = new ArrayList<>();
        if (cgroup != null) {
            // Join the cgroup before anything else runs, so every socket the node opens is already in it.
            command.addAll(List.of("sh", "-c", "echo $$ > \"$0\"/cgroup.procs && exec \"$@\"", cgroup.toString()));
        }
        return launch(name, log, daemonCommand(command, config), true);
    }

    /** The daemon in the network namespace at {@code netns} (a file under /run/netns), as on a host of its own. */
    public static NodeProcess startDaemonIn(String netns, String name, Path log, Path config) throws IOException {
        return launch(name, log, daemonCommand(new ArrayList<>(List.of("nsenter", "--net=" + netns)), config), true);
    }

    private static List<String> daemonCommand(List<String> command, Path config) {
        // Its own session: a terminal's Ctrl-C reaches only the starter, which stops the nodes in order (replicas
        // first), instead of every daemon and postgres at once (a primary would then try to hand over to a sync
        // that is going away, and postgres would shut itself down under its daemon).
        command.addAll(List.of("setsid", "setpriv", "--pdeathsig", "TERM", "--"));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-Xss512k",
                "-Dorg.slf4j.simpleLogger.log.org.apache.ratis=" + System.getProperty("harness.ratisLog", "error"),
                "-Dorg.slf4j.simpleLogger.log.dev.appliance=" + System.getProperty("harness.applianceLog", "info"),
                "-cp", System.getProperty("java.class.path"), "dev.appliance.node.Daemon", "--config", config.toString()));
        return command;
    }

    private static NodeProcess launch(String name, Path log, List<String> command, boolean toFile) throws IOException {
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (toFile) {
            // Straight to the file: the daemon's last lines are kept even when this JVM exits first.
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        return new NodeProcess(name, pb.start(), log, toFile);
    }

    private void readOutput() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("STATUS ")) {
                    lastStatus.set(line);
                } else {
                    if (line.startsWith("FATAL ")) {
                        fatal.add(line);
                    }
                    out.write(line);
                    out.newLine();
                    out.flush();
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public java.util.Optional<String> threads() {
        try {
            return java.util.Optional.of(Commands.run(List.of("jcmd", Long.toString(process.pid()), "Thread.print")));
        } catch (IOException e) {
            return java.util.Optional.of("no thread dump: " + e.getMessage());
        }
    }

    @Override
    public String where() {
        return "pid " + process.pid();
    }

    @Override
    public boolean alive() {
        return process.isAlive();
    }

    /** The latest {@code STATUS role leader term majority applied} line, split. */
    public String[] status() {
        String s = lastStatus.get();
        return s.isEmpty() ? new String[0] : s.substring("STATUS ".length()).split(" ");
    }

    public List<String> fatalLines() {
        return List.copyOf(fatal);
    }

    /** SIGTERM: a daemon leaves cleanly. Returns the exit code, or -1 if it still runs after {@code timeout}. */
    @Override
    public int terminate(Duration timeout) throws InterruptedException {
        process.destroy();
        return awaitExit(timeout);
    }

    /** SIGKILL, and wait until the process is gone. */
    @Override
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    @Override
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String sig) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).redirectErrorStream(true).start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IOException("kill -" + sig + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to exit and returns its exit code, or -1 if it still runs after {@code timeout}. */
    @Override
    public int awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /** The resident set size in KiB, from /proc. */
    public long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for " + process.pid());
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            try {
                resume();
            } catch (IOException ignored) {
                // it may have died meanwhile
            }
            kill();
        }
    }
}
