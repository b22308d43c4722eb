package dev.appliance.consensus.store;

import dev.appliance.consensus.state.MemberId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How one node runs its part of the store.
 *
 * @param clusterName        the cluster; the Raft group id is derived from it
 * @param self               this member
 * @param host               the address the Raft server binds and is reached at
 * @param port               the Raft port
 * @param peers              the initial voters, id to {@code host:port}, this node included; empty when
 *                           {@code join} is set
 * @param join               start outside the group and wait for an existing member to add this node
 * @param dataDir            the node's data directory; Raft keeps its log and snapshots in {@code dataDir/raft}
 * @param electionTimeoutMin a follower that hears no leader for a random time in [min, max] starts an election
 * @param electionTimeoutMax see above
 * @param requestTimeout     how long one Raft or client request may take
 * @param writeDeadline      how long a write may take in all, retries included
 * @param sessionTtl         the leader expires a session not renewed for this long
 * @param snapshotEvery      take a snapshot every this many log entries (2 are kept)
 * @param auditLimit         how many document changes the audit log keeps
 * @param closeThreshold     a JVM pause longer than this makes Ratis close the server (the daemon then exits)
 */
public record StoreConfig(
        String clusterName,
        MemberId self,
        String host,
        int port,
        Map<MemberId, String> peers,
        boolean join,
        Path dataDir,
        Duration electionTimeoutMin,
        Duration electionTimeoutMax,
        Duration requestTimeout,
        Duration writeDeadline,
        Duration sessionTtl,
        long snapshotEvery,
        int auditLimit,
        Duration closeThreshold) {

    public StoreConfig {
        if (clusterName == null || clusterName.isBlank()) {
            throw new IllegalArgumentException("a cluster name is required");
        }
        Objects.requireNonNull(self, "self");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("a host address for the Raft server is required");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the Raft port must be 1-65535, got " + port);
        }
        peers = Map.copyOf(new TreeMap<>(peers == null ? Map.of() : peers));
        if (!join && !peers.containsKey(self)) {
            throw new IllegalArgumentException("the peer list must contain this node (" + self + ")");
        }
        if (join && !peers.isEmpty()) {
            throw new IllegalArgumentException("a joining node starts with no peers; an existing member adds it");
        }
        Objects.requireNonNull(dataDir, "dataDir");
        if (electionTimeoutMin.isNegative() || electionTimeoutMin.compareTo(electionTimeoutMax) > 0) {
            throw new IllegalArgumentException("electionTimeoutMin must be positive and at most electionTimeoutMax");
        }
        if (sessionTtl.compareTo(electionTimeoutMax) <= 0) {
            throw new IllegalArgumentException("the session ttl must exceed the election timeout");
        }
        if (snapshotEvery < 10) {
            throw new IllegalArgumentException("snapshotEvery must be at least 10 entries");
        }
    }

    /** A node of an initial cluster, with the default timeouts (elections 500-1000 ms, ttl 3 s). */
    public static StoreConfig of(String clusterName, MemberId self, String host, int port, Map<MemberId, String> peers,
            Path dataDir) {
        return new StoreConfig(clusterName, self, host, port, peers, false, dataDir, Duration.ofMillis(500),
                Duration.ofMillis(1000), Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(3), 1000,
                DocumentStore.DEFAULT_AUDIT_LIMIT, Duration.ofSeconds(60));
    }

    /** A node that will be added to a running cluster by one of its members. */
    public StoreConfig joining() {
        return new StoreConfig(clusterName, self, host, port, Map.of(), true, dataDir, electionTimeoutMin,
                electionTimeoutMax, requestTimeout, writeDeadline, sessionTtl, snapshotEvery, auditLimit, closeThreshold);
    }

    public StoreConfig withSessionTtl(Duration ttl) {
        return new StoreConfig(clusterName, self, host, port, peers, join, dataDir, electionTimeoutMin,
                electionTimeoutMax, requestTimeout, writeDeadline, ttl, snapshotEvery, auditLimit, closeThreshold);
    }

    public StoreConfig withSnapshotEvery(long entries) {
        return new StoreConfig(clusterName, self, host, port, peers, join, dataDir, electionTimeoutMin,
                electionTimeoutMax, requestTimeout, writeDeadline, sessionTtl, entries, auditLimit, closeThreshold);
    }

    public StoreConfig withCloseThreshold(Duration threshold) {
        return new StoreConfig(clusterName, self, host, port, peers, join, dataDir, electionTimeoutMin,
                electionTimeoutMax, requestTimeout, writeDeadline, sessionTtl, snapshotEvery, auditLimit, threshold);
    }

    public String address() {
        return host + ":" + port;
    }

    public Path raftDir() {
        return dataDir.resolve("raft");
    }
}
