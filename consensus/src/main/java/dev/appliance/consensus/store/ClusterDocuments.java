package dev.appliance.consensus.store;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DocumentCodec;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Route;
import dev.appliance.consensus.state.Versioned;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where the cluster's agreed documents live in the store, and how they are read and written typed: the
 * cluster state under {@value #CLUSTER_STATE}, the member registry under {@value #MEMBERS}{@code <id>}, the
 * routes under {@value #ROUTES}{@code <id>}. Cluster settings ({@value #SETTINGS}) take their key from here too.
 */
public final class ClusterDocuments {
    public static final String CLUSTER_STATE = "cluster";
    public static final String MEMBERS = "members/";
    public static final String ROUTES = "routes/";
    public static final String SETTINGS = "settings";

    private ClusterDocuments() {
    }

    public static Optional<Versioned<ClusterState>> clusterState(Documents d) throws InvalidDocumentException {
        Optional<Versioned<String>> raw = d.document(CLUSTER_STATE);
        if (raw.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Versioned<>(raw.get().version(), DocumentCodec.CLUSTER_STATE.decode(raw.get().value())));
    }

    /**
     * The compare-and-set that writes {@code next} over the state at {@code expectedVersion} (0: none yet),
     * applied only if none of {@code requireNoSession} holds a live session.
     */
    public static Command.Put writeClusterState(long expectedVersion, ClusterState next, List<MemberId> requireNoSession,
            String writer, String reason) {
        return new Command.Put(CLUSTER_STATE, expectedVersion, DocumentCodec.CLUSTER_STATE.encodeToString(next),
                requireNoSession, writer, reason);
    }

    public static Map<MemberId, Versioned<Member>> members(Documents d) throws InvalidDocumentException {
        Map<MemberId, Versioned<Member>> out = new TreeMap<>();
        for (var e : d.documents(MEMBERS).entrySet()) {
            Member m = DocumentCodec.MEMBER.decode(e.getValue().value());
            if (!e.getKey().equals(MEMBERS + m.id())) {
                throw new InvalidDocumentException("the member stored under '" + e.getKey() + "' is " + m.id());
            }
            out.put(m.id(), new Versioned<>(e.getValue().version(), m));
        }
        return out;
    }

    /** Registers or updates a member (unconditionally: a member's own record is written by that member). */
    public static Command.Put writeMember(Member m, String writer, String reason) {
        return new Command.Put(MEMBERS + m.id(), -1, DocumentCodec.MEMBER.encodeToString(m), List.of(), writer, reason);
    }

    public static Command.Put removeMember(MemberId id, String writer, String reason) {
        return new Command.Put(MEMBERS + id, -1, null, List.of(), writer, reason);
    }

    public static Map<String, Versioned<Route>> routes(Documents d) throws InvalidDocumentException {
        Map<String, Versioned<Route>> out = new TreeMap<>();
        for (var e : d.documents(ROUTES).entrySet()) {
            Route r = DocumentCodec.ROUTE.decode(e.getValue().value());
            if (!e.getKey().equals(ROUTES + r.id())) {
                throw new InvalidDocumentException("the route stored under '" + e.getKey() + "' is " + r.id());
            }
            out.put(r.id(), new Versioned<>(e.getValue().version(), r));
        }
        return out;
    }

    /** Adds a route; applied only if no route of that id exists (version 0). */
    public static Command.Put addRoute(Route r, String writer, String reason) {
        return new Command.Put(ROUTES + r.id(), 0, DocumentCodec.ROUTE.encodeToString(r), List.of(), writer, reason);
    }

    /** Removes the route at {@code expectedVersion} (compare-and-set, so a route changed meanwhile is kept). */
    public static Command.Put removeRoute(String id, long expectedVersion, String writer, String reason) {
        return new Command.Put(ROUTES + id, expectedVersion, null, List.of(), writer, reason);
    }
}
