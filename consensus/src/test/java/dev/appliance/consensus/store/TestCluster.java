package dev.appliance.consensus.store;

import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;

/** Store nodes in this JVM, each on its own loopback address (127.0.0.11, .12, ...), over real gRPC. */
final class TestCluster implements AutoCloseable {
    final String name;
    final Path root;
    final Map<MemberId, String> addresses = new TreeMap<>();
    final Map<MemberId, RaftStore> nodes = new LinkedHashMap<>();

    /** Nodes n1..n{size}; a cluster built again on the same root reuses the addresses the first one chose. */
    TestCluster(String name, Path root, int size) throws IOException {
        this.name = name;
        this.root = root;
        Path saved = root.resolve("addresses");
        if (Files.exists(saved)) {
            for (String line : Files.readAllLines(saved)) {
                String[] p = line.split("=");
                addresses.put(MemberId.of(p[0]), p[1]);
            }
            return;
        }
        for (int i = 1; i <= size; i++) {
            addresses.put(MemberId.of("n" + i), host(i) + ":" + freePort(host(i)));
        }
        Files.createDirectories(root);
        StringBuilder b = new StringBuilder();
        addresses.forEach((id, a) -> b.append(id).append('=').append(a).append('\n'));
        Files.writeString(saved, b);
    }

    static String host(int i) {
        return "127.0.0." + (10 + i);
    }

    static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }

    StoreConfig config(MemberId id) {
        String address = addresses.get(id);
        int colon = address.lastIndexOf(':');
        return StoreConfig.of(name, id, address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)),
                addresses, root.resolve(id.value()));
    }

    TestCluster startAll() throws IOException {
        for (MemberId id : addresses.keySet()) {
            start(id);
        }
        return this;
    }

    RaftStore start(MemberId id) throws IOException {
        return start(config(id));
    }

    RaftStore start(StoreConfig config) throws IOException {
        RaftStore s = RaftStore.start(config);
        nodes.put(config.self(), s);
        return s;
    }

    void stop(MemberId id) {
        RaftStore s = nodes.remove(id);
        if (s != null) {
            s.close();
        }
    }

    /** The leader every running node agrees on (a node that merely still believes it leads is not enough). */
    RaftStore leader(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (RaftStore s : nodes.values()) {
                if (s.isLeader() && nodes.values().stream().allMatch(o -> s.config().self().equals(o.view().leader()))) {
                    return s;
                }
            }
            sleep(20);
        }
        throw new AssertionError("no leader all nodes agree on within " + timeout);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            sleep(20);
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        nodes.values().parallelStream().forEach(RaftStore::close);
        nodes.clear();
    }
}
