package dev.appliance.embed;

import dev.appliance.api.HttpApi;
import dev.appliance.api.Metrics;
import dev.appliance.config.NodeConfig;
import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.node.Node;
import dev.appliance.node.NodeView;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node of the appliance inside another JVM (a scheduler, a test harness): the same daemon as {@code appliance node
 * start}, with its postgres, its consensus member, its proxy and (unless turned off) its HTTP API.
 *
 * <pre>{@code
 * try (EmbeddedNode node = EmbeddedNode.builder()
 *         .nodeId("n1").host("10.0.0.11").dataDir(Path.of("/srv/appliance"))
 *         .peers("n1=10.0.0.11:7000,n2=10.0.0.12:7000,n3=10.0.0.13:7000")
 *         .set("postgres.memory", "1GB")
 *         .onRoleChange(change -> log.info("now {}{}", change.to(), change.serving() ? ", serving" : ""))
 *         .start()) {
 *     EmbeddedNode.Status s = node.status();
 * }   // close(): a primary hands over to its sync, then everything stops
 * }</pre>
 *
 * A node that loses its consensus store for good does not end the host JVM (the daemon would): it stops, and
 * listeners hear {@link RoleChange#failed()}.
 */
public final class EmbeddedNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedNode.class);

    /**
     * What this node is now. {@code role} is {@link Role#UNASSIGNED} until the cluster has placed it; {@code serving}
     * says its postgres does that role's work (a writable primary clients are routed to, a streaming replica).
     */
    public record Status(MemberId id, Role role, boolean serving, long generation, String primary, String sync,
            boolean postgresRunning, boolean fenced, boolean stopped) {
    }

    /**
     * A change of this node's role, of whether it serves in it, or of the generation.
     *
     * @param serving the node's postgres does the new role's work; a new primary is named before it serves
     * @param failed  the node stopped because its consensus store did ({@code reason} says why)
     */
    public record RoleChange(MemberId id, Role from, Role to, boolean serving, long generation, boolean failed,
            String reason) {
    }

    /** Called on the node's own notification thread, one change at a time, in order. */
    @FunctionalInterface
    public interface RoleChangeListener {
        void changed(RoleChange change);
    }

    private final Node node;
    private final HttpApi api;
    private final List<RoleChangeListener> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService notifier = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "embedded-node-events");
        t.setDaemon(true);
        return t;
    });
    private final AtomicReference<RoleChange> last = new AtomicReference<>();
    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedNode(Node node, HttpApi api, List<RoleChangeListener> initial) {
        this.node = node;
        this.api = api;
        this.listeners.addAll(initial);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Adds a listener; it hears every change from now on. */
    public void onRoleChange(RoleChangeListener listener) {
        listeners.add(listener);
    }

    public Status status() {
        NodeView v = node.view();
        if (v == null || v.state() == null) {
            return new Status(node.config().id(), Role.UNASSIGNED, false, 0, "", "",
                    node.postgresStatus().observation().isRunning(), false, stopped.get());
        }
        ClusterState st = v.state().value();
        boolean running = !stopped.get() && v.postgres().observation().isRunning();
        return new Status(v.self(), v.role(), running && serving(v), st.generation(), text(st.primary()),
                text(st.sync()), running, v.decision().fenced(), stopped.get());
    }

    /** The daemon itself, for what this handle does not cover (switchover, routes, resources). */
    public Node node() {
        return node;
    }

    /** Stops the node: a primary hands over to its sync first (bounded by the switchover timeout). */
    public void stop() {
        if (stopped.compareAndSet(false, true)) {
            node.shutdown(true);
            if (api != null) {
                api.close();
            }
            notifier.shutdown();
            try {
                notifier.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    private synchronized void observe(NodeView v) {
        if (v.state() == null) {
            return;
        }
        ClusterState st = v.state().value();
        Role role = v.role();
        boolean serving = serving(v);
        RoleChange prev = last.get();
        if (prev != null && prev.to() == role && prev.serving() == serving && prev.generation() == st.generation()) {
            return;
        }
        RoleChange change = new RoleChange(v.self(), prev == null ? Role.UNASSIGNED : prev.to(), role, serving,
                st.generation(), false, "");
        last.set(change);
        publish(change);
    }

    private void failed(String reason) {
        RoleChange prev = last.get();
        Role from = prev == null ? Role.UNASSIGNED : prev.to();
        publish(new RoleChange(node.config().id(), from, Role.UNASSIGNED, false, prev == null ? 0 : prev.generation(), true,
                reason));
        Thread stopper = new Thread(this::stop, "embedded-node-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    private void publish(RoleChange change) {
        try {
            notifier.execute(() -> {
                for (RoleChangeListener l : listeners) {
                    try {
                        l.changed(change);
                    } catch (RuntimeException e) {
                        LOG.warn("a role-change listener failed: {}", e.toString());
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // stopped: nobody is told any more
        }
    }

    /** As the /primary and /replica probes judge it. */
    private static boolean serving(NodeView v) {
        return v.servesAsPrimary() || v.servesAsReplica();
    }

    private static String text(MemberId id) {
        return id == null ? "" : id.value();
    }

    /** Settings by key, as in a configuration file; docs/configuration.md lists them. */
    public static final class Builder {
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<RoleChangeListener> listeners = new java.util.ArrayList<>();
        private boolean api = true;

        private Builder() {
        }

        public Builder nodeId(String id) {
            return set("node.id", id);
        }

        public Builder host(String host) {
            return set("host", host);
        }

        public Builder dataDir(Path dir) {
            return set("data.dir", dir.toAbsolutePath().toString());
        }

        /** {@code id=host:raftPort,...}, this node included. */
        public Builder peers(String peers) {
            return set("peers", peers);
        }

        /** A one-node cluster. */
        public Builder singleton() {
            return set("singleton", "true");
        }

        /** Any setting by its key: {@code raft.port}, {@code postgres.set.work_mem}. */
        public Builder set(String key, String value) {
            settings.put(key, value);
            return this;
        }

        /** Without the HTTP API (on by default: the CLI and probes use it). */
        public Builder withoutApi() {
            this.api = false;
            return this;
        }

        /** A listener that hears every change from the first. */
        public Builder onRoleChange(RoleChangeListener listener) {
            listeners.add(listener);
            return this;
        }

        /**
         * Checks the settings and starts the node. Returns once the consensus store is up and the cluster's
         * secrets are settled, which needs a majority of the members; the role comes later (listen for it).
         *
         * @throws NodeConfig.ConfigException the settings are unusable (every problem is listed); nothing started
         */
        public EmbeddedNode start() throws NodeConfig.ConfigException, IOException {
            NodeConfig cfg = NodeConfig.fromSettings(settings);
            AtomicReference<EmbeddedNode> self = new AtomicReference<>();
            Node node = Node.start(cfg, reason -> {
                EmbeddedNode n = self.get();
                if (n != null) {
                    n.failed(reason);
                }
            });
            HttpApi http = null;
            try {
                if (api) {
                    http = new HttpApi(node, new Metrics(node), () -> {    // POST /stop
                        Thread stopper = new Thread(() -> self.get().stop(), "embedded-node-stop");
                        stopper.setDaemon(true);
                        stopper.start();
                    });
                    http.start();
                }
            } catch (IOException | RuntimeException e) {
                node.close();
                throw e;
            }
            EmbeddedNode embedded = new EmbeddedNode(node, http, listeners);
            self.set(embedded);
            node.onView(embedded::observe);
            NodeView now = node.view();
            if (now != null) {
                embedded.observe(now);
            }
            return embedded;
        }
    }
}
