package dev.appliance.consensus.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.AlreadyExistsException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's part of the agreed store: an embedded Ratis server (gRPC) holding the {@link DocumentStore},
 * with a client for writes, local watchers, the leader's session expiry, a polled view of this node's
 * health, and online membership changes.
 *
 * <p>Reads of the local replica ({@link #document}, {@link #sessions}, ...) are as fresh as what this node
 * applied; {@link #readLinearizable} goes through the leader. Writes return the store's verdict
 * ({@link WriteResult}) or fail within {@link StoreConfig#writeDeadline()}.
 */
public final class RaftStore implements AutoCloseable, Documents {
    private static final Logger LOG = LoggerFactory.getLogger(RaftStore.class);
    private static final long MONITOR_PERIOD_MS = 50;
    private static final String MEMBERSHIP_MARKER = "raft-member.json";

    private final StoreConfig config;
    private final RaftGroupId groupId;
    private final DocumentStore store;
    private final RaftServer server;
    private final ScheduledExecutorService monitor;
    /** Runs the blocking client calls: each call is independent (an ordered-async Ratis client is poisoned
     *  for good by a single request that runs out of retries, which happens in every failover). */
    private final java.util.concurrent.ExecutorService io;
    private final AtomicReference<RaftClient> client = new AtomicReference<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final AtomicReference<ViewStatus> view = new AtomicReference<>();
    private final AtomicLong graceTerm = new AtomicLong(-1);
    /** A new leader grants every live session a full ttl on its own clock before it expires any. */
    private final GraceRetry grace = new GraceRetry(() -> submit(new Command.Grace()), Duration.ofMillis(500),
            e -> LOG.info("grace entry not committed ({}); trying again while this node leads", e.toString()));
    private final Set<MemberId> expiring = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicReference<Consumer<String>> fatalHandler = new AtomicReference<>(m -> { });
    private final AtomicBoolean fatalRaised = new AtomicBoolean();
    private volatile Set<String> clientPeers = Set.of();
    private static final long PROBE_EVERY_MS = 200;
    private static final Message PING = Message.valueOf("{\"ping\":true}");
    private final AtomicBoolean probing = new AtomicBoolean();
    private volatile long lastProbeStart;
    private volatile long lastProbeOk;
    private volatile RaftClient probeClient;
    private final java.util.concurrent.ExecutorService relink;
    private final SilentLinks silentLinks;
    private final StalledFollowers stalledFollowers = new StalledFollowers();

    /** A local watcher: events arrive in log order on its executor (which must run one task at a time). */
    public static final class Subscription implements AutoCloseable {
        private final RaftStore store;
        private final Executor executor;
        private final Consumer<StoreEvent> listener;

        private Subscription(RaftStore store, Executor executor, Consumer<StoreEvent> listener) {
            this.store = store;
            this.executor = executor;
            this.listener = listener;
        }

        /** Never throws: a watcher that cannot take events (its executor shut down) must not stop the store. */
        private void deliver(List<StoreEvent> events) {
            try {
                executor.execute(() -> events.forEach(listener));
            } catch (RuntimeException e) {
                LOG.debug("a watcher did not take {} events: {}", events.size(), e.toString());
            }
        }

        @Override
        public void close() {
            store.subscriptions.remove(this);
        }
    }

    private RaftStore(StoreConfig config) throws IOException {
        this.config = config;
        this.groupId = groupIdOf(config.clusterName());
        this.store = new DocumentStore(config.auditLimit());
        checkMembershipMarker();
        StoreStateMachine stateMachine = new StoreStateMachine(store, config.auditLimit(), System::currentTimeMillis,
                new StateMachineListener());
        RaftGroup group = config.join() ? RaftGroup.emptyGroup() : RaftGroup.valueOf(groupId, peers(config.peers()));
        this.server = RaftServer.newBuilder()
                .setServerId(RaftPeerId.valueOf(config.self().value()))
                .setGroup(group)
                .setStateMachineRegistry(gid -> {
                    if (gid.equals(RaftGroup.emptyGroup().getGroupId())) {
                        return new org.apache.ratis.statemachine.impl.BaseStateMachine();
                    }
                    if (!gid.equals(groupId)) {
                        throw new IllegalArgumentException("this node serves only the group of cluster '"
                                + config.clusterName() + "' (" + groupId + "), not " + gid);
                    }
                    return stateMachine;
                })
                .setProperties(serverProperties(config))
                .setOption(RaftStorage.StartupOption.RECOVER)
                .build();
        this.monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raft-store-monitor-" + config.self());
            t.setDaemon(true);
            return t;
        });
        this.io = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "raft-store-io-" + config.self());
            t.setDaemon(true);
            return t;
        });
        // At most one replacement per member at a time (SilentLinks), so this pool stays as small as the group.
        this.relink = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "raft-relink-" + config.self());
            t.setDaemon(true);
            return t;
        });
        Duration silentAfter = config.electionTimeoutMax().multipliedBy(2);
        this.silentLinks = new SilentLinks(config.self().value(), silentAfter, silentAfter, relink, this::replaceLink);
    }

    /**
     * Starts this node's Raft server from its storage (creating it on first start). A corrupt snapshot or log,
     * or storage that went missing under a node that was a member, stops the start with a
     * {@link StoreCorruptException} that names the file and the way back.
     */
    public static RaftStore start(StoreConfig config) throws IOException {
        Files.createDirectories(config.raftDir());
        RaftStore s = new RaftStore(config);
        try {
            s.server.start();
            if (!config.join()) {
                s.division();
            }
        } catch (IOException | RuntimeException e) {
            s.closeQuietly();
            throw s.explainStartFailure(e);
        }
        s.monitor.scheduleWithFixedDelay(s::tick, 0, MONITOR_PERIOD_MS, TimeUnit.MILLISECONDS);
        if (!config.join()) {
            s.writeMembershipMarker();
        }
        return s;
    }

    public static RaftGroupId groupIdOf(String clusterName) {
        return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("appliance/" + clusterName).getBytes(StandardCharsets.UTF_8)));
    }

    public StoreConfig config() {
        return config;
    }

    // ---- reads of the local replica ----

    public long appliedIndex() {
        return store.appliedIndex();
    }

    @Override
    public Optional<Versioned<String>> document(String key) {
        return store.document(key);
    }

    @Override
    public NavigableMap<String, Versioned<String>> documents(String prefix) {
        return store.documents(prefix);
    }

    public NavigableMap<MemberId, Session> sessions() {
        return store.sessions();
    }

    public List<AuditEntry> audit() {
        return store.audit();
    }

    /** A read that reflects every write committed before it started (it goes through the leader). */
    public CompletableFuture<Optional<Versioned<String>>> readLinearizable(String key) {
        ObjectNode q = DocumentStore.JSON.createObjectNode().put("get", key);
        return call(c -> c.io().sendReadOnly(Message.valueOf(q.toString()))).thenApply(reply -> {
            try {
                JsonNode doc = DocumentStore.JSON.readTree(reply.getMessage().getContent().toByteArray()).get("document");
                return doc == null ? Optional.<Versioned<String>>empty()
                        : Optional.of(new Versioned<>(doc.get("version").asLong(), doc.get("value").asText()));
            } catch (IOException e) {
                throw new IllegalStateException("unreadable reply to a read: " + e.getMessage(), e);
            }
        });
    }

    // ---- writes ----

    /** Compare-and-set of one document; see {@link Command.Put}. */
    public CompletableFuture<WriteResult> put(Command.Put put) {
        return submit(put);
    }

    /** Opens or renews this node's session with what it publishes. */
    public CompletableFuture<WriteResult> renew(String payload) {
        return submit(new Command.Renew(config.self(), payload));
    }

    /** Gives up this node's session now. */
    public CompletableFuture<WriteResult> resign() {
        return submit(new Command.Resign(config.self()));
    }

    private CompletableFuture<WriteResult> submit(Command command) {
        Message message = Message.valueOf(org.apache.ratis.thirdparty.com.google.protobuf.ByteString
                .copyFrom(Commands.encode(command)));
        return call(c -> c.io().send(message)).thenApply(reply -> {
            try {
                return StoreStateMachine.decodeResult(reply.getMessage().getContent().toByteArray());
            } catch (IOException e) {
                throw new IllegalStateException("unreadable reply to a write: " + e.getMessage(), e);
            }
        });
    }

    private interface Call {
        RaftClientReply on(RaftClient client) throws IOException;
    }

    /** One blocking client call on the I/O pool, bounded by the write deadline. */
    private CompletableFuture<RaftClientReply> call(Call call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                RaftClientReply reply = call.on(client());
                requireSuccess(reply);
                return reply;
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, io).orTimeout(config.writeDeadline().toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void requireSuccess(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            Throwable cause = reply.getException();
            throw new IllegalStateException("the store refused the request: "
                    + (cause == null ? "no reason given" : cause.getMessage()), cause);
        }
    }

    // ---- watching ----

    /** Delivers every change applied from now on, in log order, on {@code executor}. */
    public Subscription watch(Executor executor, Consumer<StoreEvent> listener) {
        Subscription s = new Subscription(this, executor, listener);
        subscriptions.add(s);
        return s;
    }

    // ---- health ----

    /** This node's view of itself, refreshed every {@value #MONITOR_PERIOD_MS} ms. */
    public ViewStatus view() {
        ViewStatus v = view.get();
        return v != null ? v : new ViewStatus("STARTING", null, 0, false, store.appliedIndex(), List.of());
    }

    public boolean isLeader() {
        RaftServer.Division d = divisionOrNull();
        return d != null && d.getInfo().isLeader() && d.getInfo().isLeaderReady();
    }

    /** Called once, with a reason, if the Raft server stops without {@link #close()} (e.g. after a long pause). */
    public void onFatal(Consumer<String> handler) {
        fatalHandler.set(handler);
    }

    // ---- membership ----

    /** The current voters and listeners, id to address. */
    public Map<MemberId, String> configuration(boolean voters) {
        RaftConfiguration conf = division().getRaftConf();
        Map<MemberId, String> out = new java.util.TreeMap<>();
        for (RaftPeer p : conf.getCurrentPeers(voters ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER)) {
            out.put(MemberId.of(p.getId().toString()), p.getAddress());
        }
        return out;
    }

    /**
     * Adds a member that was started with {@link StoreConfig#joining()}: first its server is given the group
     * (Ratis 3.3.0 needs this before the configuration names it), then the configuration changes. Returns
     * once the new member has caught up (by snapshot if need be).
     */
    public void addMember(MemberId id, String address, boolean voter) throws IOException {
        RaftConfiguration conf = division().getRaftConf();
        List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
        List<RaftPeer> listeners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
        RaftPeerId peerId = RaftPeerId.valueOf(id.value());
        if (voters.stream().anyMatch(p -> p.getId().equals(peerId)) || listeners.stream().anyMatch(p -> p.getId().equals(peerId))) {
            throw new IllegalArgumentException(id + " is already a member; remove it first to replace it");
        }
        RaftPeer peer = RaftPeer.newBuilder().setId(peerId).setAddress(address)
                .setStartupRole(voter ? RaftPeerRole.FOLLOWER : RaftPeerRole.LISTENER).build();
        (voter ? voters : listeners).add(peer);
        List<RaftPeer> all = new ArrayList<>(voters);
        all.addAll(listeners);
        try (RaftClient toNewPeer = newClient(RaftGroup.valueOf(groupId, all), 3)) {
            RaftClientReply added = toNewPeer.getGroupManagementApi(peerId).add(RaftGroup.valueOf(groupId, all));
            if (!added.isSuccess()) {
                throw new IOException("could not give " + id + " at " + address + " the group: " + added.getException());
            }
        } catch (AlreadyExistsException e) {
            // The client's retry of an add that took longer than it waited (seen on a loaded machine): the first
            // attempt gave the group, which is all this step is for.
            LOG.info("{} already has the group; going on to the configuration change", id);
        }
        setConfiguration(voters, listeners);
    }

    /** Removes a member from the configuration; its server should then be stopped and its storage removed. */
    public void removeMember(MemberId id) throws IOException {
        RaftConfiguration conf = division().getRaftConf();
        RaftPeerId peerId = RaftPeerId.valueOf(id.value());
        List<RaftPeer> voters = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
        List<RaftPeer> listeners = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER));
        boolean removed = voters.removeIf(p -> p.getId().equals(peerId)) | listeners.removeIf(p -> p.getId().equals(peerId));
        if (!removed) {
            throw new IllegalArgumentException(id + " is not a member");
        }
        setConfiguration(voters, listeners);
    }

    private void setConfiguration(List<RaftPeer> voters, List<RaftPeer> listeners) throws IOException {
        // The List-based arguments: the array overload of 3.3.0 drops the voters (RATIS-2640).
        RaftClientReply reply = client().admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
                .setServersInNewConf(voters).setListenersInNewConf(listeners).build());
        if (!reply.isSuccess()) {
            throw new IOException("the configuration change was refused: " + reply.getException());
        }
    }

    /**
     * On the leader, the followers that answered it within the maximum election timeout; elsewhere, none. A
     * leadership transfer to any other member would only stall the leader for the transfer's timeout.
     */
    public Set<MemberId> answeringFollowers() {
        RaftServer.Division d = divisionOrNull();
        Set<MemberId> out = new java.util.TreeSet<>();
        if (d != null) {
            for (ViewStatus.Follower f : followers(d)) {
                if (f.lastAnswerMs() < config.electionTimeoutMax().toMillis()) {
                    out.add(f.member());
                }
            }
        }
        return out;
    }

    /** Hands Raft leadership to another voter (a planned switchover of the store's leader). */
    public void transferLeadership(MemberId to, Duration timeout) throws IOException {
        RaftClientReply reply = client().admin().transferLeadership(RaftPeerId.valueOf(to.value()), timeout.toMillis());
        if (!reply.isSuccess()) {
            throw new IOException("leadership transfer to " + to + " failed: " + reply.getException());
        }
    }

    /** Waits until this joining node has been given the group and applied the leader's state. */
    public void awaitJoined(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            RaftServer.Division d = divisionOrNull();
            if (d != null && d.getInfo().getLeaderId() != null) {
                writeMembershipMarker();
                return;
            }
            sleep(50);
        }
        throw new IOException(config.self() + " was not added to cluster '" + config.clusterName() + "' within "
                + timeout + "; add it from a running member");
    }

    // ---- internals ----

    private RaftServer.Division division() {
        try {
            return server.getDivision(groupId);
        } catch (IOException e) {
            throw new IllegalStateException(config.self() + " is not (yet) a member of cluster '"
                    + config.clusterName() + "'", e);
        }
    }

    private RaftServer.Division divisionOrNull() {
        try {
            return server.getDivision(groupId);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The client, rebuilt when the set of members changed (a new leader's configuration entry alone does not
     * count: the client follows leaders by itself). A replaced client is closed once calls on it have had
     * their deadline.
     */
    private RaftClient client() {
        RaftConfiguration conf = division().getRaftConf();
        List<RaftPeer> peers = new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER));
        peers.addAll(conf.getCurrentPeers(RaftPeerRole.LISTENER));
        Set<String> ids = new java.util.TreeSet<>();
        peers.forEach(p -> ids.add(p.getId() + "=" + p.getAddress()));
        RaftClient c = client.get();
        if (c == null || !ids.equals(clientPeers)) {
            synchronized (client) {
                c = client.get();
                if (c == null || !ids.equals(clientPeers)) {
                    RaftClient fresh = newClient(RaftGroup.valueOf(groupId, peers), attempts());
                    RaftClient old = client.getAndSet(fresh);
                    clientPeers = ids;
                    if (old != null) {
                        monitor.schedule(() -> closeClient(old), config.writeDeadline().toMillis(), TimeUnit.MILLISECONDS);
                    }
                    c = fresh;
                }
            }
        }
        return c;
    }

    /** Enough attempts (one request timeout each, then a short sleep) to span the write deadline, no more. */
    private int attempts() {
        long perAttempt = config.requestTimeout().toMillis() / 2 + 100;
        return (int) Math.max(3, config.writeDeadline().toMillis() / perAttempt);
    }

    private RaftClient newClient(RaftGroup group, int attempts) {
        RaftProperties p = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(config.requestTimeout().toMillis() / 2,
                TimeUnit.MILLISECONDS));
        return RaftClient.newBuilder()
                .setProperties(p)
                .setRaftGroup(group)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                .build();
    }

    static RaftProperties serverProperties(StoreConfig c) {
        RaftProperties p = new RaftProperties();
        RaftConfigKeys.Rpc.setType(p, SupportedRpcType.GRPC);
        GrpcConfigKeys.Server.setHost(p, c.host());
        GrpcConfigKeys.Server.setPort(p, c.port());
        RaftServerConfigKeys.setStorageDir(p, List.of(c.raftDir().toFile()));
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(c.electionTimeoutMin()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(c.electionTimeoutMax()));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, millis(c.requestTimeout()));
        RaftServerConfigKeys.LeaderElection.setPreVote(p, true);
        RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(p, millis(c.electionTimeoutMax().multipliedBy(5).dividedBy(2)));
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setLeaderLeaseEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, c.snapshotEvery());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("8MB"));
        RaftServerConfigKeys.Log.setCorruptionPolicy(p, RaftServerConfigKeys.Log.CorruptionPolicy.EXCEPTION);
        // Ratis 3.3.0 chains a follower's appends into one future when this is on (the default), and a chain whose
        // link failed runs no later link: after one failed append the follower takes no log again until its
        // server restarts, while it still answers heartbeats. Partition runs hit it (a follower's append failed
        // with a gap; its node stayed fenced for minutes). Off, each append stands alone.
        RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(p, false);
        RaftServerConfigKeys.Notification.setNoLeaderTimeout(p, millis(c.sessionTtl()));
        RaftServerConfigKeys.setCloseThreshold(p, millis(c.closeThreshold()));
        // Ratis' default backs off to one retry every 5 s after 30 failed appends to a member, so a node that
        // was down for half a minute waits up to 5 s after its restart before the leader reaches it again.
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 100ms,50, 500ms,1000000000");
        return p;
    }

    private static TimeDuration millis(Duration d) {
        return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static List<RaftPeer> peers(Map<MemberId, String> peers) {
        List<RaftPeer> out = new ArrayList<>();
        peers.forEach((id, address) -> out.add(RaftPeer.newBuilder().setId(id.value()).setAddress(address).build()));
        return out;
    }

    /** Runs every {@value #MONITOR_PERIOD_MS} ms: refresh the view, watch the server, expire sessions as leader. */
    private void tick() {
        try {
            RaftServer.Division d = divisionOrNull();
            LifeCycle.State state = server.getLifeCycleState();
            if (!closing.get() && (state == LifeCycle.State.CLOSING || state == LifeCycle.State.CLOSED
                    || state == LifeCycle.State.EXCEPTION || (d != null && !d.getInfo().isAlive() && !config.join()))) {
                fatal("the consensus server stopped (" + state + "), most likely after a pause longer than "
                        + config.closeThreshold() + "; this daemon must restart");
                return;
            }
            if (d == null) {
                return;
            }
            ViewStatus v = computeView(d);
            view.set(v);
            watchLinks(d, v.followers());
            if (d.getInfo().isLeader() && d.getInfo().isLeaderReady()) {
                if (graceTerm.get() == d.getInfo().getCurrentTerm()) {
                    expireStaleSessions();
                } else {
                    grace.due(System.nanoTime());
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("store monitor: {}", e.toString());
        }
    }

    /**
     * Whether this node is part of a working majority is measured, not inferred from Ratis' timers (which a
     * refused pre-vote or a reconnecting appender make misleading): a linearizable read served by this node
     * succeeds only if it reaches a leader that holds a majority and has applied up to that leader's commit.
     * One such probe runs every {@value #PROBE_EVERY_MS} ms; the view is fresh while one succeeded within
     * the maximum election timeout.
     */
    private ViewStatus computeView(RaftServer.Division d) {
        long now = System.nanoTime();
        if (now - lastProbeStart > TimeUnit.MILLISECONDS.toNanos(PROBE_EVERY_MS) && probing.compareAndSet(false, true)) {
            lastProbeStart = now;
            io.execute(this::probe);
        }
        boolean reachable = lastProbeOk != 0
                && now - lastProbeOk < config.electionTimeoutMax().toNanos();
        RoleInfoProto role = d.getInfo().getRoleInfoProto();
        RaftPeerId leader = d.getInfo().getLeaderId();
        return new ViewStatus(role.getRole().name(), leader == null ? null : MemberId.of(leader.toString()),
                d.getInfo().getCurrentTerm(), reachable, store.appliedIndex(), followers(d));
    }

    /** On the leader, each follower's replication as Ratis reports it; elsewhere none. */
    private static List<ViewStatus.Follower> followers(RaftServer.Division d) {
        RoleInfoProto role = d.getInfo().getRoleInfoProto();
        if (!d.getInfo().isLeader() || !role.hasLeaderInfo()) {
            return List.of();
        }
        List<org.apache.ratis.proto.RaftProtos.ServerRpcProto> infos = role.getLeaderInfo().getFollowerInfoList();
        long[] match = d.getInfo().getFollowerMatchIndices();
        long[] next = d.getInfo().getFollowerNextIndices();
        // Both arrays follow the leader's list of followers, read apart from it: a membership change in between
        // would pair an index with the wrong member, so then the indices are left out.
        boolean aligned = match != null && next != null && match.length == infos.size() && next.length == infos.size();
        List<ViewStatus.Follower> out = new ArrayList<>();
        for (int i = 0; i < infos.size(); i++) {
            out.add(new ViewStatus.Follower(MemberId.of(infos.get(i).getId().getId().toStringUtf8()),
                    infos.get(i).getLastRpcElapsedTimeMs(), aligned ? match[i] : -1, aligned ? next[i] : -1));
        }
        return out;
    }

    /**
     * The leader judges each follower by the time since its last answer; a follower judges its link to the
     * leader by its own view probe, which goes over that link, once one has succeeded.
     */
    private void watchLinks(RaftServer.Division d, List<ViewStatus.Follower> followers) {
        long now = System.nanoTime();
        Map<String, Duration> silence = followerSilence(followers);
        if (!d.getInfo().isLeader() && lastProbeOk != 0 && d.getInfo().getLeaderId() != null) {
            // Only the link to the leader: the probe goes over it. During an election there is none to judge, and
            // replacing links then would only disturb the vote.
            silence = Map.of(d.getInfo().getLeaderId().toString(), Duration.ofNanos(now - lastProbeOk));
        }
        Map<String, Duration> stalled = Map.of();
        if (d.getInfo().isLeader()) {
            stalled = stalledFollowers.observe(followers, store.appliedIndex(), now);
        } else {
            stalledFollowers.reset();
        }
        silentLinks.observe(silence, stalled, now);
    }

    /** On the leader, how long ago each follower last answered it; elsewhere, nothing. */
    private static Map<String, Duration> followerSilence(List<ViewStatus.Follower> followers) {
        Map<String, Duration> out = new java.util.HashMap<>();
        followers.forEach(f -> out.put(f.member().value(), Duration.ofMillis(f.lastAnswerMs())));
        return out;
    }

    private void replaceLink(String member) {
        if (server.getServerRpc() instanceof org.apache.ratis.server.RaftServerRpcWithProxy<?, ?> rpc) {
            rpc.getProxies().resetProxy(RaftPeerId.valueOf(member));
        }
    }

    private void probe() {
        long started = System.nanoTime();
        try {
            RaftClientReply reply = probeClient().io().sendReadOnly(PING, RaftPeerId.valueOf(config.self().value()));
            if (reply.isSuccess()) {
                lastProbeOk = started;
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("view probe failed: {}", e.toString());
        } finally {
            probing.set(false);
        }
    }

    private RaftClient probeClient() {
        RaftClient c = probeClient;
        if (c == null) {
            RaftProperties p = new RaftProperties();
            RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(config.electionTimeoutMin()));
            RaftPeer self = RaftPeer.newBuilder().setId(config.self().value()).setAddress(config.address()).build();
            c = RaftClient.newBuilder().setProperties(p).setRaftGroup(RaftGroup.valueOf(groupId, List.of(self)))
                    .setRetryPolicy(RetryPolicies.noRetry()).build();
            probeClient = c;
        }
        return c;
    }

    private void expireStaleSessions() {
        long now = System.currentTimeMillis();
        long ttl = config.sessionTtl().toMillis();
        for (Session s : store.sessions().values()) {
            if (now - s.renewedAt() > ttl && expiring.add(s.member())) {
                submit(new Command.Expire(s.member(), s.renewedIndex()))
                        .whenComplete((r, e) -> expiring.remove(s.member()));
            }
        }
    }

    private final class StateMachineListener implements StoreStateMachine.Listener {
        @Override
        public void applied(List<StoreEvent> events) {
            if (!events.isEmpty()) {
                subscriptions.forEach(s -> s.deliver(events));
            }
        }

        @Override
        public void graceApplied(long term) {
            graceTerm.accumulateAndGet(term, Math::max);
        }

        @Override
        public void restored(long index) {
            List<StoreEvent> events = List.of(new StoreEvent.Restored(index));
            subscriptions.forEach(s -> s.deliver(events));
        }

        @Override
        public void leaderReady() {
            grace.due(System.nanoTime());
        }

        @Override
        public void serverShutdown() {
            if (!closing.get()) {
                fatal("the consensus server shut down on its own (a pause longer than " + config.closeThreshold()
                        + ", or a storage failure); this daemon must restart");
            }
        }
    }

    private void fatal(String why) {
        if (fatalRaised.compareAndSet(false, true)) {
            LOG.error("{}", why);
            fatalHandler.get().accept(why);
        }
    }

    // ---- storage safety ----

    private Path markerFile() {
        return config.dataDir().resolve(MEMBERSHIP_MARKER);
    }

    private Path groupDir() {
        return config.raftDir().resolve(groupId.getUuid().toString());
    }

    /** Whether the node with this configuration has been a member of its cluster (it has the membership record). */
    public static boolean wasMember(StoreConfig config) {
        return Files.exists(config.dataDir().resolve(MEMBERSHIP_MARKER));
    }

    /** A node that was a member never starts with empty storage: it would rejoin as if it were new. */
    private void checkMembershipMarker() throws IOException {
        Path marker = markerFile();
        if (!Files.exists(marker)) {
            return;
        }
        JsonNode m;
        try {
            m = DocumentStore.JSON.readTree(Files.readAllBytes(marker));
        } catch (IOException e) {
            throw new StoreCorruptException("the membership record " + marker + " is unreadable (" + e.getMessage()
                    + "); restore it, or remove it only if this node's raft storage is intact");
        }
        String group = m.path("group").asText("");
        if (!group.equals(groupId.getUuid().toString())) {
            throw new StoreCorruptException("the data directory " + config.dataDir() + " belongs to cluster '"
                    + m.path("cluster").asText("?") + "', not '" + config.clusterName() + "'; use that cluster name, or "
                    + "another data directory");
        }
        boolean empty;
        try (var entries = Files.exists(groupDir()) ? Files.list(groupDir()) : null) {
            empty = entries == null || entries.findAny().isEmpty();
        }
        if (empty) {
            throw new StoreCorruptException("the raft storage " + groupDir() + " is missing, but " + config.self()
                    + " was a member of cluster '" + config.clusterName() + "' (" + marker + "). It will not start empty "
                    + "and rejoin as if it were new: restore the storage, or remove this node from the cluster, delete "
                    + marker + " and add it back as a new member");
        }
    }

    private void writeMembershipMarker() throws IOException {
        Path marker = markerFile();
        if (Files.exists(marker)) {
            return;
        }
        ObjectNode m = DocumentStore.JSON.createObjectNode().put("cluster", config.clusterName())
                .put("group", groupId.getUuid().toString()).put("member", config.self().value());
        Path tmp = marker.resolveSibling(MEMBERSHIP_MARKER + ".tmp");
        Files.writeString(tmp, m.toString());
        Files.move(tmp, marker, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private IOException explainStartFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StoreCorruptException sce) {
                return new StoreCorruptException(sce.getMessage() + ". " + config.self() + " stopped without joining. "
                        + recovery(), e);
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = String.valueOf(root.getMessage());
        if (looksLikeCorruption(e)) {
            return new StoreCorruptException("the raft log under " + groupDir() + " is corrupt (" + message + "). "
                    + config.self() + " stopped without joining. " + recovery(), e);
        }
        return new IOException("the consensus server of " + config.self() + " did not start from " + config.raftDir()
                + ": " + message, e);
    }

    private static boolean looksLikeCorruption(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String s = (t.getClass().getSimpleName() + " " + t.getMessage()).toLowerCase();
            if (s.contains("corrupt") || s.contains("checksum") || s.contains("crc")) {
                return true;
            }
        }
        return false;
    }

    private String recovery() {
        return "To recover: keep this node stopped, remove it from the cluster (from a running member), move "
                + config.raftDir() + " and " + markerFile() + " aside, and add it back as a new member; it then "
                + "copies the state from the others";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeClient(RaftClient c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                LOG.debug("closing a raft client: {}", e.toString());
            }
        }
    }

    private void closeQuietly() {
        closing.set(true);
        monitor.shutdownNow();
        io.shutdownNow();
        relink.shutdownNow();
        closeClient(client.getAndSet(null));
        closeClient(probeClient);
        try {
            server.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("closing the raft server: {}", e.toString());
        }
    }

    /** Stops this node's server (slow: Ratis takes a snapshot and shuts gRPC down). */
    @Override
    public void close() {
        closeQuietly();
    }

    /** For tests and diagnostics: the current voters as Ratis sees them. */
    Collection<RaftPeer> currentVoters() {
        return division().getRaftConf().getCurrentPeers(RaftPeerRole.FOLLOWER);
    }
}
