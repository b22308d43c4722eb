package dev.appliance.consensus.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The replicated state itself: versioned documents, member sessions and the bounded audit log. It is a
 * deterministic function of the commands applied to it, in log order, each with its log index and the
 * leader's clock when the leader accepted it, so every replica that applies the same log holds the same
 * state. It knows nothing of Ratis; {@link StoreStateMachine} feeds it.
 */
public final class DocumentStore implements Documents {
    public static final int DEFAULT_AUDIT_LIMIT = 1000;
    static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9/_.-]{0,199}");
    static final int MAX_VALUE_CHARS = 1 << 20;
    private static final String SNAPSHOT_KIND = "raft-store-snapshot";
    private static final int SNAPSHOT_SCHEMA = 1;
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** What one command did: its result for the writer, and the events for local watchers. */
    public record Applied(WriteResult result, List<StoreEvent> events) {
    }

    private final int auditLimit;
    private final TreeMap<String, Versioned<String>> documents = new TreeMap<>();
    private final TreeMap<MemberId, Session> sessions = new TreeMap<>();
    private final ArrayDeque<AuditEntry> audit = new ArrayDeque<>();
    private long appliedIndex;

    public DocumentStore() {
        this(DEFAULT_AUDIT_LIMIT);
    }

    public DocumentStore(int auditLimit) {
        if (auditLimit < 1) {
            throw new IllegalArgumentException("the audit log keeps at least one entry");
        }
        this.auditLimit = auditLimit;
    }

    public synchronized Applied apply(long index, long leaderTime, Command command) {
        if (index <= appliedIndex) {
            throw new IllegalStateException("entry " + index + " applied after " + appliedIndex);
        }
        appliedIndex = index;
        if (command instanceof Command.Put put) {
            return put(index, leaderTime, put);
        }
        if (command instanceof Command.Renew renew) {
            Session before = sessions.get(renew.member());
            long opened = before == null ? index : before.openedIndex();
            sessions.put(renew.member(), new Session(renew.member(), opened, index, leaderTime, renew.payload()));
            StoreEvent event = before == null
                    ? new StoreEvent.SessionOpened(index, renew.member(), renew.payload())
                    : new StoreEvent.SessionRenewed(index, renew.member(), renew.payload());
            return new Applied(WriteResult.ok(index), List.of(event));
        }
        if (command instanceof Command.Resign resign) {
            if (sessions.remove(resign.member()) == null) {
                return noOp(index, resign.member() + " holds no session");
            }
            return new Applied(WriteResult.ok(index), List.of(new StoreEvent.SessionEnded(index, resign.member(), false)));
        }
        if (command instanceof Command.Expire expire) {
            Session s = sessions.get(expire.member());
            if (s == null || s.renewedIndex() != expire.renewedIndex()) {
                return noOp(index, expire.member() + "'s session was renewed or ended meanwhile");
            }
            sessions.remove(expire.member());
            return new Applied(WriteResult.ok(index), List.of(new StoreEvent.SessionEnded(index, expire.member(), true)));
        }
        if (command instanceof Command.Grace) {
            sessions.replaceAll((m, s) -> new Session(m, s.openedIndex(), s.renewedIndex(), leaderTime, s.payload()));
            return new Applied(WriteResult.ok(index), List.of(new StoreEvent.SessionsGraced(index)));
        }
        return rejected(index, "unknown command " + command);
    }

    /** Records that an entry which is not a valid command was applied: the store is unchanged. */
    public synchronized Applied skip(long index, String why) {
        if (index > appliedIndex) {
            appliedIndex = index;
        }
        return rejected(index, why);
    }

    private Applied put(long index, long leaderTime, Command.Put put) {
        if (!KEY.matcher(put.key()).matches()) {
            return rejected(index, "invalid key '" + put.key() + "'");
        }
        if (put.value() != null && put.value().length() > MAX_VALUE_CHARS) {
            return rejected(index, "document '" + put.key() + "' is larger than " + MAX_VALUE_CHARS + " characters");
        }
        Versioned<String> current = documents.get(put.key());
        long currentVersion = current == null ? 0 : current.version();
        if (put.expectedVersion() != -1 && put.expectedVersion() != currentVersion) {
            return new Applied(new WriteResult(WriteResult.Status.VERSION_CONFLICT, currentVersion,
                    "'" + put.key() + "' is at version " + currentVersion + ", not " + put.expectedVersion()), List.of());
        }
        for (MemberId m : put.requireNoSession()) {
            if (sessions.containsKey(m)) {
                return new Applied(new WriteResult(WriteResult.Status.SESSION_LIVE, currentVersion,
                        m + " still holds a live session"), List.of());
            }
        }
        if (put.value() == null) {
            documents.remove(put.key());
        } else {
            documents.put(put.key(), new Versioned<>(index, put.value()));
        }
        audit.addLast(new AuditEntry(index, Instant.ofEpochMilli(leaderTime), put.key(), put.writer(), put.reason()));
        while (audit.size() > auditLimit) {
            audit.removeFirst();
        }
        return new Applied(WriteResult.ok(index),
                List.of(new StoreEvent.DocumentChanged(index, put.key(), put.value() == null ? 0 : index, put.value())));
    }

    private static Applied noOp(long index, String why) {
        return new Applied(new WriteResult(WriteResult.Status.NO_OP, index, why), List.of());
    }

    private static Applied rejected(long index, String why) {
        return new Applied(new WriteResult(WriteResult.Status.REJECTED, index, why), List.of());
    }

    // ---- reads ----

    public synchronized long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public synchronized Optional<Versioned<String>> document(String key) {
        return Optional.ofNullable(documents.get(key));
    }

    /** The documents whose keys start with {@code prefix}, by key. */
    @Override
    public synchronized NavigableMap<String, Versioned<String>> documents(String prefix) {
        NavigableMap<String, Versioned<String>> out = new TreeMap<>();
        for (Map.Entry<String, Versioned<String>> e : documents.tailMap(prefix, true).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    public synchronized NavigableMap<MemberId, Session> sessions() {
        return new TreeMap<>(sessions);
    }

    public synchronized List<AuditEntry> audit() {
        return List.copyOf(audit);
    }

    // ---- snapshots ----

    public synchronized byte[] toSnapshot() {
        ObjectNode root = JSON.createObjectNode();
        root.put("kind", SNAPSHOT_KIND);
        root.put("schema", SNAPSHOT_SCHEMA);
        root.put("appliedIndex", appliedIndex);
        ObjectNode docs = root.putObject("documents");
        documents.forEach((k, v) -> docs.putObject(k).put("version", v.version()).put("value", v.value()));
        ArrayNode ss = root.putArray("sessions");
        sessions.values().forEach(s -> ss.addObject().put("member", s.member().value()).put("openedIndex", s.openedIndex())
                .put("renewedIndex", s.renewedIndex()).put("renewedAt", s.renewedAt()).put("payload", s.payload()));
        ArrayNode as = root.putArray("audit");
        audit.forEach(a -> as.addObject().put("index", a.index()).put("at", a.at().toEpochMilli()).put("key", a.key())
                .put("writer", a.writer()).put("reason", a.reason()));
        try {
            return JSON.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the store snapshot", e);
        }
    }

    /** Reads a snapshot as a whole, or rejects it as a whole. */
    public static DocumentStore fromSnapshot(byte[] bytes, int auditLimit) throws InvalidDocumentException {
        DocumentStore store = new DocumentStore(auditLimit);
        try {
            JsonNode root = JSON.readTree(bytes);
            if (root == null || !root.isObject() || !SNAPSHOT_KIND.equals(text(root, "kind"))) {
                throw new InvalidDocumentException("not a store snapshot");
            }
            if (integer(root, "schema") != SNAPSHOT_SCHEMA) {
                throw new InvalidDocumentException("snapshot schema " + root.get("schema") + " is not supported");
            }
            store.appliedIndex = integer(root, "appliedIndex");
            for (Iterator<Map.Entry<String, JsonNode>> it = object(root, "documents").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!KEY.matcher(e.getKey()).matches()) {
                    throw new InvalidDocumentException("invalid document key '" + e.getKey() + "'");
                }
                store.documents.put(e.getKey(), new Versioned<>(integer(e.getValue(), "version"), text(e.getValue(), "value")));
            }
            for (JsonNode s : array(root, "sessions")) {
                MemberId member = MemberId.of(text(s, "member"));
                store.sessions.put(member, new Session(member, integer(s, "openedIndex"), integer(s, "renewedIndex"),
                        integer(s, "renewedAt"), text(s, "payload")));
            }
            for (JsonNode a : array(root, "audit")) {
                store.audit.addLast(new AuditEntry(integer(a, "index"), Instant.ofEpochMilli(integer(a, "at")),
                        text(a, "key"), text(a, "writer"), text(a, "reason")));
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidDocumentException("unreadable store snapshot: " + e.getMessage(), e);
        }
        while (store.audit.size() > auditLimit) {
            store.audit.removeFirst();
        }
        return store;
    }

    /** Replaces this store's contents with another's (a snapshot installed from the leader). */
    public synchronized void replaceWith(DocumentStore other) {
        synchronized (other) {
            documents.clear();
            documents.putAll(other.documents);
            sessions.clear();
            sessions.putAll(other.sessions);
            audit.clear();
            audit.addAll(other.audit);
            appliedIndex = other.appliedIndex;
        }
    }

    private static String text(JsonNode n, String field) throws InvalidDocumentException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new InvalidDocumentException("field '" + field + "' is missing or not text");
        }
        return v.asText();
    }

    private static long integer(JsonNode n, String field) throws InvalidDocumentException {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber()) {
            throw new InvalidDocumentException("field '" + field + "' is missing or not an integer");
        }
        return v.asLong();
    }

    private static JsonNode object(JsonNode n, String field) throws InvalidDocumentException {
        JsonNode v = n.get(field);
        if (v == null || !v.isObject()) {
            throw new InvalidDocumentException("field '" + field + "' is missing or not an object");
        }
        return v;
    }

    private static List<JsonNode> array(JsonNode n, String field) throws InvalidDocumentException {
        JsonNode v = n.get(field);
        if (v == null || !v.isArray()) {
            throw new InvalidDocumentException("field '" + field + "' is missing or not a list");
        }
        List<JsonNode> out = new ArrayList<>();
        v.forEach(out::add);
        return out;
    }
}
