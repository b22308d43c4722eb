package dev.appliance.node;

import dev.appliance.config.NodeConfig;
import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.Freeze;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Route;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.SwitchoverRequest;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.consensus.store.ClusterDocuments;
import dev.appliance.consensus.store.RaftStore;
import dev.appliance.consensus.store.Session;
import dev.appliance.consensus.store.WriteResult;
import dev.appliance.peer.Decision;
import dev.appliance.peer.DecisionFunction;
import dev.appliance.peer.Engine;
import dev.appliance.peer.EngineInput;
import dev.appliance.peer.EngineMemory;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import dev.appliance.peer.PostgresPlan;
import dev.appliance.peer.PostgresStep;
import dev.appliance.peer.PostgresTarget;
import dev.appliance.peer.Proposal;
import dev.appliance.peer.Topology;
import dev.appliance.peer.ViewHealth;
import dev.appliance.postgres.PgBinaries;
import dev.appliance.resources.PgArchives;
import dev.appliance.resources.PrimaryAddress;
import dev.appliance.resources.ResourceStore;
import dev.appliance.postgres.PgLayout;
import dev.appliance.postgres.PgStatus;
import dev.appliance.postgres.GuardedCancel;
import dev.appliance.postgres.PostgresSupervisor;
import dev.appliance.proxy.ProxyService;
import dev.appliance.proxy.RouteState;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node daemon: one thread (the loop) takes session renewals, store changes and postgres observations,
 * runs the decision engine, and carries out what it decides. It sends at most one compare-and-set at a time,
 * drives postgres one step at a time (on {@link PostgresActions}' thread), opens postgres to clients only
 * while the decision says so, and logs one line whenever its role, generation or reason changes.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Node.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** How often the replication slots are checked against postgres when nothing changed. */
    private static final Duration SLOTS_RECHECK = Duration.ofSeconds(30);
    private static final long CLOSE_WATCH_MS = 20;
    private static final int MAX_RENEWALS_IN_FLIGHT = 3;
    private static final Duration CLOSE_WATCH_FOR = Duration.ofSeconds(3);
    /** How long a joining node waits to be added before it gives up (and its scheduler restarts it). */
    private static final Duration JOIN_WAIT = Duration.ofMinutes(30);
    /** How long adding a member retries while the new daemon is not reachable yet (the API answers within 15 s). */
    private static final Duration ADD_MEMBER_WAIT = Duration.ofSeconds(10);

    private final NodeConfig config;
    private final MemberId self;
    private final Clock clock = new MonotonicClock();
    private List<String> peerHostsApplied = List.of();
    private final DrillFaults drills;
    private final List<Consumer<NodeView>> viewListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final FileLock lock;
    private final RaftStore store;
    private final ClusterSecrets secrets;
    private final PostgresSupervisor pg;
    private final PostgresActions actions;
    private final DecisionFunction engine = new Engine();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "node-loop"));
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "session-renewer"));
    private final ScheduledExecutorService observer = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "postgres-observer"));
    private final RaftStore.Subscription watch;
    private final Instant startedAt;

    private volatile PgStatus status;
    private volatile long actionEndedNanos = Long.MIN_VALUE;
    private long statusStartedNanos = Long.MIN_VALUE;
    private volatile NodeView view;
    private final java.util.concurrent.atomic.AtomicLong decisions = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong primaryChanges = new java.util.concurrent.atomic.AtomicLong();
    private MemberId primarySeen;

    // Confined to the loop thread.
    private EngineMemory memory = EngineMemory.EMPTY;
    private Instant confirmedAt;
    private long catchUpIndex;
    private final java.util.concurrent.atomic.AtomicInteger renewalsInFlight = new java.util.concurrent.atomic.AtomicInteger();
    /** Why renewals fail now (null: they do not), and since when: logged when it changes, not per renewal. */
    private String renewalProblem;
    private Instant renewalFailingSince;
    private boolean proposalInFlight;
    private boolean registerInFlight;
    private volatile boolean resigned;
    private boolean cyclePending;
    private volatile Decision last;
    /** The latest decision routes clients here and postgres lets them in: what this node publishes as routable. */
    private volatile boolean takesClients;
    private String lastLogged = "";
    /** The downstreams whose slots postgres (pid slotsForPid) was last found to hold; null when not known. */
    private Set<MemberId> slotsEnsured;
    private long slotsForPid = -1;
    private Instant slotsEnsuredAt = Instant.MIN;
    private PostgresActions.Work failedWork;
    private Instant retryAfter = Instant.MIN;
    private int failures;
    private ScheduledFuture<?> recheck;
    private boolean transferInFlight;
    private final LeaderPlacement leaderPlacement = new LeaderPlacement();
    private Instant recheckAt = Instant.MAX;
    private volatile boolean closing;
    private final AtomicBoolean closeWatch = new AtomicBoolean();
    private volatile long closeWatchUntil;
    private WalPosition watchedPromotion;
    private volatile boolean publishPromptly;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ProxyService proxy;
    private WalPosition publishedFlush;
    private final ResourceStore resources;
    private final PgArchives archives;

    private Node(NodeConfig config, FileLock lock, RaftStore store, ClusterSecrets secrets, PostgresSupervisor pg) {
        this.config = config;
        this.registry.config().commonTags("node", config.id().value(), "cluster", config.clusterName());
        this.self = config.id();
        GuardedCancel cancel = new GuardedCancel(secrets.postgres());
        this.proxy = new ProxyService(config.host(), config.proxyHoldTimeout(), registry, (primary, pid) -> {
            try {
                LOG.debug("{}: cancel of backend {} on {}: {}", self, pid, primary, cancel.cancel(primary.host(),
                        primary.port(), pid));
            } catch (java.sql.SQLException e) {
                LOG.warn("{}: a client's cancel of backend {} on {} failed: {}", self, pid, primary, e.getMessage());
            }
        });
        this.lock = lock;
        this.store = store;
        this.secrets = secrets;
        this.pg = pg;
        this.actions = new PostgresActions(pg, config.cloneMaxRateBytes());
        this.startedAt = Instant.now();
        this.status = pg.status();
        this.watch = store.watch(loop, event -> requestCycle());
        this.resources = new ResourceStore(this::primaryAddress, secrets.postgres());
        this.archives = new PgArchives(pg.binaries(), secrets.postgres(), pg.layout().nodeDir().resolve("work"));
        this.drills = config.drills() ? new DrillFaults() : null;
    }

    /**
     * Starts the daemon: takes the data directory's lock, starts the consensus store, settles the cluster's
     * secrets (this needs a majority of the members), and begins the loop.
     */
    public static Node start(NodeConfig config) throws IOException {
        return start(config, reason -> {
            LOG.error("{}: the consensus store stopped: {}; the daemon exits so that it is restarted", config.id(), reason);
            Runtime.getRuntime().halt(70);
        });
    }

    /**
     * Starts a node that calls {@code onFatal} (on a thread of its own) instead of ending the process when its
     * consensus store stops for good: an embedding application decides what happens next.
     */
    public static Node start(NodeConfig config, Consumer<String> onFatal) throws IOException {
        Files.createDirectories(config.dataDir());
        FileLock lock = lockDataDir(config.dataDir());
        RaftStore store = null;
        try {
            PgBinaries bin = config.postgresBin() == null ? PgBinaries.discover()
                    : PgBinaries.in(config.postgresBin(), "postgres.bin = " + config.postgresBin());
            boolean joining = config.join() && !RaftStore.wasMember(config.storeConfig());
            store = RaftStore.start(joining ? config.storeConfig().joining() : config.storeConfig());
            if (joining) {
                LOG.info("{}: new to cluster '{}'; waiting to be added. On a running member: appliance node add {} --host {}"
                        + " --raft-port {}", config.id(), config.clusterName(), config.id(), config.host(), config.raftPort());
                store.awaitJoined(JOIN_WAIT);
                LOG.info("{}: added to cluster '{}'", config.id(), config.clusterName());
            }
            LOG.info("{}: consensus store started at {}; waiting for a majority of {}", config.id(),
                    config.storeConfig().address(), config.peers().keySet());
            TcpBackoffCheck.advice().ifPresent(advice -> {
                if (TcpBackoffCheck.actionable(TcpBackoffCheck.SETTING)) {
                    LOG.warn("{}: {}", config.id(), advice);
                } else {
                    LOG.info("{}: {}", config.id(), advice);
                }
            });
            ClusterSecrets secrets = ClusterSecrets.settle(store, config.dataDir().resolve("secrets"), 600_000);
            PostgresSupervisor pg = new PostgresSupervisor(bin, new PgLayout(config.dataDir()), config.pgSettings(List.of()),
                    secrets.postgres(), config.postgresStartTimeout(), config.postgresHangTimeout());
            Node node = new Node(config, lock, store, secrets, pg);
            store.onFatal(reason -> {
                if (!node.closing) {
                    onFatal.accept(reason);
                }
            });
            node.begin();
            return node;
        } catch (IOException | RuntimeException e) {
            if (store != null) {
                store.close();
            }
            lock.release();
            lock.channel().close();
            throw e;
        }
    }

    private static FileLock lockDataDir(Path dataDir) throws IOException {
        Path file = dataDir.resolve("daemon.lock");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ);
        FileLock lock = channel.tryLock();
        if (lock == null) {
            String holder = Files.readString(file).trim();
            channel.close();
            throw new IOException("another daemon runs on " + dataDir + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                    + "; stop it first");
        }
        channel.truncate(0);
        channel.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes()));
        return lock;
    }

    private void begin() {
        long hb = config.engine().heartbeat().toMillis();
        observer.scheduleWithFixedDelay(this::observe, hb, hb, TimeUnit.MILLISECONDS);
        // Renewals keep their own beat: a cycle slowed down (a starved CPU, a slow store read) must not delay
        // the renewal that keeps this node's lease, or the node fences itself.
        renewer.scheduleAtFixedRate(this::renew, 0, hb, TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(this::heartbeat, 0, hb, TimeUnit.MILLISECONDS);
    }

    // ---- inputs ----

    private void observe() {
        PgStatus before = status;
        long started = System.nanoTime();
        PgStatus now = pg.status();
        if (offer(now, started) && materiallyDifferent(before.observation(), now.observation())) {
            requestCycle();
        }
    }

    /**
     * Keeps the newest reading of postgres: one that began before the latest action on postgres finished, or
     * before the reading already kept, is stale and dropped (a stale reading would repeat a finished action).
     */
    private synchronized boolean offer(PgStatus reading, long startedNanos) {
        if (startedNanos < actionEndedNanos || startedNanos < statusStartedNanos) {
            return false;
        }
        status = reading;
        statusStartedNanos = startedNanos;
        return true;
    }

    /**
     * Reads postgres every {@value #CLOSE_WATCH_MS} ms for a while, each reading followed by a cycle. Used while
     * a decision waits for something only postgres' readings show (a new primary waiting for its sync to flush
     * the promotion): the heartbeat's readings would add up to one heartbeat to every such wait.
     */
    private void watchClosely(Duration forAtMost) {
        closeWatchUntil = System.nanoTime() + forAtMost.toNanos();
        if (closeWatch.compareAndSet(false, true)) {
            observer.schedule(this::closeWatchTick, CLOSE_WATCH_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void closeWatchTick() {
        long started = System.nanoTime();
        if (closing || started > closeWatchUntil) {
            closeWatch.set(false);
            return;
        }
        if (offer(pg.status(), started)) {
            requestCycle();
            if (publishPromptly) {
                onLoop(() -> {
                    if (!Objects.equals(publishedFlush, status.observation().flush())) {
                        renew();
                    }
                });
            }
        }
        observer.schedule(this::closeWatchTick, CLOSE_WATCH_MS, TimeUnit.MILLISECONDS);
    }

    private static boolean materiallyDifferent(PgObservation a, PgObservation b) {
        return a.state() != b.state() || a.writable() != b.writable() || !Objects.equals(a.upstream(), b.upstream())
                || a.streaming() != b.streaming() || a.timeline() != b.timeline() || !a.syncRequired().equals(b.syncRequired())
                || !a.replicas().keySet().equals(b.replicas().keySet()) || a.diverged() != b.diverged()
                || a.rebuiltForGeneration() != b.rebuiltForGeneration() || a.rewindFailed() != b.rewindFailed()
                || a.rebuildRequested() != b.rebuildRequested() || a.upstreamLacksWal() != b.upstreamLacksWal();
    }

    private void heartbeat() {
        try {
            cycle();
        } catch (RuntimeException e) {
            LOG.error("{}: the node loop failed and carries on: {}", self, e.toString(), e);
        }
    }

    /**
     * Renews this node's session with its latest status. Up to {@value #MAX_RENEWALS_IN_FLIGHT} renewals may be
     * in flight, so one slow round trip does not hold back the next. Any thread; results land on the loop.
     */
    private void renew() {
        if (resigned || closing || renewalsInFlight.incrementAndGet() > MAX_RENEWALS_IN_FLIGHT) {
            renewalsInFlight.decrementAndGet();
            return;
        }
        Instant sentAt = clock.instant();
        MemberStatus published = publishedStatus();
        store.renew(StatusCodec.encode(published, new StatusCodec.NodeFacts(ProcessHandle.current().pid(),
                pg.pid().orElse(0), config.source() == null ? "" : config.source().toString()))).whenComplete((r, e) -> onLoop(() -> {
            renewalsInFlight.decrementAndGet();
            renewalOutcome(e == null ? null : rootOf(e), e == null ? r : null);
            if (e == null && r.ok() && (confirmedAt == null || sentAt.isAfter(confirmedAt))) {
                if (confirmedAt == null || !clock.instant().isBefore(confirmedAt.plus(config.engine().fenceAfter()))) {
                    // The lease had lapsed: the session may have expired and this node been replaced meanwhile.
                    // Its view counts only once it has applied the log up to this renewal (its index).
                    catchUpIndex = r.version();
                }
                confirmedAt = sentAt;
                publishedFlush = published.pg().flush();
            }
        }));
    }

    /**
     * Logs when renewals start failing, fail in another way (another kind of error), or are confirmed again,
     * not once per renewal. On the loop.
     */
    private void renewalOutcome(Throwable failure, WriteResult result) {
        // A retry failure wraps what the last attempt met (a timeout, no leader, ...): that is the kind worth telling.
        Throwable last = failure == null || failure.getCause() == null ? failure : failure.getCause();
        String kind = failure == null ? (result.ok() ? null : "refused " + result.status())
                : failure.getClass().getSimpleName() + (last == failure ? "" : " after " + last.getClass().getSimpleName());
        if (Objects.equals(kind, renewalProblem)) {
            return;
        }
        Instant now = clock.instant();
        if (kind == null) {
            LOG.info("{}: session renewals are confirmed again, after {} ms of failures", self,
                    Duration.between(renewalFailingSince, now).toMillis());
            renewalFailingSince = null;
        } else {
            if (renewalFailingSince == null) {
                renewalFailingSince = now;
            }
            String detail = failure != null ? String.valueOf(last.getMessage()) : String.valueOf(result.detail());
            LOG.warn("{}: a session renewal failed: {}: {} (logged again when the kind of failure changes)", self,
                    kind, detail.length() > 300 ? detail.substring(0, 300) + "…" : detail);
        }
        renewalProblem = kind;
    }

    private static Throwable rootOf(Throwable e) {
        return e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private MemberStatus publishedStatus() {
        long applied = view == null || view.state() == null ? 0 : view.state().value().generation();
        return new MemberStatus(status.observation(), applied, takesClients,
                last != null && last.fenced());
    }

    private void requestCycle() {
        if (!cyclePending) {
            cyclePending = true;
            onLoop(() -> {
                cyclePending = false;
                try {
                    cycle();
                } catch (RuntimeException e) {
                    LOG.error("{}: the node loop failed and carries on: {}", self, e.toString(), e);
                }
            });
        }
    }

    // ---- the cycle ----

    private void cycle() {
        if (closing) {
            return;
        }
        long applied = store.appliedIndex();    // before the state is read: that state is at least this new
        Versioned<ClusterState> state;
        try {
            state = ClusterDocuments.clusterState(store).orElse(null);
        } catch (InvalidDocumentException e) {
            logOnce("the agreed cluster state cannot be read (" + e.getMessage() + "); this node does nothing until "
                    + "it can");
            return;
        }
        Map<MemberId, MemberStatus> sessions = sessions();
        PgStatus pgStatus = status;
        ViewHealth health = new ViewHealth(confirmedAt, store.view().majorityReachable(), applied >= catchUpIndex);
        Decision d = engine.decide(new EngineInput(self, config.engine(), state, sessions, pgStatus.observation(), health,
                memory, clock.instant()));
        memory = d.memory();
        // Routed to only once postgres lets clients in: the decision opens pg_hba.conf a step later, and a client
        // routed before that meets a refusal it would not retry.
        boolean nowTakesClients = d.routable() && pg.admitsClients();
        boolean publishNow = last != null && (takesClients != nowTakesClients || last.fenced() != d.fenced());
        takesClients = nowTakesClients;
        last = d;
        decisions.incrementAndGet();
        if (state != null && !state.value().primary().equals(primarySeen)) {
            if (primarySeen != null) {
                primaryChanges.incrementAndGet();
            }
            primarySeen = state.value().primary();
        }
        log(d, state);
        register();
        propose(d);
        if (d.resign() && !resigned) {
            resigned = true;
            LOG.warn("{}: giving up this node's session: {}", self, d.reason().summary());
            store.resign();
        } else if (!d.resign()) {
            resigned = false;
        }
        drive(d, state, sessions, pgStatus);
        if (publishNow) {
            renew();    // proxies on other nodes route by this flag: let them know now, not at the next heartbeat
        }
        routeProxy(d, state, sessions);
        publishPromptly = state != null && switchoverWaitsOnSelf(state.value());
        if (publishPromptly) {
            watchClosely(CLOSE_WATCH_FOR);
        }
        if (awaitsSyncFlush(d, pgStatus.observation()) && !Objects.equals(watchedPromotion, pgStatus.observation().servingSince())) {
            watchedPromotion = pgStatus.observation().servingSince();    // once per promotion: bounded
            watchClosely(CLOSE_WATCH_FOR);
        }
        placeRaftLeader(state, sessions);
        view = new NodeView(self, state, sessions, pgStatus, d, takesClients, clock.instant(), confirmedAt, store.view());
        for (Consumer<NodeView> l : viewListeners) {
            l.accept(view);
        }
        scheduleRecheck(d.recheckIn());
    }

    private Map<MemberId, MemberStatus> sessions() {
        Map<MemberId, MemberStatus> out = new TreeMap<>();
        for (Map.Entry<MemberId, Session> e : store.sessions().entrySet()) {
            try {
                out.put(e.getKey(), StatusCodec.decode(e.getValue().payload()));
            } catch (IOException ex) {
                // Conservative: a member whose status cannot be read counts as live, holding data, not running.
                logOnce(e.getKey() + " publishes a status this daemon cannot read (" + ex.getMessage() + ")");
                out.put(e.getKey(), MemberStatus.of(PgObservation.stopped(dev.appliance.consensus.state.WalPosition.ZERO)));
            }
        }
        return out;
    }

    private void log(Decision d, Versioned<ClusterState> state) {
        String role = state == null ? "no cluster yet" : state.value().roleOf(self).label() + ", generation "
                + state.value().generation();
        String line = self + " [" + role + (d.fenced() ? ", fenced" : "") + "] " + d.reason().summary() + " -> "
                + d.postgres();
        String key = role + "|" + d.fenced() + "|" + d.reason().code() + "|" + d.postgres();
        if (!key.equals(lastLogged)) {
            lastLogged = key;
            LOG.info("{}", line);
        }
    }

    private final Map<String, Instant> logged = new TreeMap<>();

    /** Logs a persistent problem once a minute, not every cycle. */
    private void logOnce(String problem) {
        Instant now = clock.instant();
        Instant at = logged.get(problem);
        if (at == null || Duration.between(at, now).toSeconds() >= 60) {
            logged.put(problem, now);
            LOG.error("{}: {}", self, problem);
        }
    }

    /**
     * Whom pg_hba.conf lets replicate: the configured peers and every registered member, so a member added at run
     * time can clone and stream. Sorted, so an unchanged set compares equal.
     */
    private List<String> memberHosts() {
        java.util.TreeSet<String> hosts = new java.util.TreeSet<>(config.pgSettings(List.of()).peerHosts());
        try {
            ClusterDocuments.members(store).values().forEach(m -> hosts.add(m.value().host()));
        } catch (InvalidDocumentException e) {
            logOnce("the member registry cannot be read: " + e.getMessage());
        }
        return List.copyOf(hosts);
    }

    private void register() {
        if (registerInFlight) {
            return;
        }
        Member me = config.member();
        Optional<Member> registered;
        try {
            registered = Optional.ofNullable(ClusterDocuments.members(store).get(self)).map(Versioned::value);
        } catch (InvalidDocumentException e) {
            logOnce("the member registry cannot be read: " + e.getMessage());
            return;
        }
        if (registered.equals(Optional.of(me))) {
            return;
        }
        registerInFlight = true;
        store.put(ClusterDocuments.writeMember(me, self.value(), "registered at " + me.host()))
                .whenComplete((r, e) -> onLoop(() -> registerInFlight = false));
    }

    private void propose(Decision d) {
        if (d.proposal().isEmpty() || proposalInFlight) {
            return;
        }
        Proposal p = d.proposal().get();
        proposalInFlight = true;
        store.put(ClusterDocuments.writeClusterState(p.expectedVersion(), p.next(), List.copyOf(p.requireExpired()),
                self.value(), p.reason().summary())).whenComplete((r, e) -> onLoop(() -> {
                    proposalInFlight = false;
                    if (e != null) {
                        LOG.warn("{}: writing generation {} failed: {}", self, p.next().generation(), e.getMessage());
                    } else if (r.ok()) {
                        LOG.info("{}: wrote generation {}: {}", self, p.next().generation(), p.reason().summary());
                    } else {
                        LOG.info("{}: generation {} not written ({}: {})", self, p.next().generation(), r.status(),
                                r.detail());
                    }
                    requestCycle();
                }));
    }

    /**
     * Keeps the Raft leader off the primary's node, and off the sync's while there is an async. When one node
     * runs both and dies, a new leader must be elected first and then grants every session a full ttl before it
     * can expire the dead primary's (or replace the dead sync): failover takes an election longer, and while
     * nobody leads nobody renews, so with a slow election every node fences. So those nodes hand the
     * leadership to an async, whose loss costs no failover (the primary's node, when there is none, to the sync).
     */
    private void placeRaftLeader(Versioned<ClusterState> state, Map<MemberId, MemberStatus> sessions) {
        Instant now = clock.instant();
        if (state == null || transferInFlight || !leaderPlacement.due(now) || !store.isLeader()) {
            return;
        }
        List<MemberId> candidates = LeaderPlacement.candidates(self, state.value());
        if (candidates.isEmpty()) {
            return;
        }
        Set<MemberId> voters = store.configuration(true).keySet();
        Set<MemberId> answering = store.answeringFollowers();
        // A member whose session outlives its death would take the transfer's whole timeout, during which the
        // leader takes no writes: only a member answering Raft now is asked.
        Optional<MemberId> to = leaderPlacement.pick(candidates.stream()
                .filter(m -> sessions.containsKey(m) && voters.contains(m) && answering.contains(m)).toList());
        if (to.isEmpty()) {
            return;
        }
        transferInFlight = true;
        leaderPlacement.offered(now);
        Duration timeout = LeaderPlacement.offerTimeout(config.engine().ttl(), config.engine().fenceMargin());
        long startedNanos = System.nanoTime();
        CompletableFuture.runAsync(() -> {
            try {
                store.transferLeadership(to.get(), timeout);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).whenComplete((r, e) -> onLoop(() -> {
            transferInFlight = false;
            if (e == null) {
                leaderPlacement.succeeded();
                LOG.info("{}: moved the Raft leadership to {} in {} ms, off the node of the {}", self, to.get(),
                        (System.nanoTime() - startedNanos) / 1_000_000, state.value().roleOf(self).label());
            } else {
                leaderPlacement.failed(to.get(), clock.instant());
                LOG.info("{}: moving the Raft leadership to {} failed ({}); trying again in {} s at the earliest",
                        self, to.get(), e.getMessage(),
                        Duration.between(clock.instant(), leaderPlacement.nextAt()).toSeconds());
            }
        }));
    }

    // ---- proxy ----

    private void routeProxy(Decision d, Versioned<ClusterState> state, Map<MemberId, MemberStatus> sessions) {
        Map<MemberId, Member> members = new TreeMap<>();
        List<Route> routes = new ArrayList<>();
        try {
            ClusterDocuments.members(store).forEach((id, m) -> members.put(id, m.value()));
            ClusterDocuments.routes(store).values().forEach(r -> routes.add(r.value()));
        } catch (InvalidDocumentException e) {
            logOnce("the agreed members or routes cannot be read (" + e.getMessage() + "); the proxy holds connections");
            proxy.route(new RouteState.Hold("the agreed members or routes cannot be read"));
            return;
        }
        proxy.routes(routes);
        proxy.route(LeaderRouting.of(self, d, takesClients, state == null ? null : state.value(), sessions, members));
    }

    // ---- postgres ----

    private void drive(Decision d, Versioned<ClusterState> state, Map<MemberId, MemberStatus> sessions, PgStatus decidedOn) {
        if (actions.busy()) {
            return;
        }
        if (status != decidedOn) {
            // An action ended while deciding (its reading lands before the worker is free): decide on that first.
            requestCycle();
            return;
        }
        PgObservation local = decidedOn.observation();
        if (local.state() == PgState.STOPPED && pg.running()) {
            // The process runs but takes no connections: it hangs, or it recovers after a backend crashed. Stop
            // it if it should be stopped. If it should run, start it: the supervisor first checks that it has
            // answered nothing for postgres.hang.timeout (a recovering postgres answers with a refusal) and kills
            // it. Nothing else here: a change of client access would wait on the hung postgres itself.
            PostgresTarget t = d.postgres();
            if (t instanceof PostgresTarget.Stopped || t instanceof PostgresTarget.Rewind || t instanceof PostgresTarget.Clone) {
                submit(new PostgresActions.Work.Step(new PostgresStep.Stop(false)));
            } else if (t instanceof PostgresTarget.Primary || t instanceof PostgresTarget.Standby) {
                PostgresPlan.next(t, local, d.fenced()).ifPresent(step -> submit(new PostgresActions.Work.Step(step)));
            }
            return;
        }
        boolean open = wantsClients(d, local);
        if (!open && pg.clientsAllowed()) {
            submit(new PostgresActions.Work.Access(false));
            return;
        }
        Optional<PostgresStep> step = PostgresPlan.next(d.postgres(), local, d.fenced());
        if (step.isPresent()) {
            submit(new PostgresActions.Work.Step(step.get()));
            return;
        }
        List<String> hosts = memberHosts();
        if (!hosts.equals(peerHostsApplied)) {
            submit(new PostgresActions.Work.PeerHosts(hosts));
            return;
        }
        if (state != null && local.isRunning()) {
            Set<MemberId> downstreams = Topology.downstreamsOf(self, state.value(), sessions);
            long pid = pg.pid().orElse(-1);
            // Also now and then: a slot dropped behind the daemon's back (by hand) is made again.
            boolean due = !clock.instant().isBefore(slotsEnsuredAt.plus(SLOTS_RECHECK));
            if (!downstreams.equals(slotsEnsured) || pid != slotsForPid || due) {
                submit(new PostgresActions.Work.Slots(downstreams));
                return;
            }
        }
        if (open && !pg.clientsAllowed()) {
            submit(new PostgresActions.Work.Access(true));
        }
    }

    /**
     * During a switchover the primary waits for the target's (and the sync's) flushed position, which it learns
     * from their sessions: they publish each new position at once instead of on the next heartbeat.
     */
    private boolean switchoverWaitsOnSelf(ClusterState st) {
        return st.switchover() != null && !self.equals(st.primary())
                && (self.equals(st.switchover().to()) || self.equals(st.sync()));
    }

    /** A primary that is not yet routable only because its sync has not flushed the promotion. */
    private static boolean awaitsSyncFlush(Decision d, PgObservation local) {
        return d.postgres() instanceof PostgresTarget.Primary p && p.writable() && !d.routable() && !d.fenced()
                && local.state() == PgState.PRIMARY && local.writable();
    }

    /**
     * Clients may connect to a primary once the decision routes to it (its write gate is open), and to a
     * standby that follows the upstream the decision names. Never to a fenced node.
     */
    private static boolean wantsClients(Decision d, PgObservation local) {
        if (d.fenced()) {
            return false;
        }
        if (d.postgres() instanceof PostgresTarget.Primary) {
            return d.routable() && local.state() == PgState.PRIMARY;
        }
        return d.postgres() instanceof PostgresTarget.Standby s && local.state() == PgState.STANDBY
                && s.upstream().equals(local.upstream());
    }

    private void submit(PostgresActions.Work work) {
        Instant now = clock.instant();
        if (work.equals(failedWork) && now.isBefore(retryAfter)) {
            scheduleRecheck(Duration.between(now, retryAfter));
            return;
        }
        actions.submit(work, this::address, () -> {
            actionEndedNanos = System.nanoTime();
            long started = System.nanoTime();
            offer(pg.status(), started);
        }, (done, failure) -> {
            onLoop(() -> {
                completed(done, failure);
                requestCycle();
            });
        });
    }

    private void completed(PostgresActions.Work work, Exception failure) {
        if (failure == null) {
            if (work instanceof PostgresActions.Work.Slots s) {
                slotsEnsured = s.downstreams();
                slotsForPid = pg.pid().orElse(-1);
                slotsEnsuredAt = clock.instant();
            }
            if (work instanceof PostgresActions.Work.PeerHosts h) {
                peerHostsApplied = h.hosts();
            }
            if (work.equals(failedWork)) {
                failedWork = null;
                failures = 0;
            }
            return;
        }
        if (work instanceof PostgresActions.Work.Slots) {
            // It may have dropped some slots before it failed: what postgres holds is not known any more.
            slotsEnsured = null;
        }
        failures = work.equals(failedWork) ? failures + 1 : 1;
        failedWork = work;
        Duration backoff = Duration.ofSeconds(1L << Math.min(5, failures - 1));
        backoff = backoff.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff;
        retryAfter = clock.instant().plus(backoff);
        String what = work instanceof PostgresActions.Work.Step s ? PostgresActions.describe(s.step()) : work.toString();
        LOG.error("{}: postgres: {} failed (attempt {}, next try in {} s): {}", self, what, failures, backoff.toSeconds(),
                failure.getMessage());
    }

    private Optional<PostgresSupervisor.Upstream> address(MemberId member) {
        try {
            Versioned<Member> m = ClusterDocuments.members(store).get(member);
            return m == null ? Optional.empty()
                    : Optional.of(new PostgresSupervisor.Upstream(member, m.value().host(), m.value().pgPort()));
        } catch (InvalidDocumentException e) {
            return Optional.empty();
        }
    }

    private void scheduleRecheck(Duration in) {
        Instant at = clock.instant().plus(in);
        if (recheck != null && !recheck.isDone() && !at.isBefore(recheckAt)) {
            return;
        }
        if (recheck != null) {
            recheck.cancel(false);
        }
        recheckAt = at;
        recheck = loop.schedule(this::requestCycle, Math.max(1, in.toMillis()), TimeUnit.MILLISECONDS);
    }

    // ---- operator writes ----

    /** Asks for a planned switchover (to {@code to}, or to the sync when null). */
    public CompletableFuture<WriteResult> requestSwitchover(MemberId to, String by) {
        return amend(s -> {
            if (s.switchover() != null) {
                throw new IllegalStateException("a switchover to " + (s.switchover().to() == null ? "the sync"
                        : s.switchover().to()) + " is already under way");
            }
            if (s.isFrozen()) {
                throw new IllegalStateException("the cluster is frozen (" + s.frozen().reason() + "); unfreeze it first");
            }
            if (to != null && to.equals(s.primary())) {
                throw new IllegalStateException(to + " is already the primary");
            }
            if (to != null && s.roleOf(to) != Role.SYNC && s.roleOf(to) != Role.ASYNC) {
                throw new IllegalStateException(to + " is not a replica of this cluster (" + s.roleOf(to).label() + ")");
            }
            if (to == null && s.sync() == null) {
                throw new IllegalStateException("the cluster has no sync to switch over to");
            }
            return s.toBuilder().switchover(new SwitchoverRequest(to, Instant.now(), by)).build();
        }, "switchover requested by " + by + (to == null ? "" : " to " + to));
    }

    public CompletableFuture<WriteResult> freeze(String reason, String by) {
        return amend(s -> {
            if (s.isFrozen()) {
                throw new IllegalStateException("the cluster is already frozen (" + s.frozen().reason() + ")");
            }
            return s.toBuilder().frozen(new Freeze(reason, Instant.now())).build();
        }, "frozen by " + by + ": " + reason);
    }

    public CompletableFuture<WriteResult> unfreeze(String by) {
        return amend(s -> {
            if (!s.isFrozen()) {
                throw new IllegalStateException("the cluster is not frozen");
            }
            return s.toBuilder().frozen(null).build();
        }, "unfrozen by " + by);
    }

    /**
     * Adds a leader route for postgres on {@code port}, or on the first port from {@code proxy.port} up that no
     * route or member uses. Every member's proxy listens on it as soon as the write applies.
     */
    public CompletableFuture<Route> addRoute(String id, Integer port, String by) {
        return CompletableFuture.supplyAsync(() -> {
            for (int attempt = 0; attempt < 10; attempt++) {
                Map<String, Versioned<Route>> routes;
                Set<Integer> taken = new java.util.HashSet<>();
                try {
                    routes = ClusterDocuments.routes(store);
                    ClusterDocuments.members(store).values().forEach(m -> taken.addAll(List.of(m.value().raftPort(),
                            m.value().pgPort(), m.value().apiPort())));
                } catch (InvalidDocumentException e) {
                    throw new IllegalStateException("the agreed routes or members cannot be read: " + e.getMessage());
                }
                Map<Integer, String> byPort = new TreeMap<>();
                routes.values().forEach(r -> byPort.put(r.value().port(), r.value().id()));
                int chosen;
                if (port != null) {
                    if (byPort.containsKey(port)) {
                        throw new IllegalStateException("port " + port + " is already route " + byPort.get(port) + "'s");
                    }
                    if (taken.contains(port)) {
                        throw new IllegalStateException("port " + port + " is a member's raft, postgres or api port");
                    }
                    chosen = port;
                } else {
                    chosen = config.proxyPort();
                    while (byPort.containsKey(chosen) || taken.contains(chosen)) {
                        chosen++;
                    }
                    if (chosen > 65535) {
                        throw new IllegalStateException("no free port from " + config.proxyPort() + " up; give one");
                    }
                }
                Route r = new Route(id == null ? "postgres-" + chosen : id, Route.POSTGRES, true, chosen);
                if (routes.containsKey(r.id())) {
                    throw new IllegalStateException("a route named " + r.id() + " exists already");
                }
                WriteResult w = store.put(ClusterDocuments.addRoute(r, self.value(), "route added by " + by)).join();
                if (w.ok()) {
                    return r;
                }
                if (w.status() != WriteResult.Status.VERSION_CONFLICT) {
                    throw new IllegalStateException("the route was not added: " + w.status() + " " + w.detail());
                }
            }
            throw new IllegalStateException("the routes kept changing; try again");
        });
    }

    /** Removes a route; every member's proxy stops listening on it and closes its connections. */
    public CompletableFuture<Route> removeRoute(String id, String by) {
        return CompletableFuture.supplyAsync(() -> {
            Versioned<Route> r;
            try {
                r = ClusterDocuments.routes(store).get(id);
            } catch (InvalidDocumentException e) {
                throw new IllegalStateException("the agreed routes cannot be read: " + e.getMessage());
            }
            if (r == null) {
                throw new java.util.NoSuchElementException("no route " + id);
            }
            WriteResult w = store.put(ClusterDocuments.removeRoute(id, r.version(), self.value(), "route removed by " + by))
                    .join();
            if (!w.ok()) {
                throw new IllegalStateException("the route was not removed: " + w.status() + " " + w.detail());
            }
            return r.value();
        });
    }

    /** A compare-and-set of the cluster state that changes only what {@code change} changes, retried on a race. */
    private CompletableFuture<WriteResult> amend(UnaryOperator<ClusterState> change, String reason) {
        return CompletableFuture.supplyAsync(() -> amendNow(change, List.of(), reason));
    }

    /**
     * Applies {@code change} to the agreed state by compare-and-set, reading it again after a conflict; the write also
     * requires each of {@code requireNoSession} to hold no session.
     */
    private WriteResult amendNow(UnaryOperator<ClusterState> change, List<MemberId> requireNoSession, String reason) {
        for (int attempt = 0; attempt < 10; attempt++) {
            Versioned<ClusterState> current;
            try {
                current = ClusterDocuments.clusterState(store).orElseThrow(
                        () -> new IllegalStateException("the cluster has not been created yet"));
            } catch (InvalidDocumentException e) {
                throw new IllegalStateException("the agreed cluster state cannot be read: " + e.getMessage());
            }
            ClusterState next = change.apply(current.value());
            WriteResult r = store.put(ClusterDocuments.writeClusterState(current.version(), next, requireNoSession,
                    self.value(), reason)).join();
            if (r.status() != WriteResult.Status.VERSION_CONFLICT) {
                return r;
            }
        }
        throw new IllegalStateException("the cluster state kept changing; try again");
    }

    /** The state without {@code id} among the asyncs and the deposed; refused for the primary and the sync. */
    private static ClusterState withoutMember(ClusterState s, MemberId id) {
        if (id.equals(s.primary())) {
            throw new IllegalStateException(id + " is the primary; the cluster fails over from it once its session has "
                    + "expired, and it can be removed after that");
        }
        if (id.equals(s.sync())) {
            throw new IllegalStateException(id + " is the sync; another replica takes its place once its session has "
                    + "expired (a few seconds), and it can be removed after that");
        }
        return s.toBuilder().asyncs(s.asyncs().stream().filter(m -> !m.equals(id)).toList())
                .deposed(s.deposed().stream().filter(d -> !d.id().equals(id)).toList()).build();
    }

    /** {@code appliance drill}: this node crashes (exit 75; its supervisor restarts it). Needs {@code drills = true}. */
    public String drillCrash(String by) {
        requireDrills();
        LOG.warn("{}: drill by {}: crash", self, by);
        drills.crash();
        return self + " crashes now: its daemon and postgres are killed without a hand-over; its supervisor restarts it";
    }

    /** {@code appliance drill}: this node is cut off from every other member for {@code seconds}. */
    public String drillPartition(int seconds, String by) {
        requireDrills();
        List<String> others = new ArrayList<>();
        try {
            ClusterDocuments.members(store).forEach((id, m) -> {
                if (!id.equals(self)) {
                    others.add(m.value().host());
                }
            });
        } catch (InvalidDocumentException e) {
            throw new IllegalStateException("the member registry cannot be read: " + e.getMessage(), e);
        }
        drills.partition(others, seconds);
        LOG.warn("{}: drill by {}: cut off from {} for {} s", self, by, others, seconds);
        return self + " is cut off from " + others + " for " + seconds + " s";
    }

    private void requireDrills() {
        if (drills == null) {
            throw new UnsupportedOperationException("drills are off on " + self + ": set drills = true in its configuration "
                    + "(APPLIANCE_DRILLS=true) and restart it");
        }
    }

    /**
     * Adds a member to the Raft configuration, as a voter or a non-voting listener. Its daemon must already run
     * with {@code join = true} (it waits to be given the group). Once it has caught up it registers, and the engine
     * makes it an async, which clones the primary. A member of the same id must be removed first (a replacement).
     */
    public CompletableFuture<String> addMember(MemberId id, String host, int raftPort, boolean voting, String by) {
        return CompletableFuture.supplyAsync(() -> {
            if (store.configuration(true).containsKey(id) || store.configuration(false).containsKey(id)) {
                throw new IllegalArgumentException(id + " is already a member; to replace it, stop it and remove it first "
                        + "(appliance node remove " + id + "), then add the new one");
            }
            // A daemon started a moment ago may not listen yet: retry the hand-over of the group for a while.
            long deadline = System.nanoTime() + ADD_MEMBER_WAIT.toNanos();
            while (true) {
                try {
                    store.addMember(id, host + ":" + raftPort, voting);
                    break;
                } catch (IOException e) {
                    if (System.nanoTime() > deadline || store.configuration(voting).containsKey(id)) {
                        throw new IllegalStateException("adding " + id + " at " + host + ":" + raftPort + " failed: "
                                + e.getMessage() + ". Is its daemon running with join = true, and reachable from here?", e);
                    }
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while adding " + id, ie);
                    }
                }
            }
            LOG.warn("{}: member {} at {}:{} added as a {} by {}", self, id, host, raftPort, voting ? "voter" : "non-voting "
                    + "listener", by);
            return id + " added as a " + (voting ? "voting member" : "non-voting member") + "; it registers, then clones "
                    + "the primary as an async";
        });
    }

    /**
     * Removes a member for good: from the agreed roles (it must be neither the primary nor the sync), from the
     * Raft configuration and from the member registry. Its daemon must be stopped first: the state write
     * requires it to hold no session, so a running member can never be removed under its own feet.
     */
    public CompletableFuture<String> removeMember(MemberId id, String by) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                boolean registered = ClusterDocuments.members(store).containsKey(id);
                boolean inRaft = store.configuration(true).containsKey(id) || store.configuration(false).containsKey(id);
                if (!registered && !inRaft) {
                    throw new java.util.NoSuchElementException("no member " + id + " (see 'appliance cluster status')");
                }
                if (store.sessions().containsKey(id)) {
                    throw new IllegalStateException(id + "'s daemon is running (it holds a live session); stop it first "
                            + "(SIGTERM, or POST /stop on it), then remove it");
                }
                ClusterState now = ClusterDocuments.clusterState(store).map(Versioned::value).orElse(null);
                if (now != null && now.roleOf(id) != Role.UNASSIGNED) {
                    WriteResult r = amendNow(s -> withoutMember(s, id), List.of(id), "member " + id + " removed by " + by);
                    if (r.status() == WriteResult.Status.SESSION_LIVE) {
                        throw new IllegalStateException(id + "'s daemon came back; stop it first, then remove it");
                    }
                    if (!r.ok()) {
                        throw new IllegalStateException("removing " + id + " from the roles was not applied: " + r.status());
                    }
                }
                if (inRaft) {
                    store.removeMember(id);
                }
                if (registered) {
                    WriteResult r = store.put(ClusterDocuments.removeMember(id, self.value(), "removed by " + by)).join();
                    if (!r.ok()) {
                        throw new IllegalStateException("removing " + id + " from the registry was not applied: " + r.status());
                    }
                }
                LOG.warn("{}: member {} removed by {}", self, id, by);
                return id + " removed: it has no role, no vote and no registry entry; its data directory is untouched";
            } catch (IOException | InvalidDocumentException e) {
                throw new IllegalStateException("removing " + id + " failed: " + e.getMessage(), e);
            }
        });
    }

    // ---- views for the API ----

    /**
     * Asks this node to replace its data directory with a fresh clone of the primary (the old one is kept as
     * {@code pgdata.replaced}). The request survives restarts until a clone completes. Refused for the primary and
     * the sync: the first must hand over first, and a sync that stopped to re-clone would stall every commit.
     */
    public void requestRebuild(String by) throws IOException {
        NodeView v = view;
        ClusterState st = v == null || v.state() == null ? null : v.state().value();
        if (st == null) {
            throw new IllegalStateException("the cluster does not exist yet; there is nothing to rebuild from");
        }
        Role role = st.roleOf(self);
        if (role == Role.PRIMARY) {
            throw new IllegalStateException(self + " is the primary; hand over first (appliance switchover), then rebuild it");
        }
        if (role == Role.SYNC) {
            throw new IllegalStateException(self + " is the sync, and rebuilding it would stall every commit until another "
                    + "replica took its place; stop its daemon until another replica is the sync, start it again, then "
                    + "rebuild it");
        }
        pg.requestRebuild();
        LOG.warn("{}: rebuild requested by {}: postgres stops, and its data directory is replaced by a fresh clone of "
                + "{} (the old one is kept as pgdata.replaced)", self, by, st.primary());
        requestCycle();
    }

    /** The cluster's resources (databases handed to applications), kept on whichever member is the primary. */
    public ResourceStore resources() {
        return resources;
    }

    public PgArchives archives() {
        return archives;
    }

    /** The primary's postgres as the agreed state names it; throws saying why there is none. */
    private PrimaryAddress primaryAddress() {
        NodeView v = view;
        MemberId primary = v == null || v.state() == null ? null : v.state().value().primary();
        if (primary == null) {
            throw new IllegalStateException("the cluster has no primary now; try again when 'appliance cluster status' "
                    + "shows one");
        }
        PostgresSupervisor.Upstream u = address(primary).orElseThrow(() -> new IllegalStateException(
                "the primary " + primary + " is not in the member registry"));
        return new PrimaryAddress(primary.value(), u.host(), u.port());
    }

    /** Calls {@code listener} on the node loop with every new view; it must return at once (hand work off). */
    public void onView(Consumer<NodeView> listener) {
        viewListeners.add(listener);
    }

    public NodeView view() {
        return view;
    }

    public NodeConfig config() {
        return config;
    }

    public ProxyService proxy() {
        return proxy;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public RaftStore store() {
        return store;
    }

    public ClusterSecrets secrets() {
        return secrets;
    }

    public PgStatus postgresStatus() {
        return status;
    }

    public OptionalPid postgresPid() {
        return new OptionalPid(pg.pid());
    }

    public Instant startedAt() {
        return startedAt;
    }

    /**
     * The node loop made a view within the last ten heartbeats (10 s at least): the daemon is alive even when its
     * postgres is not running (a clone, a rewind). A scheduler's liveness probe asks this, never postgres.
     */
    public boolean loopAlive() {
        NodeView v = view;
        Duration within = config.engine().heartbeat().multipliedBy(10);
        within = within.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : within;
        return v != null && !clock.instant().isAfter(v.at().plus(within));
    }

    /** Decisions the engine has made on this node since the daemon started. */
    public long decisionsMade() {
        return decisions.get();
    }

    /** How often this node has seen the primary change since the daemon started. */
    public long primaryChangesSeen() {
        return primaryChanges.get();
    }

    /** The postmaster's pid, if postgres runs. */
    public record OptionalPid(java.util.OptionalLong pid) {
    }

    // ---- stopping ----

    /**
     * Leaves the cluster cleanly. A primary with a live sync first hands over (a planned switchover) and waits,
     * up to the switchover timeout, until another member is primary. Then postgres stops, the session is given
     * up, and the store closes.
     */
    public void shutdown(boolean handOver) {
        if (handOver) {
            handOver();
        }
        close();
    }

    private void handOver() {
        NodeView v = view;
        if (v == null || v.state() == null || !self.equals(v.state().value().primary()) || !syncStreams(v)) {
            return;
        }
        MemberId sync = v.state().value().sync();
        LOG.info("{}: handing over to {} before stopping", self, sync);
        try {
            WriteResult r = requestSwitchover(sync, self + " (stopping)").get(10, TimeUnit.SECONDS);
            if (!r.ok()) {
                LOG.warn("{}: the hand-over was not requested ({}); stopping anyway", self, r.detail());
                return;
            }
        } catch (Exception e) {
            LOG.warn("{}: the hand-over could not be requested ({}); stopping anyway", self, e.getMessage());
            return;
        }
        long deadline = System.nanoTime() + config.engine().switchoverTimeout().plusSeconds(5).toNanos();
        boolean requestSeen = false;
        while (System.nanoTime() < deadline) {
            NodeView now = view;
            if (now != null && now.state() != null && !self.equals(now.state().value().primary())) {
                LOG.info("{}: {} is the primary now", self, now.state().value().primary());
                return;
            }
            if (now != null && now.state() != null && now.state().value().switchover() != null) {
                requestSeen = true;
            } else if (requestSeen && now != null && now.state() != null) {
                LOG.warn("{}: the hand-over was abandoned ({}); stopping anyway", self, now.decision().reason().summary());
                return;
            }
            if (now != null && !now.sessions().containsKey(sync)) {
                LOG.warn("{}: {} left during the hand-over; stopping anyway", self, sync);
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.warn("{}: the hand-over did not complete in time; stopping anyway", self);
    }

    /** The sync is live and streams: someone to hand over to. */
    private static boolean syncStreams(NodeView v) {
        MemberId sync = v.state().value().sync();
        MemberStatus status = sync == null ? null : v.sessions().get(sync);
        return status != null && status.pg().state() == PgState.STANDBY && status.pg().streaming();
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (drills != null) {
            drills.close();    // a partition under way is healed before the node goes
        }
        proxy.close();
        watch.close();
        renewer.shutdownNow();
        observer.shutdownNow();
        loop.shutdown();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        actions.close();
        try {
            pg.stop();
        } catch (IOException e) {
            LOG.warn("{}: stopping postgres: {}", self, e.getMessage());
        }
        try {
            store.resign().get(3, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.info("{}: the session could not be given up ({}); it expires", self, e.getMessage());
        }
        store.close();
        try {
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            LOG.debug("releasing the data directory lock: {}", e.getMessage());
        }
        LOG.info("{}: stopped", self);
    }

    /** Runs {@code task} on the loop; dropped once the node is closing (the loop no longer takes work). */
    private void onLoop(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            if (!closing) {
                throw e;
            }
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
