package dev.appliance.harness;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.store.StoreClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A store cluster of separate JVMs ({@link StoreNode}), node i on 127.0.0.(base + i - 1). Used by the
 * process tests and by {@code bench/raft-failover}.
 */
public final class StoreProcesses implements AutoCloseable {
    private final String cluster;
    private final Path dir;
    private final Map<MemberId, String> addresses = new TreeMap<>();
    private final Map<MemberId, NodeProcess> nodes = new TreeMap<>();
    private final Map<String, String> options;

    private StoreProcesses(String cluster, Path dir, Map<String, String> options) {
        this.cluster = cluster;
        this.dir = dir;
        this.options = options;
    }

    /**
     * Starts {@code size} nodes. Options: {@code sessionTtlMs}, {@code closeThresholdMs}.
     */
    public static StoreProcesses start(String cluster, Path dir, int base, int size, Map<String, String> options)
            throws IOException {
        StoreProcesses c = new StoreProcesses(cluster, dir, options);
        for (int i = 1; i <= size; i++) {
            String host = "127.0.0." + (base + i - 1);
            c.addresses.put(MemberId.of("n" + i), host + ":" + freePort(host));
        }
        for (MemberId id : c.addresses.keySet()) {
            c.restart(id);
        }
        return c;
    }

    public List<MemberId> ids() {
        return List.copyOf(addresses.keySet());
    }

    public Map<MemberId, String> addresses() {
        return Map.copyOf(addresses);
    }

    public NodeProcess node(MemberId id) {
        return nodes.get(id);
    }

    /** (Re)starts the node from its data directory. */
    public NodeProcess restart(MemberId id) throws IOException {
        NodeProcess old = nodes.get(id);
        if (old != null && old.alive()) {
            throw new IllegalStateException(id + " still runs");
        }
        String peers = addresses.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
        List<String> args = new ArrayList<>(List.of(cluster, id.value(), addresses.get(id),
                dir.resolve(id.value()).toString(), peers,
                options.getOrDefault("sessionTtlMs", "3000")));
        if (options.containsKey("closeThresholdMs")) {
            args.add(options.get("closeThresholdMs"));
        }
        NodeProcess p = NodeProcess.start(id.value(), dir.resolve(id.value() + ".log"), StoreNode.class.getName(), args);
        nodes.put(id, p);
        return p;
    }

    public StoreClient client() {
        return new StoreClient(cluster, addresses, Duration.ofMillis(1000), Duration.ofSeconds(15));
    }

    /** The leader, as the members themselves report it; waits for one. */
    public MemberId awaitLeader(StoreClient client, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<MemberId> leader = client.leader();
            if (leader.isPresent() && nodes.get(leader.get()).alive()) {
                return leader.get();
            }
            sleep(20);
        }
        throw new IllegalStateException("no leader within " + timeout + " (logs under " + dir + ")");
    }

    /** Waits until every member of {@code members} holds a live session (they renew every 500 ms). */
    public void awaitSessions(StoreClient client, List<MemberId> members, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (client.sessions().keySet().containsAll(members)) {
                return;
            }
            sleep(50);
        }
        throw new IllegalStateException("sessions of " + members + " not all live within " + timeout
                + ": " + client.sessions().keySet());
    }

    static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (NodeProcess p : nodes.values()) {
            p.close();
        }
    }
}
