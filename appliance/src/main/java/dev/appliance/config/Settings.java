package dev.appliance.config;

import java.util.List;

/** Every setting a node reads, with its default and meaning. */
public final class Settings {
    /** Prefix of the postgres settings an operator sets: {@code postgres.set.work_mem = 64MB}. */
    public static final String POSTGRES_SET = "postgres.set.";

    public static final Setting NODE_ID = new Setting("node.id", null, "id",
            "This member's id: 1-63 of a-z, 0-9, '-', '_'. Chosen once; it never changes, even when addresses do.");
    public static final Setting CLUSTER_NAME = new Setting("cluster.name", "appliance", "name",
            "The cluster this node belongs to. Nodes with different names never form one group.");
    public static final Setting DATA_DIR = new Setting("data.dir", null, "path",
            "Where the node keeps everything: Raft log, postgres data, secrets, forensics.");
    public static final Setting HOST = new Setting("host", null, "address",
            "The address this node listens on and the other members reach it at.");
    public static final Setting RAFT_PORT = new Setting("raft.port", "7000", "port", "The consensus (Raft) port.");
    public static final Setting POSTGRES_PORT = new Setting("postgres.port", "5432", "port", "The port postgres listens on.");
    public static final Setting API_PORT = new Setting("api.port", "8008", "port",
            "The HTTP API port (status, health probes, metrics, switchover).");
    public static final Setting PROXY_PORT = new Setting("proxy.port", "6432", "port",
            "Routes added without a port get the first free one from here up; cluster up's route uses this one.");
    public static final Setting PROXY_HOLD_TIMEOUT = new Setting("proxy.hold.timeout", "10s", "duration",
            "While there is no primary, the proxy holds new connections this long before it refuses them (57P03).");
    public static final Setting PEERS = new Setting("peers", "", "list",
            "The initial voting members as id=host:raftPort, comma-separated, this node included. Empty only "
                    + "with singleton.");
    public static final Setting HEARTBEAT = new Setting("heartbeat", "500ms", "duration",
            "How often the node renews its session and looks at postgres.");
    public static final Setting TTL = new Setting("ttl", "3s", "duration",
            "A session not renewed for this long expires; a primary whose session expired is replaced.");
    public static final Setting FENCE_MARGIN = new Setting("fence.margin", "1s", "duration",
            "A node that could not renew for ttl minus this fences itself, before anyone can replace it.");
    public static final Setting ELECTION_TIMEOUT_MIN = new Setting("election.timeout.min", "500ms", "duration",
            "Raft: a follower that hears no leader for a random time between min and max starts an election.");
    public static final Setting ELECTION_TIMEOUT_MAX = new Setting("election.timeout.max", "1000ms", "duration",
            "See election.timeout.min.");
    public static final Setting SYNC_MAX_LAG = new Setting("sync.max.lag", "16MB", "size",
            "An async further behind the primary than this is not chosen as the sync.");
    public static final Setting SYNC_DWELL = new Setting("sync.dwell", "3s", "duration",
            "How long an async must stream under sync.max.lag before it may become the sync.");
    public static final Setting SYNC_FAIL_TIMEOUT = new Setting("sync.fail.timeout", "3s", "duration",
            "A live sync that has not streamed from the primary for this long is replaced.");
    public static final Setting PG_RESTART_TIMEOUT = new Setting("postgres.restart.timeout", "5s", "duration",
            "A primary whose postgres stays down this long gives up its place, so the sync takes over.");
    public static final Setting SWITCHOVER_TIMEOUT = new Setting("switchover.timeout", "30s", "duration",
            "A planned switchover that has not completed in this time is abandoned.");
    public static final Setting ALLOW_TWO_NODE_FAILOVER = new Setting("allow.two.node.failover", "false", "boolean",
            "With no async left, let the sync take over alone. Acknowledged commits then live on one node "
                    + "until a replica returns.");
    public static final Setting SINGLETON = new Setting("singleton", "false", "boolean",
            "Run as a one-node cluster: the primary acknowledges commits on its own.");
    public static final Setting JOIN = new Setting("join", "false", "boolean",
            "This node is new to a running cluster: on its first start it waits until a member adds it "
                    + "(appliance node add). peers then lists the members it will have. Ignored once it is a member.");
    public static final Setting DRILLS = new Setting("drills", "false", "boolean",
            "Let a token holder inject faults into this node for 'appliance drill': a crash (its supervisor must "
                    + "restart it) or a partition. Off unless you run drills.");
    public static final Setting POSTGRES_BIN = new Setting("postgres.bin", "", "path",
            "The PostgreSQL 15+ server programs; empty: found via PG_BIN, pg_config or /usr/lib/postgresql.");
    public static final Setting POSTGRES_USER = new Setting("postgres.user", "postgres", "name",
            "The operating-system user postgres runs as when the daemon runs as root (never root).");
    public static final Setting POSTGRES_MEMORY = new Setting("postgres.memory", "", "size",
            "The memory postgres is tuned for; empty: a quarter of the machine's, at least 256MB.");
    public static final Setting POSTGRES_CPUS = new Setting("postgres.cpus", "0", "count",
            "The CPUs postgres is tuned for; 0: all of the machine's.");
    public static final Setting POSTGRES_SLOT_WAL_KEEP = new Setting("postgres.slot.wal.keep", "4GB", "size",
            "The WAL an upstream keeps for a member that stopped consuming (max_slot_wal_keep_size).");
    public static final Setting POSTGRES_CLIENT_CIDR = new Setting("postgres.client.cidr", "0.0.0.0/0", "cidr",
            "Where clients may connect from while the node serves them.");
    public static final Setting POSTGRES_START_TIMEOUT = new Setting("postgres.start.timeout", "300s", "duration",
            "How long postgres may take to accept connections after a start (crash recovery included).");
    public static final Setting POSTGRES_HANG_TIMEOUT = new Setting("postgres.hang.timeout", "4s", "duration",
            "A running postgres that answers nothing (neither a query nor a refusal) for this long is killed when it "
            + "must be started again, and restarts with crash recovery.");
    public static final Setting CLONE_MAX_RATE = new Setting("clone.max.rate", "0", "size",
            "Per second, the most a clone copies from its source; 0: unlimited.");

    public static final List<Setting> ALL = List.of(NODE_ID, CLUSTER_NAME, DATA_DIR, HOST, RAFT_PORT, POSTGRES_PORT,
            API_PORT, PROXY_PORT, PROXY_HOLD_TIMEOUT, PEERS, HEARTBEAT, TTL, FENCE_MARGIN, ELECTION_TIMEOUT_MIN, ELECTION_TIMEOUT_MAX,
            SYNC_MAX_LAG, SYNC_DWELL, SYNC_FAIL_TIMEOUT, PG_RESTART_TIMEOUT, SWITCHOVER_TIMEOUT,
            ALLOW_TWO_NODE_FAILOVER, SINGLETON, JOIN, DRILLS, POSTGRES_BIN, POSTGRES_USER, POSTGRES_MEMORY, POSTGRES_CPUS,
            POSTGRES_SLOT_WAL_KEEP, POSTGRES_CLIENT_CIDR, POSTGRES_START_TIMEOUT, POSTGRES_HANG_TIMEOUT, CLONE_MAX_RATE);

    private Settings() {
    }

    /** An annotated configuration file with every setting at its default (required ones left to fill in). */
    public static String template() {
        StringBuilder b = new StringBuilder("# Appliance node configuration. Every setting, with its default; "
                + "APPLIANCE_<KEY> environment variables override the file.\n");
        for (Setting s : ALL) {
            b.append("\n# ").append(s.description()).append(" (").append(s.kind()).append("; ").append(s.envName())
                    .append(")\n");
            b.append(s.required() ? "# required: " + s.key() + " = \n" : s.key() + " = " + s.defaultValue() + "\n");
        }
        b.append("\n# Any postgres setting, after the appliance's own (" + POSTGRES_SET + "<name>; APPLIANCE_POSTGRES_SET_<NAME>):\n"
                + "# " + POSTGRES_SET + "work_mem = 64MB\n");
        return b.toString();
    }

    public static java.util.Optional<Setting> byKey(String key) {
        return ALL.stream().filter(s -> s.key().equals(key)).findFirst();
    }
}
