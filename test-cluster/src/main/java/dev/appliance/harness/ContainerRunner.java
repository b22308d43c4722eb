package dev.appliance.harness;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs each node in a container of the project's image (the root Dockerfile, built by bin/build-image) on the host
 * network, so it listens on its own 127.0.0.x as a process would. The node's directory is mounted at the same path,
 * so its configuration, data and secrets are where the harness looks for them. Faults go through the Docker
 * engine: kill and SIGTERM to the container's PID 1 (tini, which passes them on), pause with the cgroup freezer.
 *
 * <p>Testcontainers needs {@code TESTCONTAINERS_RYUK_DISABLED=true} and {@code TESTCONTAINERS_CHECKS_DISABLE=true}
 * (neither the reaper's image nor the checks' can be pulled here) and {@code TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1};
 * nothing else reaps, so containers have fixed names and a start
 * removes a leftover of the same name.
 */
public final class ContainerRunner implements NodeRunner {
    /** The image bin/build-image makes. */
    public static final String IMAGE = "appliance:latest";
    /** The uid the image runs as; node directories are given to it. */
    private static final int IMAGE_UID = 999;

    private final String image;

    public ContainerRunner(String image) {
        this.image = image;
    }

    /** Why containers cannot run here (no Docker engine, no image, the settings missing), or empty when they can. */
    public static Optional<String> unavailable(String image) {
        if (!"true".equals(System.getenv("TESTCONTAINERS_RYUK_DISABLED"))
                || !"true".equals(System.getenv("TESTCONTAINERS_CHECKS_DISABLE"))
                || System.getenv("TESTCONTAINERS_HOST_OVERRIDE") == null) {
            return Optional.of("set TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_CHECKS_DISABLE=true and "
                    + "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (Testcontainers' reaper and check images cannot be pulled here)");
        }
        if (!Files.exists(Path.of("/var/run/docker.sock"))) {
            return Optional.of("no Docker engine (/var/run/docker.sock is missing; start dockerd, see docs/deploy.md)");
        }
        try {
            if (!DockerClientFactory.instance().isDockerAvailable()) {
                return Optional.of("the Docker engine does not answer");
            }
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
        } catch (NotFoundException e) {
            return Optional.of("no image " + image + " (build it with bin/build-image)");
        } catch (RuntimeException e) {
            return Optional.of("the Docker engine cannot be used: " + e.getMessage());
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("node directories must be given to uid " + IMAGE_UID + ", which needs root");
        }
        return Optional.empty();
    }

    @Override
    public String name() {
        return "containers";
    }

    @Override
    public Optional<String> whyCannot(String fault) {
        if (LoopbackPartitions.NEMESES.contains(fault)) {
            return Optional.of("the partition rules tell nodes apart by the cgroup the harness puts each process in; "
                    + "containers have the engine's own cgroups");
        }
        if (fault.equals("kill-postgres")) {
            return Optional.of("a daemon reports its postgres's pid inside the container's pid namespace");
        }
        return Optional.empty();
    }

    @Override
    public NodeHandle start(LocalCluster.NodeSpec node, Path cgroup) throws IOException {
        String name = "apx-" + node.host();
        DockerClient docker = DockerClientFactory.instance().client();
        remove(docker, name);
        giveToImageUser(node.dir());
        Files.createDirectories(node.log().getParent());
        BufferedWriter log = Files.newBufferedWriter(node.log(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        String dir = node.dir().toString();
        @SuppressWarnings("resource")    // stopped through the handle; the container outlives this object on purpose
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("host")
                .withCreateContainerCmdModifier(cmd -> cmd.withName(name))
                .withFileSystemBind(dir, dir, BindMode.READ_WRITE)
                // The image's defaults point at its volume; the node's configuration file says where its data is.
                .withEnv("APPLIANCE_DATA_DIR", node.dir().resolve("data").toString())
                .withCommand("node", "start", "--config", node.config().toString())
                .withLogConsumer(frame -> append(log, frame))
                .waitingFor(Wait.forLogMessage(".*", 1).withStartupTimeout(Duration.ofSeconds(60)))
                .withStartupAttempts(1);
        try {
            c.start();
        } catch (RuntimeException e) {
            throw new IOException("the container " + name + " of " + node.id() + " did not start: " + e.getMessage(), e);
        }
        return new ContainerHandle(docker, c.getContainerId(), name, log);
    }

    private static void append(BufferedWriter log, OutputFrame frame) {
        try {
            synchronized (log) {
                log.write(frame.getUtf8String());
                log.flush();
            }
        } catch (IOException ignored) {
            // the log closed with the node
        }
    }

    private static void giveToImageUser(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setAttribute(p, "unix:uid", IMAGE_UID, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(p, "unix:gid", IMAGE_UID, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            }
        }
    }

    private static void remove(DockerClient docker, String name) {
        try {
            docker.removeContainerCmd(name).withForce(true).exec();
        } catch (NotFoundException ignored) {
            // none left over
        }
    }

    /** A node's container. */
    private static final class ContainerHandle implements NodeHandle {
        /** The exit code reported for a container that no longer exists: as if killed. */
        private static final int REMOVED = 137;

        private final DockerClient docker;
        private final String id;
        private final String name;
        private final BufferedWriter log;

        ContainerHandle(DockerClient docker, String id, String name, BufferedWriter log) {
            this.docker = docker;
            this.id = id;
            this.name = name;
            this.log = log;
        }

        @Override
        public String where() {
            return "container " + name;
        }

        /** The container's state; empty once it is removed (a restart of the node replaces it). */
        private Optional<InspectContainerResponse.ContainerState> state() {
            try {
                return Optional.of(docker.inspectContainerCmd(id).exec().getState());
            } catch (NotFoundException e) {
                return Optional.empty();
            }
        }

        @Override
        public boolean alive() {
            return state().map(s -> Boolean.TRUE.equals(s.getRunning())).orElse(false);
        }

        @Override
        public void kill() throws InterruptedException {
            if (alive()) {
                docker.killContainerCmd(id).exec();
            }
            awaitExit(Duration.ofSeconds(30));
        }

        @Override
        public int terminate(Duration timeout) throws InterruptedException {
            if (alive()) {
                docker.killContainerCmd(id).withSignal("TERM").exec();
            }
            return awaitExit(timeout);
        }

        @Override
        public void pause() {
            docker.pauseContainerCmd(id).exec();
        }

        @Override
        public void resume() {
            docker.unpauseContainerCmd(id).exec();
        }

        @Override
        public int awaitExit(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                Optional<InspectContainerResponse.ContainerState> s = state();
                if (s.isEmpty()) {
                    return REMOVED;
                }
                if (!Boolean.TRUE.equals(s.get().getRunning())) {
                    Long code = s.get().getExitCodeLong();
                    return code == null ? 0 : code.intValue();
                }
                if (System.nanoTime() >= deadline) {
                    return -1;
                }
                Thread.sleep(100);
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            if (state().map(s -> Boolean.TRUE.equals(s.getPaused())).orElse(false)) {
                resume();
            }
            kill();
            remove(docker, name);
            synchronized (log) {
                log.close();
            }
        }
    }
}
