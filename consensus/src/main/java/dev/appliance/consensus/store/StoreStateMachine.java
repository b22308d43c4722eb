package dev.appliance.consensus.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.InvalidDocumentException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * The Ratis side of the store: it turns log entries into {@link DocumentStore} commands, keeps the
 * lifecycle Ratis expects (pause before a snapshot is installed, reinitialize from the newest snapshot after),
 * writes and loads snapshots, and answers linearizable reads.
 *
 * <p>Compare-and-set is decided only in {@link #applyTransaction}, the one place that sees the total order.
 * The leader stamps its clock into each entry in {@link #startTransaction}, so every replica applies the same
 * time. Nothing here throws from apply: an undecodable entry is skipped with a rejection, and the applied
 * index advances for every entry.
 */
final class StoreStateMachine extends BaseStateMachine {

    /** What the store node needs to hear from its state machine. */
    interface Listener {
        void applied(List<StoreEvent> events);

        void graceApplied(long term);

        void restored(long index);

        void leaderReady();

        void serverShutdown();
    }

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final DocumentStore store;
    private final int auditLimit;
    private final LongSupplier clock;
    private final Listener listener;

    StoreStateMachine(DocumentStore store, int auditLimit, LongSupplier clock, Listener listener) {
        this.store = store;
        this.auditLimit = auditLimit;
        this.clock = clock;
        this.listener = listener;
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().startAndTransition(() -> {
            storage.init(raftStorage);
            load(storage.getLatestSnapshot());
        });
    }

    /** Called before a snapshot from the leader replaces this state: Ratis asserts PAUSED afterwards. */
    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** Called after a snapshot from the leader was installed: load the newest one on disk, not a cached one. */
    @Override
    public void reinitialize() throws IOException {
        load(storage.loadLatestSnapshot());
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
        listener.restored(store.appliedIndex());
    }

    private void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        Path file = snapshot.getFile().getPath();
        try {
            MD5Hash md5 = snapshot.getFile().getFileDigest();
            if (md5 != null) {
                MD5FileUtil.verifySavedMD5(file.toFile(), md5);
            }
            DocumentStore loaded = DocumentStore.fromSnapshot(Files.readAllBytes(file), auditLimit);
            store.replaceWith(loaded);
            setLastAppliedTermIndex(snapshot.getTermIndex());
        } catch (IOException | InvalidDocumentException e) {
            throw new StoreCorruptException("the raft snapshot " + file + " is corrupt (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() < 0) {
            return -1;
        }
        byte[] bytes = store.toSnapshot();
        File target = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        Path tmp = target.toPath().resolveSibling(target.getName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target.toPath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(target);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(target.toPath(), md5), last));
        return last.getIndex();
    }

    @Override
    public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
        byte[] content = request.getMessage().getContent().toByteArray();
        Commands.decode(content);
        byte[] entry = Commands.encodeEntry(clock.getAsLong(), content);
        return TransactionContext.newBuilder()
                .setStateMachine(this)
                .setClientRequest(request)
                .setLogData(ByteString.copyFrom(entry))
                .build();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        TermIndex termIndex = TermIndex.valueOf(entry);
        DocumentStore.Applied applied;
        Command command = null;
        try {
            Commands.Entry e = Commands.decodeEntry(entry.getStateMachineLogEntry().getLogData().toByteArray());
            command = e.command();
            applied = store.apply(termIndex.getIndex(), e.at(), command);
        } catch (IOException e) {
            applied = store.skip(termIndex.getIndex(), "undecodable log entry: " + e.getMessage());
        }
        updateLastAppliedTermIndex(termIndex);
        listener.applied(applied.events());
        if (command instanceof Command.Grace) {
            listener.graceApplied(termIndex.getTerm());
        }
        return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(encode(applied.result()))));
    }

    static byte[] encode(WriteResult r) {
        ObjectNode n = DocumentStore.JSON.createObjectNode();
        n.put("status", r.status().name());
        n.put("version", r.version());
        n.put("detail", r.detail());
        return n.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    static WriteResult decodeResult(byte[] bytes) throws IOException {
        JsonNode n = DocumentStore.JSON.readTree(bytes);
        return new WriteResult(WriteResult.Status.valueOf(n.get("status").asText()), n.get("version").asLong(),
                n.get("detail").asText());
    }

    /**
     * Linearizable reads: {@code {"get":key}}, {@code {"prefix":p}}, {@code {"sessions":true}},
     * {@code {"audit":true}}, and {@code {"ping":true}}, which only proves the read path works.
     */
    @Override
    public CompletableFuture<Message> query(Message request) {
        try {
            JsonNode q = DocumentStore.JSON.readTree(request.getContent().toByteArray());
            ObjectNode out = DocumentStore.JSON.createObjectNode();
            out.put("index", store.appliedIndex());
            if (q.has("get")) {
                store.document(q.get("get").asText()).ifPresent(v -> out.putObject("document")
                        .put("version", v.version()).put("value", v.value()));
            } else if (q.has("prefix")) {
                ObjectNode docs = out.putObject("documents");
                store.documents(q.get("prefix").asText()).forEach((k, v) -> docs.putObject(k)
                        .put("version", v.version()).put("value", v.value()));
            } else if (q.has("sessions")) {
                ArrayNode ss = out.putArray("sessions");
                store.sessions().values().forEach(s -> ss.addObject().put("member", s.member().value())
                        .put("renewedIndex", s.renewedIndex()).put("payload", s.payload()));
            } else if (q.has("ping")) {
                out.put("pong", true);
            } else if (q.has("audit")) {
                ArrayNode as = out.putArray("audit");
                store.audit().forEach(a -> as.addObject().put("index", a.index()).put("at", a.at().toEpochMilli())
                        .put("key", a.key()).put("writer", a.writer()).put("reason", a.reason()));
            } else {
                throw new IllegalArgumentException("unknown query " + q);
            }
            return CompletableFuture.completedFuture(Message.valueOf(out.toString()));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public void notifyLeaderReady() {
        listener.leaderReady();
    }

    @Override
    public void notifyServerShutdown(RoleInfoProto roleInfo, boolean allServer) {
        listener.serverShutdown();
    }
}
