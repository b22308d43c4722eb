package dev.appliance.peer;

/**
 * Why the engine decided what it decided. Codes are what tests and tooling check; the text is for people
 * (the one-line outcome of a cycle, and the decision audit behind {@code appliance cluster history}).
 */
public enum ReasonCode {
    // Before the cluster exists.
    WAITING_FOR_SESSION("waiting for this node's session to be confirmed"),
    BOOTSTRAP_WAITING_FOR_PEERS("waiting for a second member before creating the cluster"),
    BOOTSTRAP_WAITING_FOR_MEMBER("waiting for another member to create the cluster"),
    BOOTSTRAP_AMBIGUOUS_DATA("several members hold data and no cluster state exists; an operator must choose"),
    INITIALIZING("initializing a new database to create the cluster from"),
    BOOTSTRAP("created the cluster"),

    // The primary.
    PRIMARY_STEADY("primary"),
    PROMOTING("promoting to primary"),
    PRIMARY_RESTARTING("restarting the primary's postgres"),
    PRIMARY_RESIGNED("resigned: postgres stayed down, the sync can take over"),
    PRIMARY_DATA_MISSING("the primary's data directory is missing; it will not be re-created empty"),
    FROZEN("the cluster is frozen; no topology change"),
    SINGLETON_WAITING_FOR_REPLICA("singleton primary; no replica is ready to become the sync"),
    SINGLETON_UPGRADE_PREPARING("leaving singleton mode: requiring the new sync before naming it"),
    SINGLETON_UPGRADE("left singleton mode"),
    SYNC_REPLACEMENT_PREPARING("replacing the sync: requiring the new sync before naming it"),
    SYNC_REPLACED("replaced the sync"),
    SYNC_DROPPED("no replica left: continuing without a sync (allowTwoNodeFailover)"),
    NO_ELIGIBLE_SYNC("the sync is gone and no async is eligible; commits wait"),
    ASYNCS_UPDATED("updated the async list"),
    SWITCHOVER_DRAINING("switchover: draining writes"),
    SWITCHOVER_WAITING_FOR_TARGET("switchover: waiting for the target to catch up"),
    SWITCHOVER_STOPPING("switchover: stopping postgres cleanly"),
    SWITCHOVER("switchover: handed over to the target"),
    SWITCHOVER_ABANDONED("switchover abandoned"),

    // The sync.
    FOLLOWING("following the upstream"),
    TAKEOVER_DETACHING("the primary is gone: detaching from it before taking over"),
    TAKEOVER("took over from the primary"),
    TAKEOVER_REFUSED_FROZEN("the primary is gone, but the cluster is frozen"),
    TAKEOVER_REFUSED_NOT_RUNNING("the primary is gone, but this node's postgres is not running as a standby"),
    TAKEOVER_REFUSED_NOT_CAUGHT_UP("the primary is gone, but this node has not replayed up to initWal"),
    TAKEOVER_REFUSED_NO_ASYNC("the primary is gone, but no async could become the new sync"),

    // Replicas, deposed and unassigned members.
    CLONING("cloning a new copy from a healthy member"),
    REWINDING("rewinding onto the current timeline"),
    RECLONING("rewind is impossible; re-cloning"),
    REBUILDING("rebuilding on an operator's request"),
    REJOIN_PENDING("rebuilt; waiting for the primary to list this node as an async"),
    DEPOSED_WAITING_FOR_PRIMARY("deposed; waiting for a primary to rewind from"),

    // Any node.
    VIEW_STALE("fenced: this node's view of the cluster is stale");

    private final String description;

    ReasonCode(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
