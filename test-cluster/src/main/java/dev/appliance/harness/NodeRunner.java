package dev.appliance.harness;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Starts a node daemon from its configuration: as a local process (the default) or in a container. */
public interface NodeRunner {
    /**
     * Starts {@code node}'s daemon, its output appended to {@code node.log()}.
     *
     * @param cgroup the cgroup to run it in (partitions tell nodes apart by it), or null
     */
    NodeHandle start(LocalCluster.NodeSpec node, Path cgroup) throws IOException;

    /** The name bin/jepsen and the tests know it by. */
    String name();

    /** Why this runner's nodes cannot take the nemesis {@code fault}, or empty when they can. */
    Optional<String> whyCannot(String fault);

    /** Local processes on this machine: the daemon's JVM with this JVM's class path, postgres as its child. */
    NodeRunner PROCESSES = new NodeRunner() {
        @Override
        public NodeHandle start(LocalCluster.NodeSpec node, Path cgroup) throws IOException {
            return NodeProcess.startDaemon(node.id().value(), node.log(), node.config(), cgroup);
        }

        @Override
        public String name() {
            return "process";
        }

        @Override
        public Optional<String> whyCannot(String fault) {
            return Optional.empty();
        }
    };
}
