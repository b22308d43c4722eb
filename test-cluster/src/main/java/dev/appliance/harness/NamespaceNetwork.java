package dev.appliance.harness;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Machines of their own on one machine: each node in a network namespace with one interface and one address
 * (10.77.0.1, .2, ...), joined by a bridge whose own address (10.77.0.254) is where this process reaches them
 * from. A node's firewall is its own there, as on a separate host, so a partition drill's rules cut that node
 * alone. Traffic stays between namespaces this class made. Needs root and iproute2; {@link #close()} removes
 * everything it made, and a new instance first removes what a killed one left.
 */
public final class NamespaceNetwork implements AutoCloseable {
    public static final String PREFIX = "10.77.0.";
    private static final String BRIDGE = "apxbr0";
    private static final String GATEWAY = PREFIX + "254";
    /** As many as a local cluster may have. */
    private static final int MOST = 9;

    private NamespaceNetwork() {
    }

    /** Why namespaces cannot be made here, if they cannot. */
    public static Optional<String> unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("it needs root to make network namespaces");
        }
        if (!Commands.succeeds("ip", "netns", "list")) {
            return Optional.of("iproute2's 'ip netns' does not work here (Debian: apt-get install iproute2)");
        }
        if (!Commands.succeeds("nsenter", "--version")) {
            return Optional.of("nsenter is missing (Debian: apt-get install util-linux)");
        }
        // A container may list namespaces yet not be allowed to make them, or a bridge: try both.
        String probe = "apx-probe-" + ProcessHandle.current().pid();
        boolean namespaces = Commands.succeeds("ip", "netns", "add", probe);
        quietly("ip", "netns", "del", probe);
        if (!namespaces) {
            return Optional.of("this machine does not let us make network namespaces (ip netns add failed)");
        }
        boolean bridges = Commands.succeeds("ip", "link", "add", "apxprobe0", "type", "bridge");
        quietly("ip", "link", "del", "apxprobe0");
        if (!bridges) {
            return Optional.of("this machine does not let us make a bridge (ip link add type bridge failed)");
        }
        return Optional.empty();
    }

    /** {@code count} namespaces, node i at {@link #host(int) host(i)}, all reachable from here. */
    public static NamespaceNetwork create(int count) throws IOException {
        if (count < 1 || count > MOST) {
            throw new IllegalArgumentException("1 to " + MOST + " namespaces, not " + count);
        }
        removeLeftovers();
        NamespaceNetwork net = new NamespaceNetwork();
        try {
            ip("link", "add", BRIDGE, "type", "bridge");
            ip("addr", "add", GATEWAY + "/24", "dev", BRIDGE);
            ip("link", "set", BRIDGE, "up");
            for (int i = 1; i <= count; i++) {
                String ns = namespace(i);
                ip("netns", "add", ns);
                ip("link", "add", "apxv" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
                ip("link", "set", "apxv" + i, "master", BRIDGE);
                ip("link", "set", "apxv" + i, "up");
                ip("-n", ns, "link", "set", "lo", "up");
                ip("-n", ns, "addr", "add", host(i) + "/24", "dev", "eth0");
                ip("-n", ns, "link", "set", "eth0", "up");
            }
        } catch (IOException | RuntimeException e) {
            net.close();
            throw e;
        }
        return net;
    }

    public static String host(int i) {
        return PREFIX + i;
    }

    public static String namespace(int i) {
        return "apx-host" + i;
    }

    /** The namespace a node of this network runs in, from its address. */
    public static String namespaceOf(String host) {
        if (!host.startsWith(PREFIX)) {
            throw new IllegalArgumentException(host + " is not on " + PREFIX + "0/24");
        }
        return namespace(Integer.parseInt(host.substring(PREFIX.length())));
    }

    /** Runs a node's daemon in its namespace: this runner's nodes are hosts of their own. */
    public static NodeRunner runner() {
        return new NodeRunner() {
            @Override
            public NodeHandle start(LocalCluster.NodeSpec node, java.nio.file.Path cgroup) throws IOException {
                return NodeProcess.startDaemonIn("/run/netns/" + namespaceOf(node.host()), node.id().value(), node.log(),
                        node.config());
            }

            @Override
            public String name() {
                return "namespaces";
            }

            @Override
            public Optional<String> whyCannot(String fault) {
                return LoopbackPartitions.NEMESES.contains(fault)
                        ? Optional.of("the loopback partitions do not reach into namespaces; drills partition there")
                        : Optional.empty();
            }
        };
    }

    @Override
    public void close() {
        removeLeftovers();
    }

    private static void removeLeftovers() {
        for (int i = 1; i <= MOST; i++) {
            quietly("ip", "netns", "del", namespace(i));
            quietly("ip", "link", "del", "apxv" + i);
        }
        quietly("ip", "link", "del", BRIDGE);
    }

    private static void ip(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        Commands.run(command);
    }

    private static void quietly(String... command) {
        Commands.succeeds(command);
    }
}
