package dev.appliance.api;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.node.Node;
import dev.appliance.node.NodeView;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The daemon's Prometheus metrics, read from the node loop's latest view at every scrape. */
public final class Metrics {
    private final Node node;
    private final PrometheusMeterRegistry registry;
    private final MultiGauge lag;
    private final MultiGauge sessionAge;

    public Metrics(Node node) {
        this.node = node;
        this.registry = node.registry();
        for (Role role : Role.values()) {
            gauge("appliance_role", "1 for this node's role in the agreed state", Tags.of("role", role.label()),
                    v -> v.state() != null && v.state().value().roleOf(v.self()) == role ? 1 : 0);
        }
        gauge("appliance_generation", "the generation of the agreed cluster state", Tags.empty(),
                v -> v.state() == null ? 0 : v.state().value().generation());
        gauge("appliance_frozen", "1 while the cluster is frozen", Tags.empty(),
                v -> v.state() != null && v.state().value().isFrozen() ? 1 : 0);
        gauge("appliance_fenced", "1 while this node has fenced itself", Tags.empty(), v -> v.decision().fenced() ? 1 : 0);
        gauge("appliance_routable", "1 while this node is the primary clients are routed to", Tags.empty(),
                v -> v.takesClients() ? 1 : 0);
        gauge("appliance_postgres_up", "1 while postgres runs and accepts the daemon's connections", Tags.empty(),
                v -> v.postgres().observation().isRunning() ? 1 : 0);
        gauge("appliance_postgres_timeline", "postgres' timeline", Tags.empty(), v -> v.postgres().observation().timeline());
        for (String kind : List.of("current", "flush", "replay")) {
            gauge("appliance_postgres_wal_position_bytes", "postgres' WAL position", Tags.of("kind", kind), v -> {
                PgObservation pg = v.postgres().observation();
                WalPosition at = kind.equals("current") ? pg.current() : kind.equals("flush") ? pg.flush() : pg.replay();
                return at.value();
            });
        }
        gauge("appliance_session_confirmed_age_seconds", "time since the latest confirmed session renewal was sent",
                Tags.empty(), v -> v.confirmedAt() == null ? -1 : Duration.between(v.confirmedAt(), v.at()).toMillis() / 1000.0);
        gauge("appliance_raft_term", "the Raft term", Tags.empty(), v -> v.raft().term());
        gauge("appliance_raft_leader", "1 while this node is the Raft leader", Tags.empty(),
                v -> v.self().equals(v.raft().leader()) ? 1 : 0);
        gauge("appliance_raft_majority_reachable", "1 while this node reaches a Raft majority", Tags.empty(),
                v -> v.raft().majorityReachable() ? 1 : 0);
        FunctionCounter.builder("appliance_primary_changes", node, Node::primaryChangesSeen)
                .description("changes of the primary this node has seen since it started").register(registry);
        FunctionCounter.builder("appliance_decisions", node, Node::decisionsMade)
                .description("decisions the engine made on this node since it started").register(registry);
        lag = MultiGauge.builder("appliance_member_lag_bytes")
                .description("how far each live member's WAL is behind the primary's").register(registry);
        sessionAge = MultiGauge.builder("appliance_member_live")
                .description("1 for each member holding a live session").register(registry);
    }

    private void gauge(String name, String help, Tags tags, ToDoubleFunction<NodeView> f) {
        Gauge.builder(name, node, n -> n.view() == null ? Double.NaN : f.applyAsDouble(n.view())).description(help)
                .tags(tags).register(registry);
    }

    /** The metrics in Prometheus' text format. */
    public String scrape() {
        NodeView v = node.view();
        if (v != null) {
            List<MultiGauge.Row<?>> lagRows = new ArrayList<>();
            List<MultiGauge.Row<?>> liveRows = new ArrayList<>();
            ClusterState st = v.state() == null ? null : v.state().value();
            MemberStatus primary = st == null ? null : v.sessions().get(st.primary());
            for (Map.Entry<MemberId, MemberStatus> e : v.sessions().entrySet()) {
                liveRows.add(MultiGauge.Row.of(Tags.of("member", e.getKey().value()), 1));
                if (primary != null && !e.getKey().equals(st.primary())) {
                    lagRows.add(MultiGauge.Row.of(Tags.of("member", e.getKey().value()),
                            primary.pg().position().bytesAfter(e.getValue().pg().position())));
                }
            }
            lag.register(lagRows, true);
            sessionAge.register(liveRows, true);
        }
        return registry.scrape();
    }
}
