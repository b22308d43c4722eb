package dev.appliance.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Route;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.consensus.store.AuditEntry;
import dev.appliance.consensus.store.ClusterDocuments;
import dev.appliance.consensus.store.Documents;
import dev.appliance.consensus.store.RaftStore;
import dev.appliance.consensus.store.Session;
import dev.appliance.node.NodeView;
import dev.appliance.node.StatusCodec;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import dev.appliance.postgres.PgStatus;
import dev.appliance.postgres.ReplicationRow;
import dev.appliance.proxy.ProxyService;
import dev.appliance.proxy.RouteState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The JSON documents of the HTTP API, built from what the node loop last saw. */
public final class ClusterJson {
    static final ObjectMapper JSON = new ObjectMapper();

    private ClusterJson() {
    }

    /**
     * {@code GET /cluster}, the contract behind {@code appliance cluster status --json}: generation, primary,
     * sync, asyncs, frozen, and every member with its role, health, pids and addresses.
     */
    static ObjectNode cluster(NodeView view, RaftStore store) throws InvalidDocumentException {
        ObjectNode out = JSON.createObjectNode();
        ClusterState st = view.state() == null ? null : view.state().value();
        out.put("generation", st == null ? 0 : st.generation());
        out.put("primary", st == null ? null : st.primary().value());
        out.put("sync", st == null || st.sync() == null ? null : st.sync().value());
        ArrayNode asyncs = out.putArray("asyncs");
        if (st != null) {
            st.asyncs().forEach(a -> asyncs.add(a.value()));
        }
        out.put("frozen", st != null && st.isFrozen());
        if (st != null && st.isFrozen()) {
            out.put("frozenReason", st.frozen().reason()).put("frozenAt", st.frozen().at().toString());
        }
        if (st != null && st.switchover() != null) {
            out.putObject("switchover").put("to", st.switchover().to() == null ? null : st.switchover().to().value())
                    .put("requestedAt", st.switchover().requestedAt().toString())
                    .put("requestedBy", st.switchover().requestedBy());
        }
        out.put("singleton", st != null && st.singleton());
        // Who answered, and whether its own view is stale: a fenced node's picture may be out of date.
        out.put("answeredBy", view.self().value()).put("answererFenced", view.decision().fenced());
        Map<MemberId, Versioned<Member>> registry = ClusterDocuments.members(store);
        Map<MemberId, Session> sessions = store.sessions();
        Set<MemberId> all = new TreeSet<>(registry.keySet());
        all.addAll(sessions.keySet());
        if (st != null) {
            all.addAll(st.members());
        }
        WalPosition primaryAt = st == null ? WalPosition.ZERO : Optional.ofNullable(view.sessions().get(st.primary()))
                .map(s -> s.pg().position()).orElse(WalPosition.ZERO);
        ArrayNode members = out.putArray("members");
        for (MemberId id : all) {
            ObjectNode m = members.addObject().put("id", id.value());
            Role role = st == null ? Role.UNASSIGNED : st.roleOf(id);
            m.put("role", role.label());
            MemberStatus status = view.sessions().get(id);
            m.put("live", status != null);
            m.put("healthy", healthy(role, status));
            Optional<StatusCodec.NodeFacts> facts = Optional.ofNullable(sessions.get(id))
                    .flatMap(s -> StatusCodec.facts(s.payload()));
            m.put("daemonPid", facts.map(StatusCodec.NodeFacts::daemonPid).orElse(0L));
            m.put("postgresPid", facts.map(StatusCodec.NodeFacts::postgresPid).orElse(0L));
            Versioned<Member> reg = registry.get(id);
            if (reg != null) {
                Member r = reg.value();
                m.put("api", "http://" + r.host() + ":" + r.apiPort()).put("postgres", r.host() + ":" + r.pgPort())
                        .put("proxy", r.host() + ":" + r.proxyPort()).put("raft", r.host() + ":" + r.raftPort());
            }
            m.put("config", facts.map(StatusCodec.NodeFacts::config).orElse(""));
            if (status != null) {
                PgObservation pg = status.pg();
                m.put("fenced", status.fenced()).put("routable", status.routable());
                ObjectNode p = m.putObject("pg").put("state", pg.state().name().toLowerCase())
                        .put("timeline", pg.timeline()).put("lsn", pg.position().toString())
                        .put("rebuildRequested", pg.rebuildRequested());
                if (pg.upstream() != null) {
                    p.put("upstream", pg.upstream().value()).put("streaming", pg.streaming());
                }
                if (role != Role.PRIMARY && pg.hasData()) {
                    p.put("lagBytes", primaryAt.bytesAfter(pg.position()));
                }
            }
        }
        return out;
    }

    /** A member serves its role: the primary routable, a replica streaming; never while fenced or deposed. */
    static boolean healthy(Role role, MemberStatus status) {
        if (status == null || status.fenced()) {
            return false;
        }
        PgObservation pg = status.pg();
        switch (role) {
            case PRIMARY:
                return pg.state() == PgState.PRIMARY && status.routable();
            case SYNC:
            case ASYNC:
            case UNASSIGNED:
                return pg.state() == PgState.STANDBY && pg.streaming();
            default:
                return false;
        }
    }

    /** {@code GET /status}: this node, in detail. */
    /** Every agreed route, with the address each member's proxy serves it on. */
    static ObjectNode routes(Documents store) throws InvalidDocumentException {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode list = out.putArray("routes");
        for (Versioned<Route> r : ClusterDocuments.routes(store).values()) {
            list.add(route(r.value(), store));
        }
        return out;
    }

    static ObjectNode route(Route r, Documents store) throws InvalidDocumentException {
        ObjectNode o = JSON.createObjectNode().put("id", r.id()).put("service", r.service()).put("leader", r.leader())
                .put("port", r.port());
        ArrayNode addresses = o.putArray("addresses");
        ClusterDocuments.members(store).values().forEach(m -> addresses.add(m.value().host() + ":" + r.port()));
        return o;
    }

    /** What this node's proxy does now: where leader routes go, what it listens on, and what it cannot. */
    static ObjectNode proxy(ProxyService proxy) {
        ObjectNode o = JSON.createObjectNode();
        RouteState s = proxy.state();
        if (s instanceof RouteState.Forward f) {
            o.put("state", "forwarding").put("primary", f.member()).put("to", f.host() + ":" + f.port());
        } else if (s instanceof RouteState.Hold h) {
            o.put("state", "holding").put("why", h.why());
        } else {
            o.put("state", "refusing").put("why", ((RouteState.Refuse) s).why());
        }
        o.put("activeConnections", proxy.activeConnections()).put("nativeTransport", ProxyService.nativeTransport());
        ObjectNode listening = o.putObject("listening");
        proxy.listening().forEach(listening::put);
        ObjectNode problems = o.putObject("problems");
        proxy.problems().forEach(problems::put);
        return o;
    }

    static ObjectNode status(NodeView view, long daemonPid, long postgresPid, Duration uptime) {
        ObjectNode out = JSON.createObjectNode().put("id", view.self().value());
        ClusterState st = view.state() == null ? null : view.state().value();
        out.put("role", st == null ? "unassigned" : st.roleOf(view.self()).label());
        out.put("generation", st == null ? 0 : st.generation());
        out.put("fenced", view.decision().fenced()).put("routable", view.takesClients());
        out.put("reason", view.decision().reason().summary()).put("reasonCode", view.decision().reason().code().name());
        out.put("target", view.decision().postgres().toString());
        out.put("daemonPid", daemonPid).put("uptimeSeconds", uptime.toSeconds());
        out.put("sessionConfirmedMsAgo", view.confirmedAt() == null ? -1
                : Duration.between(view.confirmedAt(), view.at()).toMillis());
        PgStatus pgStatus = view.postgres();
        PgObservation pg = pgStatus.observation();
        ObjectNode p = out.putObject("postgres").put("state", pg.state().name().toLowerCase()).put("pid", postgresPid)
                .put("writable", pg.writable()).put("timeline", pg.timeline()).put("current", pg.current().toString())
                .put("flush", pg.flush().toString()).put("replay", pg.replay().toString())
                .put("upstream", pg.upstream() == null ? null : pg.upstream().value()).put("streaming", pg.streaming())
                .put("diverged", pg.diverged()).put("rebuiltForGeneration", pg.rebuiltForGeneration());
        ArrayNode sync = p.putArray("syncRequired");
        pg.syncRequired().forEach(m -> sync.add(m.value()));
        ArrayNode rows = p.putArray("replication");
        for (ReplicationRow r : pgStatus.replication()) {
            rows.addObject().put("applicationName", r.applicationName()).put("state", r.state())
                    .put("flush", r.flush().toString()).put("flushLagMs", r.flushLag() == null ? null : r.flushLag().toMillis())
                    .put("syncState", r.syncState());
        }
        ObjectNode raft = out.putObject("raft").put("role", view.raft().role()).put("leader", view.raft().leader() == null
                        ? null : view.raft().leader().value()).put("term", view.raft().term())
                .put("majorityReachable", view.raft().majorityReachable()).put("appliedIndex", view.raft().appliedIndex());
        if (!view.raft().followers().isEmpty()) {
            ArrayNode followers = raft.putArray("followers");
            view.raft().followers().forEach(f -> followers.addObject().put("id", f.member().value())
                    .put("lastAnswerMs", f.lastAnswerMs()).put("matchIndex", f.matchIndex()).put("nextIndex", f.nextIndex()));
        }
        return out;
    }

    /** {@code GET /history}: the agreed changes, oldest first, each with who made it and why. */
    static ObjectNode history(List<AuditEntry> audit, int limit) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode entries = out.putArray("entries");
        List<AuditEntry> tail = audit.subList(Math.max(0, audit.size() - limit), audit.size());
        for (AuditEntry e : tail) {
            entries.addObject().put("index", e.index()).put("at", e.at().toString()).put("key", e.key())
                    .put("writer", e.writer()).put("reason", e.reason());
        }
        return out;
    }

    static Map<String, Object> probe(NodeView view) {
        Map<String, Object> out = new TreeMap<>();
        ClusterState st = view.state() == null ? null : view.state().value();
        out.put("id", view.self().value());
        out.put("role", st == null ? "unassigned" : st.roleOf(view.self()).label());
        out.put("state", view.postgres().observation().state().name().toLowerCase());
        out.put("generation", st == null ? 0 : st.generation());
        return out;
    }
}
