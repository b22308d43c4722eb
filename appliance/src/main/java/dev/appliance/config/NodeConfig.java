package dev.appliance.config;

import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.store.DocumentStore;
import dev.appliance.consensus.store.StoreConfig;
import dev.appliance.peer.EngineSettings;
import dev.appliance.postgres.PgNodeSettings;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A node's whole configuration, validated. Built only by {@link #from}, which reports every problem at once.
 *
 * @param source            where the settings came from (the file, or null when all came from the environment)
 * @param postgresBin       the server programs' directory, or null to discover them
 * @param postgresOverrides the operator's postgres settings ({@code postgres.set.*})
 */
public record NodeConfig(
        Path source,
        MemberId id,
        String clusterName,
        Path dataDir,
        String host,
        int raftPort,
        int postgresPort,
        int apiPort,
        int proxyPort,
        Duration proxyHoldTimeout,
        Map<MemberId, String> peers,
        EngineSettings engine,
        Duration electionTimeoutMin,
        Duration electionTimeoutMax,
        Path postgresBin,
        String postgresUser,
        long postgresMemoryBytes,
        int postgresCpus,
        long slotWalKeepBytes,
        String clientCidr,
        Duration postgresStartTimeout,
        Duration postgresHangTimeout,
        long cloneMaxRateBytes,
        boolean join,
        boolean drills,
        Map<String, String> postgresOverrides) {

    /** The configuration could not be used; {@link #problems()} lists why. */
    public static final class ConfigException extends Exception {
        private final List<String> problems;

        public ConfigException(List<String> problems) {
            super(problems.size() == 1 ? "the configuration has a problem: " + problems.get(0)
                    : "the configuration has " + problems.size() + " problems:\n  " + String.join("\n  ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    public NodeConfig {
        peers = java.util.Collections.unmodifiableMap(new TreeMap<>(peers));
        postgresOverrides = Map.copyOf(new TreeMap<>(postgresOverrides));
    }

    public static NodeConfig from(Path file, Map<String, String> env) throws ConfigException {
        return from(file, ConfigSource.load(file, env));
    }

    /** A configuration from settings by key ({@code node.id}, {@code postgres.set.work_mem}), checked as a file is. */
    public static NodeConfig fromSettings(Map<String, String> settings) throws ConfigException {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        settings.forEach((key, value) -> env.put(Setting.envName(key), value));
        return from(null, env);
    }

    static NodeConfig from(Path file, ConfigSource src) throws ConfigException {
        Reader r = new Reader(src);
        MemberId id = r.get(Settings.NODE_ID, MemberId::of);
        String cluster = r.get(Settings.CLUSTER_NAME, Reader::nonBlank);
        Path dataDir = r.get(Settings.DATA_DIR, t -> Path.of(nonBlankText(t)).toAbsolutePath().normalize());
        String host = r.get(Settings.HOST, Reader::nonBlank);
        Integer raftPort = r.get(Settings.RAFT_PORT, Values::port);
        Integer pgPort = r.get(Settings.POSTGRES_PORT, Values::port);
        Integer apiPort = r.get(Settings.API_PORT, Values::port);
        Integer proxyPort = r.get(Settings.PROXY_PORT, Values::port);
        Duration holdTimeout = r.get(Settings.PROXY_HOLD_TIMEOUT, Values::duration);
        Map<MemberId, String> peers = r.get(Settings.PEERS, NodeConfig::peers);
        Duration heartbeat = r.get(Settings.HEARTBEAT, Values::duration);
        Duration ttl = r.get(Settings.TTL, Values::duration);
        Duration fenceMargin = r.get(Settings.FENCE_MARGIN, Values::duration);
        Duration electionMin = r.get(Settings.ELECTION_TIMEOUT_MIN, Values::duration);
        Duration electionMax = r.get(Settings.ELECTION_TIMEOUT_MAX, Values::duration);
        Long maxLag = r.get(Settings.SYNC_MAX_LAG, Values::bytes);
        Duration dwell = r.get(Settings.SYNC_DWELL, Values::duration);
        Duration syncFail = r.get(Settings.SYNC_FAIL_TIMEOUT, Values::duration);
        Duration pgRestart = r.get(Settings.PG_RESTART_TIMEOUT, Values::duration);
        Duration switchover = r.get(Settings.SWITCHOVER_TIMEOUT, Values::duration);
        Boolean twoNode = r.get(Settings.ALLOW_TWO_NODE_FAILOVER, Values::bool);
        Boolean singleton = r.get(Settings.SINGLETON, Values::bool);
        Boolean join = r.get(Settings.JOIN, Values::bool);
        Boolean drills = r.get(Settings.DRILLS, Values::bool);
        Path pgBin = r.get(Settings.POSTGRES_BIN, t -> t.isBlank() ? null : Path.of(t));
        String pgUser = r.get(Settings.POSTGRES_USER, Reader::nonBlank);
        Long memory = r.get(Settings.POSTGRES_MEMORY, t -> t.isBlank() ? defaultMemory() : Values.bytes(t));
        Integer cpus = r.get(Settings.POSTGRES_CPUS, t -> {
            int n = Values.integer(t);
            if (n < 0) {
                throw new IllegalArgumentException("must not be negative");
            }
            return n == 0 ? Runtime.getRuntime().availableProcessors() : n;
        });
        Long slotKeep = r.get(Settings.POSTGRES_SLOT_WAL_KEEP, Values::bytes);
        String cidr = r.get(Settings.POSTGRES_CLIENT_CIDR, Reader::nonBlank);
        Duration startTimeout = r.get(Settings.POSTGRES_START_TIMEOUT, Values::duration);
        Duration hangTimeout = r.get(Settings.POSTGRES_HANG_TIMEOUT, Values::duration);
        Long cloneRate = r.get(Settings.CLONE_MAX_RATE, Values::bytes);
        Map<String, String> overrides = new TreeMap<>();
        src.values().forEach((k, v) -> {
            if (k.startsWith(Settings.POSTGRES_SET)) {
                overrides.put(k.substring(Settings.POSTGRES_SET.length()), v.text());
            }
        });

        List<String> problems = r.problems;
        EngineSettings engine = null;
        if (heartbeat != null && ttl != null && fenceMargin != null && maxLag != null && dwell != null && syncFail != null
                && pgRestart != null && switchover != null && twoNode != null && singleton != null) {
            try {
                engine = new EngineSettings(heartbeat, ttl, fenceMargin, maxLag, dwell, syncFail, pgRestart, switchover,
                        twoNode, singleton);
            } catch (IllegalArgumentException e) {
                problems.add("timing: " + e.getMessage());
            }
        }
        if (hangTimeout != null && hangTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            problems.add(Settings.POSTGRES_HANG_TIMEOUT.key() + " (" + Values.format(hangTimeout) + ") must be at least 1s: "
                    + "a busy postgres may take that long to answer, and a hung one is killed");
        }
        if (join != null && singleton != null && join && singleton) {
            problems.add("join and singleton contradict each other: a one-node cluster has nobody to join");
        }
        if (peers != null && singleton != null && id != null) {
            if (peers.isEmpty() && !singleton) {
                problems.add(Settings.PEERS.key() + ": name the initial members (id=host:raftPort, comma-separated), "
                        + "or set singleton = true for a one-node cluster");
            }
            if (!peers.isEmpty() && !peers.containsKey(id)) {
                problems.add(Settings.PEERS.key() + ": this node (" + id + ") is not in the list " + peers.keySet());
            } else if (!peers.isEmpty() && host != null && raftPort != null && !peers.get(id).equals(host + ":" + raftPort)) {
                problems.add(Settings.PEERS.key() + ": lists " + id + " at " + peers.get(id) + ", but host and raft.port "
                        + "say " + host + ":" + raftPort);
            }
        }
        if (raftPort != null && pgPort != null && apiPort != null && proxyPort != null
                && new HashSet<>(List.of(raftPort, pgPort, apiPort, proxyPort)).size() < 4) {
            problems.add("ports: raft.port, postgres.port, api.port and proxy.port must all differ");
        }
        if (electionMin != null && electionMax != null && ttl != null) {
            if (electionMin.compareTo(electionMax) > 0) {
                problems.add("election.timeout.min (" + Values.format(electionMin) + ") exceeds election.timeout.max ("
                        + Values.format(electionMax) + ")");
            } else if (ttl.compareTo(electionMax) <= 0) {
                problems.add("ttl (" + Values.format(ttl) + ") must exceed election.timeout.max ("
                        + Values.format(electionMax) + ")");
            }
        }
        problems.addAll(0, src.problems());
        NodeConfig config = null;
        if (problems.isEmpty()) {
            config = new NodeConfig(file, id, cluster, dataDir, host, raftPort, pgPort, apiPort, proxyPort, holdTimeout,
                    peers.isEmpty() ? Map.of(id, host + ":" + raftPort) : peers, engine, electionMin, electionMax, pgBin,
                    pgUser, memory, cpus, slotKeep, cidr, startTimeout, hangTimeout, cloneRate, join, drills, overrides);
            try {
                config.pgSettings(List.of());
                config.storeConfig();
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    /** The store's view of this node's settings. */
    public StoreConfig storeConfig() {
        return new StoreConfig(clusterName, id, host, raftPort, peers, false, dataDir, electionTimeoutMin,
                electionTimeoutMax, Duration.ofSeconds(2), Duration.ofSeconds(10), engine.ttl(), 1000,
                DocumentStore.DEFAULT_AUDIT_LIMIT, Duration.ofSeconds(60));
    }

    /** The postgres supervisor's settings; {@code peerHosts} are the members replication is allowed from. */
    public PgNodeSettings pgSettings(List<String> peerHosts) {
        List<String> hosts = new ArrayList<>(peerHosts);
        peers.values().forEach(address -> hosts.add(address.substring(0, address.lastIndexOf(':'))));
        return new PgNodeSettings(id, host, postgresPort, postgresUser, postgresMemoryBytes, postgresCpus,
                postgresOverrides, slotWalKeepBytes >> 20, hosts.stream().distinct().toList(), clientCidr);
    }

    /** This node as the member registry records it. */
    public Member member() {
        return new Member(id, host, raftPort, postgresPort, proxyPort, apiPort, "", Map.of());
    }

    private static Map<MemberId, String> peers(String text) {
        Map<MemberId, String> out = new TreeMap<>();
        if (text.isBlank()) {
            return out;
        }
        Set<String> addresses = new HashSet<>();
        for (String entry : text.split(",")) {
            String e = entry.strip();
            int eq = e.indexOf('=');
            int colon = e.lastIndexOf(':');
            if (eq <= 0 || colon < eq + 2 || colon == e.length() - 1) {
                throw new IllegalArgumentException("'" + e + "' is not id=host:raftPort");
            }
            MemberId member = MemberId.of(e.substring(0, eq).strip());
            String address = e.substring(eq + 1).strip();
            Values.port(address.substring(address.lastIndexOf(':') + 1));
            if (out.put(member, address) != null) {
                throw new IllegalArgumentException(member + " is listed twice");
            }
            if (!addresses.add(address)) {
                throw new IllegalArgumentException("two members share the address " + address);
            }
        }
        return out;
    }

    private static long defaultMemory() {
        long total = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return Math.max(256L << 20, total / 4);
    }

    private static String nonBlankText(String t) {
        if (t.isBlank()) {
            throw new IllegalArgumentException("must not be empty");
        }
        return t;
    }

    /** Reads typed values, collecting a problem (with the value's origin) for each that is missing or invalid. */
    private static final class Reader {
        final ConfigSource src;
        final List<String> problems = new ArrayList<>();

        Reader(ConfigSource src) {
            this.src = src;
        }

        <T> T get(Setting s, Function<String, T> parse) {
            var v = src.get(s.key());
            if (v.isEmpty() && s.required()) {
                problems.add(s.key() + " is required (" + s.description() + " Environment: " + s.envName() + ")");
                return null;
            }
            String text = v.map(ConfigSource.Value::text).orElse(s.defaultValue());
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                problems.add(v.map(ConfigSource.Value::origin).orElse("default") + ": " + s.key() + ": " + e.getMessage());
                return null;
            }
        }

        static String nonBlank(String t) {
            return nonBlankText(t);
        }
    }
}
