package dev.appliance.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a member publishes with its session renewal ({@link MemberStatus}), as JSON. Fields a newer daemon
 * adds are ignored by an older one; a payload that cannot be read at all is reported, and the caller treats
 * the member conservatively.
 */
public final class StatusCodec {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final int SCHEMA = 1;

    private StatusCodec() {
    }

    /**
     * Facts about a member's processes that operators see in {@code cluster status}, beside what the engine reads.
     *
     * @param postgresPid 0 when postgres does not run
     */
    public record NodeFacts(long daemonPid, long postgresPid, String config) {
    }

    public static String encode(MemberStatus s, NodeFacts facts) {
        PgObservation pg = s.pg();
        ObjectNode n = JSON.createObjectNode().put("schema", SCHEMA).put("appliedGeneration", s.appliedGeneration())
                .put("routable", s.routable()).put("fenced", s.fenced());
        n.putObject("node").put("daemonPid", facts.daemonPid()).put("postgresPid", facts.postgresPid())
                .put("config", facts.config());
        ObjectNode p = n.putObject("pg").put("state", pg.state().name()).put("writable", pg.writable())
                .put("streaming", pg.streaming()).put("timeline", pg.timeline()).put("current", pg.current().toString())
                .put("flush", pg.flush().toString()).put("replay", pg.replay().toString()).put("diverged", pg.diverged())
                .put("rewindFailed", pg.rewindFailed()).put("rebuiltForGeneration", pg.rebuiltForGeneration())
                .put("pristine", pg.pristine()).put("rebuildRequested", pg.rebuildRequested())
                .put("upstreamLacksWal", pg.upstreamLacksWal());
        if (pg.upstream() != null) {
            p.put("upstream", pg.upstream().value());
        }
        if (pg.servingSince() != null) {
            p.put("servingSince", pg.servingSince().toString());
        }
        if (pg.cleanShutdownAt() != null) {
            p.put("cleanShutdownAt", pg.cleanShutdownAt().toString());
        }
        ArrayNode sync = p.putArray("syncRequired");
        pg.syncRequired().stream().sorted().forEach(m -> sync.add(m.value()));
        ObjectNode replicas = p.putObject("replicas");
        new TreeMap<>(pg.replicas()).forEach((m, at) -> replicas.put(m.value(), at.toString()));
        return n.toString();
    }

    public static MemberStatus decode(String payload) throws IOException {
        JsonNode n;
        try {
            n = JSON.readTree(payload);
        } catch (IOException e) {
            throw new IOException("the status is not JSON: " + e.getMessage(), e);
        }
        if (n == null || !n.isObject() || !n.has("pg") || n.path("schema").asInt(-1) != SCHEMA) {
            throw new IOException("the status is not a schema-" + SCHEMA + " member status");
        }
        try {
            JsonNode p = n.get("pg");
            PgObservation.Builder b = PgObservation.builder(PgState.valueOf(text(p, "state")))
                    .writable(p.path("writable").asBoolean()).streaming(p.path("streaming").asBoolean())
                    .timeline(p.path("timeline").asLong()).current(lsn(p, "current")).flush(lsn(p, "flush"))
                    .replay(lsn(p, "replay")).diverged(p.path("diverged").asBoolean())
                    .rewindFailed(p.path("rewindFailed").asBoolean())
                    .rebuiltForGeneration(p.path("rebuiltForGeneration").asLong()).pristine(p.path("pristine").asBoolean())
                    .rebuildRequested(p.path("rebuildRequested").asBoolean(false))
                    .upstreamLacksWal(p.path("upstreamLacksWal").asBoolean(false))
                    .upstream(p.hasNonNull("upstream") ? MemberId.of(text(p, "upstream")) : null)
                    .servingSince(p.hasNonNull("servingSince") ? lsn(p, "servingSince") : null)
                    .cleanShutdownAt(p.hasNonNull("cleanShutdownAt") ? lsn(p, "cleanShutdownAt") : null);
            Set<MemberId> sync = new TreeSet<>();
            p.path("syncRequired").forEach(m -> sync.add(MemberId.of(m.asText())));
            Map<MemberId, WalPosition> replicas = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = p.path("replicas").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                replicas.put(MemberId.of(e.getKey()), WalPosition.parse(e.getValue().asText()));
            }
            return new MemberStatus(b.syncRequired(sync).replicas(replicas).build(), n.path("appliedGeneration").asLong(),
                    n.path("routable").asBoolean(), n.path("fenced").asBoolean());
        } catch (IllegalArgumentException e) {
            throw new IOException("the status is malformed: " + e.getMessage(), e);
        }
    }

    /** The process facts in a payload; empty when it has none or cannot be read. */
    public static java.util.Optional<NodeFacts> facts(String payload) {
        try {
            JsonNode n = JSON.readTree(payload).path("node");
            return n.isObject() ? java.util.Optional.of(new NodeFacts(n.path("daemonPid").asLong(),
                    n.path("postgresPid").asLong(), n.path("config").asText(""))) : java.util.Optional.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    private static String text(JsonNode n, String field) {
        if (!n.hasNonNull(field)) {
            throw new IllegalArgumentException("'" + field + "' is missing");
        }
        return n.get(field).asText();
    }

    private static WalPosition lsn(JsonNode n, String field) {
        return WalPosition.parse(text(n, field));
    }
}
