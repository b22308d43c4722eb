package dev.appliance.postgres;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node's postgres, in every role: it initializes a data directory, starts it as primary or standby
 * (closed to clients until told otherwise), promotes, changes the sync or the upstream by reload, opens and
 * closes client access, stops it (fast, then immediate, then kill, each bounded), keeps replication slots,
 * and reports what postgres is doing as a {@link PgObservation}. Clones and rewinds are {@link PgRebuilds}.
 *
 * <p>It decides nothing: whether to restart, promote or rebuild is the engine's call. Operations block and
 * are meant to run one at a time on the daemon's worker thread; {@link #status()} may run concurrently.
 */
public final class PostgresSupervisor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresSupervisor.class);
    public static final Duration DEFAULT_HANG_TIMEOUT = Duration.ofSeconds(4);
    /** postgres's SQLSTATE for "replication slot ... is active for PID ...". */
    private static final String OBJECT_IN_USE = "55006";
    private static final List<String> DIVERGENCE = List.of("is not in this server's history",
            "forked off current database system timeline", "is not a child of this server's history",
            "of the primary is behind recovery timeline", "database system identifier differs");
    private static final Pattern SEVERE = Pattern.compile(" (WARNING|ERROR|FATAL|PANIC): ");
    private static final Pattern SYNC_NAMES = Pattern.compile("\"([^\"]+)\"");

    /** Where a standby streams from, or a clone or rewind copies from. */
    public record Upstream(MemberId id, String host, int port) {
    }

    final PgBinaries bin;
    final PgLayout layout;
    volatile PgNodeSettings settings;    // replaced only when the members' hosts change
    final String osUser;
    final WalTools wal;
    final PgCredentials credentials;
    private final PgSql sql;
    private final Logger pgLog;
    private final Duration startTimeout;
    private final Duration hangTimeout;
    /** The observer's connections: a reading must not wait long on a postgres that answers nothing. */
    private final PgSql observerSql;
    private final PgSql probeSql;
    /** When postgres last answered a reading, with a result or a refusal (System.nanoTime). */
    private volatile long answeredNanos = System.nanoTime();

    private PostgresProcess process;
    private PgConfigFiles.RoleSettings role;
    private PgConfigFiles.ClientAccess access = PgConfigFiles.ClientAccess.CLOSED;
    /**
     * Whether the running postgres has loaded a pg_hba.conf that lets clients in. Read without the lock: the node
     * loop asks every cycle and must not wait on a long action (a promotion, a rewind).
     */
    private volatile boolean admitsClients;
    private Upstream upstream;
    /** The upstream before the last change: a WAL receiver may still be streaming from it. */
    private Upstream previousUpstream;
    private WalPosition servingSince;
    private WalPosition cleanShutdownAt;
    private WalTools.ControlData stoppedAt;
    private volatile boolean diverged;
    private volatile boolean upstreamLacksWal;
    private volatile long receivedTimeline;
    private PgStateFile state;
    private final Object observeLock = new Object();
    private Connection control;
    private Connection observer;

    public PostgresSupervisor(PgBinaries bin, PgLayout layout, PgNodeSettings settings, PgCredentials credentials,
            Duration startTimeout) throws IOException {
        this(bin, layout, settings, credentials, startTimeout, DEFAULT_HANG_TIMEOUT);
    }

    /**
     * @param hangTimeout a running postgres that has answered nothing for this long is killed when it must be
     *                    started again (a stopped or wedged process would otherwise hold its node's role forever)
     */
    public PostgresSupervisor(PgBinaries bin, PgLayout layout, PgNodeSettings settings, PgCredentials credentials,
            Duration startTimeout, Duration hangTimeout) throws IOException {
        this.bin = bin;
        this.layout = layout;
        this.settings = settings;
        this.credentials = credentials;
        this.osUser = ProcessRunner.isRoot() ? (settings.osUser() == null ? "postgres" : settings.osUser()) : null;
        this.wal = new WalTools(bin, osUser);
        this.sql = new PgSql(settings.host(), settings.port(), PgCredentials.SUPERUSER,
                credentials.superuserPassword());
        this.pgLog = LoggerFactory.getLogger("postgres." + settings.self());
        this.startTimeout = startTimeout;
        this.hangTimeout = hangTimeout;
        this.observerSql = sql.withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3));
        this.probeSql = sql.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1));
        Files.createDirectories(layout.nodeDir());
        this.state = PgStateFile.read(layout.stateFile());
        prepareDirectories();
    }

    /** The postgres user's directory, and its copy of the replication credentials for walreceiver and friends. */
    private void prepareDirectories() throws IOException {
        Files.createDirectories(layout.pgDir());
        Files.createDirectories(layout.socketDir());
        PgCredentials.writeSecretFile(layout.passfile(), "*:*:*:" + PgCredentials.REPLICATION + ":"
                + credentials.replicationPassword() + "\n");
        setPermissions(layout.pgDir(), "rwx------");
        own(layout.pgDir());
        own(layout.socketDir());
        own(layout.passfile());
    }

    /** The data directory is a standby's (it starts in recovery): a clone, a rewound node, or a standby that stopped. */
    public PgBinaries binaries() {
        return bin;
    }

    public PgLayout layout() {
        return layout;
    }

    public boolean hasStandbyData() {
        return Files.exists(layout.standbySignal());
    }

    public boolean hasData() {
        return Files.exists(layout.pgdata().resolve("PG_VERSION"));
    }

    public synchronized boolean running() {
        return process != null && process.alive();
    }

    /** The pid of the postmaster, if it runs. */
    public synchronized java.util.OptionalLong pid() {
        return running() ? java.util.OptionalLong.of(process.pid()) : java.util.OptionalLong.empty();
    }

    // ---- initialize ----

    /**
     * Creates a new data directory (initdb with data checksums, UTF-8, scram-sha-256), the appliance's roles and
     * the grants pg_rewind needs, and leaves postgres stopped. Only for a cluster that does not exist yet.
     */
    public synchronized void initialize() throws IOException {
        if (hasData()) {
            throw new IllegalStateException(layout.pgdata() + " already holds a database; it is never re-initialized");
        }
        Files.createDirectories(layout.pgdata());
        setPermissions(layout.pgdata(), "rwx------");
        own(layout.pgdata());
        Path pwfile = layout.pgDir().resolve("initdb.pw");
        PgCredentials.writeSecretFile(pwfile, credentials.superuserPassword() + "\n");
        own(pwfile);
        try {
            ProcessRunner.Result r = ProcessRunner.run(osUser, List.of(bin.tool("initdb").toString(), "-D",
                    layout.pgdata().toString(), "--data-checksums", "--encoding=UTF8", "--locale=C.UTF-8",
                    "--username=" + PgCredentials.SUPERUSER, "--pwfile=" + pwfile, "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256"), Map.of(), null, 300, line -> pgLog.debug("initdb: {}", line));
            if (!r.ok()) {
                throw new IOException("initdb failed (exit " + r.exitCode() + "): " + tail(r.output()));
            }
        } finally {
            Files.deleteIfExists(pwfile);
        }
        startProcess(new PgConfigFiles.RoleSettings.AsPrimary(Set.of(), false));
        try (Connection c = sql.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + PgCredentials.REPLICATION + " WITH LOGIN REPLICATION PASSWORD '"
                    + credentials.replicationPassword() + "'");
            for (String fn : List.of("pg_ls_dir(text, boolean, boolean)", "pg_stat_file(text, boolean)",
                    "pg_read_binary_file(text)", "pg_read_binary_file(text, bigint, bigint, boolean)")) {
                st.execute("GRANT EXECUTE ON FUNCTION pg_catalog." + fn + " TO " + PgCredentials.REPLICATION);
            }
            st.execute("GRANT pg_checkpoint TO " + PgCredentials.REPLICATION);
            st.execute("GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_checkpoint() TO " + PgCredentials.REPLICATION);
        } catch (SQLException e) {
            stop();
            throw new IOException("creating the appliance roles failed: " + e.getMessage(), e);
        }
        stop();
        state = state.withPristine(true);
        state.write(layout.stateFile());
    }

    // ---- start, promote, reconfigure ----

    /** Starts a primary data directory as primary, closed to clients. Returns once it accepts connections. */
    public synchronized void startAsPrimary(Set<MemberId> syncRequired, boolean readOnly) throws IOException {
        killIfHung();
        if (Files.exists(layout.standbySignal())) {
            throw new IllegalStateException("the data directory is a standby's: start it as a standby and promote it");
        }
        startProcess(new PgConfigFiles.RoleSettings.AsPrimary(syncRequired, readOnly));
        servingSince = currentLsn();
        clearPristine();
    }

    /** Starts as a standby streaming from {@code from} (null: receiving from nobody), closed to clients. */
    public synchronized void startAsStandby(Upstream from) throws IOException {
        killIfHung();
        if (!Files.exists(layout.standbySignal())) {
            Files.createFile(layout.standbySignal());
            own(layout.standbySignal());
        }
        startProcess(standby(from));
        upstream = from;
        previousUpstream = null;
        servingSince = null;
        clearPristine();
    }

    /** Promotes the running standby, with {@code syncRequired} in effect from its first commit. */
    public synchronized void promote(Set<MemberId> syncRequired, boolean readOnly) throws IOException {
        if (!running() || !Files.exists(layout.standbySignal())) {
            throw new IllegalStateException("only a running standby can be promoted");
        }
        writeConfig(new PgConfigFiles.RoleSettings.AsPrimary(syncRequired, readOnly), access);
        try (Statement st = control().createStatement()) {
            reloadAndWait(st);
            // pg_promote's own wait polls every 100 ms; polling here ends the promotion up to 100 ms sooner.
            try (ResultSet rs = st.executeQuery("SELECT pg_promote(false)")) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    throw new IOException("postgres refused the promotion signal");
                }
            }
            awaitOutOfRecovery(st, Duration.ofSeconds(60));
            upstream = null;
            previousUpstream = null;
            servingSince = currentLsn(control());
        } catch (SQLException e) {
            dropControl();
            throw new IOException("promotion failed: " + e.getMessage(), e);
        }
        checkpointSoon();
    }

    /**
     * A promotion reaches the control file only with the next checkpoint, and pg_rewind reads a source's timeline
     * from there: until then the deposed primary cannot be rewound from this one. So take that checkpoint now,
     * in the background, instead of minutes later.
     */
    private void checkpointSoon() {
        Thread t = new Thread(() -> {
            try (Connection c = sql.connect(); Statement st = c.createStatement()) {
                st.execute("SET statement_timeout = 0");
                st.execute("CHECKPOINT");
            } catch (SQLException e) {
                LOG.warn("the checkpoint after promoting {} failed ({}); a rewind from it checkpoints first",
                        settings.self(), e.getMessage());
            }
        }, "checkpoint-after-promotion");
        t.setDaemon(true);
        t.start();
    }

    /** Changes the primary's required syncs or read-only mode by reload; true if a setting needs a restart. */
    public synchronized boolean reconfigurePrimary(Set<MemberId> syncRequired, boolean readOnly) throws IOException {
        return reload(new PgConfigFiles.RoleSettings.AsPrimary(syncRequired, readOnly), access);
    }

    /**
     * Points the standby at another upstream (or at none) by reload, without a restart. Detaching returns once
     * the WAL receiver has stopped (bounded), so the reading that follows already shows the standby detached.
     */
    public synchronized boolean reconfigureStandby(Upstream from) throws IOException {
        boolean restart = reload(standby(from), access);
        if (from == null && running()) {
            awaitNoWalReceiver(Duration.ofSeconds(5));
        }
        if (!java.util.Objects.equals(from, upstream)) {
            previousUpstream = upstream;
            upstream = from;
        }
        diverged = false;
        upstreamLacksWal = false;
        return restart;
    }

    /**
     * The members' hosts changed (a member was added or removed): pg_hba.conf lets exactly them (and this node)
     * replicate. Returns whether the file changed.
     */
    public synchronized boolean peerHostsChanged(List<String> hosts) throws IOException {
        List<String> wanted = hosts.stream().distinct().sorted().toList();
        if (settings.peerHosts().stream().distinct().sorted().toList().equals(wanted)) {
            return false;
        }
        settings = settings.withPeerHosts(wanted);
        if (role != null) {
            reload(role, access);
        }
        return true;
    }

    /**
     * Opens or closes postgres to clients (pg_hba.conf). Closing also terminates every client backend; the
     * daemon's own sessions and replication stay.
     */
    public synchronized void setClientAccess(boolean open) throws IOException {
        PgConfigFiles.ClientAccess wanted = open ? PgConfigFiles.ClientAccess.OPEN : PgConfigFiles.ClientAccess.CLOSED;
        reload(role, wanted);
        admitsClients = open && running();
        if (!open && running()) {
            execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    + "AND pid <> pg_backend_pid() AND usename IS DISTINCT FROM '" + PgCredentials.SUPERUSER + "'");
        }
    }

    /**
     * Fences a running primary: new transactions are read-only, clients are shut out, and every client backend
     * is terminated (a session cannot keep writing by overriding the default). Replication continues, so the
     * standbys still receive everything it wrote.
     */
    public synchronized void fence() throws IOException {
        if (!(role instanceof PgConfigFiles.RoleSettings.AsPrimary p)) {
            throw new IllegalStateException("only a primary is fenced");
        }
        reload(new PgConfigFiles.RoleSettings.AsPrimary(p.syncRequired(), true), access);
        setClientAccess(false);
    }

    /** Lifts a fence: the primary accepts writes again. Whether clients may connect is {@link #setClientAccess}. */
    public synchronized void unfence() throws IOException {
        if (!(role instanceof PgConfigFiles.RoleSettings.AsPrimary p)) {
            throw new IllegalStateException("only a primary is unfenced");
        }
        reload(new PgConfigFiles.RoleSettings.AsPrimary(p.syncRequired(), false), access);
    }

    public synchronized boolean clientsAllowed() {
        return access == PgConfigFiles.ClientAccess.OPEN;
    }

    /**
     * Whether postgres now lets clients in: {@link #setClientAccess} opened it and its reload is done. Unlike
     * {@link #clientsAllowed} it never waits for a running action.
     */
    public boolean admitsClients() {
        return admitsClients;
    }

    private boolean reload(PgConfigFiles.RoleSettings newRole, PgConfigFiles.ClientAccess newAccess) throws IOException {
        boolean changed = writeConfig(newRole, newAccess);
        if (!changed || !running()) {
            return false;
        }
        try (Statement st = control().createStatement()) {
            reloadAndWait(st);
            List<String> pending = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT name FROM pg_settings WHERE pending_restart")) {
                while (rs.next()) {
                    pending.add(rs.getString(1));
                }
            }
            if (!pending.isEmpty()) {
                LOG.info("postgres settings {} take effect only after a restart", pending);
            }
            return !pending.isEmpty();
        } catch (SQLException e) {
            dropControl();
            throw new IOException("reloading the postgres configuration failed: " + e.getMessage(), e);
        }
    }

    /**
     * Signals a reload and returns once this session has re-read the configuration. The postmaster re-reads it
     * (pg_hba.conf included) before it signals its backends, so from then on new connections meet the new rules
     * and pending_restart is accurate. Bounded: after 2 s the reload is assumed to be done.
     */
    private static void reloadAndWait(Statement st) throws SQLException, IOException {
        Timestamp before = confLoadTime(st);
        st.execute("SELECT pg_reload_conf()");
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < deadline && confLoadTime(st).equals(before)) {
            sleep(2);
        }
    }

    private static void awaitOutOfRecovery(Statement st, Duration limit) throws SQLException, IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("postgres did not finish promoting within " + limit.toSeconds() + " s");
            }
            sleep(5);
        }
    }

    private static Timestamp confLoadTime(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT pg_conf_load_time()")) {
            rs.next();
            return rs.getTimestamp(1);
        }
    }

    private void awaitNoWalReceiver(Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        try (Statement st = control().createStatement()) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_wal_receiver")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                sleep(20);
            }
        } catch (SQLException e) {
            dropControl();
            throw new IOException("checking the WAL receiver failed: " + e.getMessage(), e);
        }
    }

    // ---- stop ----

    /**
     * Stops postgres: fast shutdown, then immediate, then SIGKILL, each bounded. After a clean stop of a primary
     * it records where its WAL ended (a switchover waits for the target to hold that much).
     */
    public synchronized void stop() throws IOException {
        closeObserver();
        dropControl();
        if (process == null) {
            return;
        }
        boolean wasPrimary = role instanceof PgConfigFiles.RoleSettings.AsPrimary;
        PostgresProcess.StopOutcome how = process.stop(Duration.ofSeconds(30), Duration.ofSeconds(10));
        process = null;
        servingSince = null;
        LOG.info("postgres of {} stopped ({})", settings.self(), how);
        stoppedAt = wal.controlData(layout.pgdata());
        cleanShutdownAt = null;
        if (wasPrimary && how == PostgresProcess.StopOutcome.FAST && stoppedAt.cleanlyShutDown()) {
            cleanShutdownAt = wal.endOfWal(layout.pgdata().resolve("pg_wal"), stoppedAt.timeline(), stoppedAt.checkpoint())
                    .orElse(null);
        }
    }

    /** SIGKILL, as a crash would (tests and the lifeline use it). */
    public synchronized void kill() {
        closeObserver();
        dropControl();
        if (process != null) {
            process.kill();
            process = null;
        }
        stoppedAt = null;
        cleanShutdownAt = null;
    }

    // ---- replication slots ----

    /**
     * Keeps one physical slot per member in {@code downstreams} and drops the other appliance slots, except those
     * in use: a walsender still streams from it (a standby that has not yet noticed its new upstream, or one whose
     * connection is gone but not yet timed out), and the slot goes once it is free, at a later call.
     */
    public synchronized void ensureSlots(Set<MemberId> downstreams) throws IOException {
        Set<String> wanted = new TreeSet<>();
        downstreams.forEach(m -> wanted.add(PgConfigFiles.slotName(m)));
        try (Statement st = control().createStatement()) {
            Set<String> existing = new TreeSet<>();
            try (ResultSet rs = st.executeQuery("SELECT slot_name FROM pg_replication_slots "
                    + "WHERE slot_type = 'physical' AND slot_name LIKE 'appliance\\_%'")) {
                while (rs.next()) {
                    existing.add(rs.getString(1));
                }
            }
            for (String slot : wanted) {
                if (!existing.contains(slot)) {
                    st.execute("SELECT pg_create_physical_replication_slot('" + slot + "', true)");
                }
            }
            for (String slot : existing) {
                if (!wanted.contains(slot)) {
                    dropUnlessInUse(st, slot);
                }
            }
        } catch (SQLException e) {
            dropControl();
            throw new IOException("keeping replication slots failed: " + e.getMessage(), e);
        }
    }

    /** Drops {@code slot}; one a walsender holds (it may have taken it since the list was read) is left. */
    private static void dropUnlessInUse(Statement st, String slot) throws SQLException {
        try {
            st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        } catch (SQLException e) {
            if (!OBJECT_IN_USE.equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    // ---- observation ----

    /** What postgres is doing right now, for the engine. */
    public PgObservation observe() {
        return status().observation();
    }

    /**
     * What postgres is doing right now, with its replication detail. The sync setting is read before the WAL
     * position, so every commit acknowledged under an earlier setting lies at or below the position reported.
     * A postgres that crashed reads as stopped at once: the process is watched, not polled.
     */
    public PgStatus status() {
        PgState pgState;
        PgConfigFiles.RoleSettings currentRole;
        Upstream currentUpstream;
        Upstream previous;
        WalPosition since;
        WalPosition clean;
        WalTools.ControlData stopped;
        PgStateFile persisted;
        boolean alive;
        synchronized (this) {
            alive = running();
            currentRole = role;
            currentUpstream = upstream;
            previous = previousUpstream;
            since = servingSince;
            clean = cleanShutdownAt;
            stopped = stoppedAt;
            persisted = state;
            pgState = !hasData() ? PgState.NO_DATA : alive ? null : PgState.STOPPED;
        }
        java.time.Instant at = java.time.Instant.now();
        PgObservation.Builder b = PgObservation.builder(PgState.STOPPED).rebuiltForGeneration(persisted.rebuiltForGeneration())
                .rewindFailed(persisted.rewindFailed()).pristine(persisted.pristine()).diverged(diverged)
                .upstreamLacksWal(upstreamLacksWal)
                .rebuildRequested(persisted.rebuildRequested());
        if (pgState == PgState.NO_DATA) {
            return new PgStatus(b.state(PgState.NO_DATA).build(), List.of(), at);
        }
        if (pgState == PgState.STOPPED) {
            WalTools.ControlData cd = stopped;
            if (cd == null) {
                try {
                    cd = wal.controlData(layout.pgdata());
                    synchronized (this) {
                        if (!running()) {
                            stoppedAt = cd;
                        }
                    }
                } catch (IOException e) {
                    LOG.warn("reading pg_controldata of a stopped postgres failed: {}", e.getMessage());
                }
            }
            if (cd != null) {
                b.timeline(cd.timeline()).current(cd.checkpoint()).flush(cd.checkpoint()).replay(cd.checkpoint());
            }
            return new PgStatus(b.cleanShutdownAt(clean).build(), List.of(), at);
        }
        synchronized (observeLock) {
            try {
                List<ReplicationRow> rows = new ArrayList<>();
                PgObservation o = queryRunning(b, currentUpstream, previous, since, rows);
                answeredNanos = System.nanoTime();
                return new PgStatus(o, rows, at);
            } catch (SQLException e) {
                if (PgSql.answeredByServer(e)) {
                    answeredNanos = System.nanoTime();
                }
                closeObserver();
                // Running but not accepting connections (starting, recovering, stopping): not serving.
                return new PgStatus(b.state(PgState.STOPPED).build(), List.of(), at);
            }
        }
    }

    private PgObservation queryRunning(PgObservation.Builder b, Upstream configured, Upstream previous, WalPosition since,
            List<ReplicationRow> rows) throws SQLException {
        if (observer == null || !observer.isValid(1)) {
            closeObserver();
            observer = observerSql.connect();
        }
        try (Statement st = observer.createStatement()) {
            Set<MemberId> syncRequired = new TreeSet<>();
            boolean readOnly;
            try (ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_standby_names'), "
                    + "current_setting('default_transaction_read_only')")) {
                rs.next();
                Matcher m = SYNC_NAMES.matcher(rs.getString(1));
                while (m.find()) {
                    syncRequired.add(MemberId.of(m.group(1)));
                }
                readOnly = "on".equals(rs.getString(2));
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), "
                    + "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, "
                    + "pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, "
                    + "(SELECT status FROM pg_stat_wal_receiver), (SELECT received_tli FROM pg_stat_wal_receiver), "
                    + "CASE WHEN pg_is_in_recovery() THEN GREATEST((SELECT timeline_id FROM pg_control_checkpoint()), "
                    + "(SELECT min_recovery_end_timeline FROM pg_control_recovery())) "
                    + "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END, "
                    + "(SELECT sender_host FROM pg_stat_wal_receiver), (SELECT sender_port FROM pg_stat_wal_receiver)")) {
                rs.next();
                boolean recovery = rs.getBoolean(1);
                if (recovery) {
                    WalPosition receive = lsn(rs.getString(3));
                    WalPosition replay = lsn(rs.getString(4));
                    WalPosition flush = WalPosition.max(receive, replay);
                    // The receiver names the timeline it streams; once it stopped, the last one it streamed still
                    // holds (the control file's timeline lags until the next restartpoint).
                    if (rs.getObject(6) != null) {
                        receivedTimeline = Math.max(receivedTimeline, rs.getLong(6));
                    }
                    long tli = Math.max(receivedTimeline, rs.getLong(7));
                    Upstream actual = receivingFrom(rs.getString(5), rs.getString(8), rs.getInt(9), configured, previous);
                    b.state(PgState.STANDBY).upstream(actual == null ? null : actual.id())
                            .streaming("streaming".equals(rs.getString(5)) && actual != null && actual.equals(configured)
                                    && (rs.getString(8) == null || sends(configured, rs.getString(8), rs.getInt(9))))
                            .timeline(tli).current(flush).flush(flush).replay(replay);
                } else {
                    WalPosition current = lsn(rs.getString(2));
                    b.state(PgState.PRIMARY).writable(!readOnly).timeline(rs.getLong(7)).current(current).flush(current)
                            .replay(current).servingSince(since).syncRequired(syncRequired);
                }
            }
            Map<MemberId, WalPosition> replicas = new TreeMap<>();
            try (ResultSet rs = st.executeQuery("SELECT application_name, state, flush_lsn::text, "
                    + "extract(epoch FROM flush_lag)::float8, sync_state FROM pg_stat_replication ORDER BY application_name")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    WalPosition flush = lsn(rs.getString(3));
                    double lagSeconds = rs.getDouble(4);
                    java.time.Duration lag = rs.wasNull() ? null : java.time.Duration.ofNanos((long) (lagSeconds * 1e9));
                    rows.add(new ReplicationRow(name, rs.getString(2), flush, lag, rs.getString(5)));
                    if ("streaming".equals(rs.getString(2)) && rs.getString(3) != null && MemberId.isValid(name)) {
                        replicas.put(MemberId.of(name), flush);
                    }
                }
            }
            b.replicas(replicas);
        }
        return b.build();
    }

    /**
     * Whom the standby receives from, as its WAL receiver says: a receiver still connected to the previous
     * upstream after a change reports that one (so a detached sync reads as detached only once its receiver has
     * really stopped, and its flush position can no longer grow); no receiver reports the configured upstream.
     */
    private static Upstream receivingFrom(String receiverStatus, String senderHost, int senderPort, Upstream configured,
            Upstream previous) {
        if (receiverStatus == null) {
            return configured;
        }
        if (configured == null) {
            return previous;
        }
        if (previous != null && sends(previous, senderHost, senderPort) && !sends(configured, senderHost, senderPort)) {
            return previous;
        }
        return configured;
    }

    private static boolean sends(Upstream u, String host, int port) {
        return u != null && u.host().equals(host) && u.port() == port;
    }

    // ---- internals ----

    PgConfigFiles.RoleSettings standby(Upstream from) {
        return from == null ? new PgConfigFiles.RoleSettings.AsStandby(null, 0, null)
                : new PgConfigFiles.RoleSettings.AsStandby(from.host(), from.port(), from.id());
    }

    private boolean writeConfig(PgConfigFiles.RoleSettings newRole, PgConfigFiles.ClientAccess newAccess) throws IOException {
        if (newAccess == PgConfigFiles.ClientAccess.CLOSED) {
            admitsClients = false;
        }
        boolean changed = PgConfigFiles.write(layout, settings, newRole, newAccess);
        role = newRole;
        access = newAccess;
        if (changed) {
            try (Stream<Path> files = Files.walk(layout.pgDir())) {
                for (Path p : files.toList()) {
                    own(p);
                }
            }
        }
        return changed;
    }

    private void startProcess(PgConfigFiles.RoleSettings startRole) throws IOException {
        dropControl();
        writeConfig(startRole, PgConfigFiles.ClientAccess.CLOSED);
        diverged = false;
        upstreamLacksWal = false;
        receivedTimeline = 0;
        stoppedAt = null;
        cleanShutdownAt = null;
        StaleLockFiles.remove(layout.pgdata(), layout.socketDir(), StaleLockFiles.BACKENDS_WAIT);
        process = PostgresProcess.start(osUser, List.of(bin.tool("postgres").toString(), "-D", layout.pgdata().toString(),
                "-c", "config_file=" + layout.configFile()), this::onPostgresLog);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                String tail = process.logTail();
                process = null;
                throw new IOException("postgres exited while starting:\n" + tail);
            }
            try (Connection c = sql.connect()) {
                answeredNanos = System.nanoTime();
                return;
            } catch (SQLException e) {
                last = e;
                sleep(100);
            }
        }
        String tail = process.logTail();
        process.stop(Duration.ofSeconds(10), Duration.ofSeconds(5));
        process = null;
        throw new IOException("postgres did not accept connections within " + startTimeout + " ("
                + (last == null ? "" : last.getMessage()) + "):\n" + tail);
    }

    private void onPostgresLog(String line) {
        if (SEVERE.matcher(line).find()) {
            pgLog.warn("{}", line);
        } else {
            pgLog.info("{}", line);
        }
        for (String marker : DIVERGENCE) {
            if (line.contains(marker)) {
                if (!diverged) {
                    LOG.warn("{}'s WAL is not in its upstream's history: {}", settings.self(), line);
                }
                diverged = true;
            }
        }
        // The standby's side of it; the upstream's walsender logs the same words without the first part.
        if (line.contains("could not receive data from WAL stream") && line.contains("has already been removed")) {
            if (!upstreamLacksWal) {
                LOG.warn("{}'s upstream no longer has the WAL it needs next: {}", settings.self(), line);
            }
            upstreamLacksWal = true;
        }
    }

    private WalPosition currentLsn() throws IOException {
        try (Connection c = sql.connect()) {
            return currentLsn(c);
        } catch (SQLException e) {
            throw new IOException("reading the WAL position failed: " + e.getMessage(), e);
        }
    }

    private static WalPosition currentLsn(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return WalPosition.parse(rs.getString(1));
        }
    }

    private void execute(String statement) throws IOException {
        try (Statement st = control().createStatement()) {
            st.execute(statement);
        } catch (SQLException e) {
            dropControl();
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * The daemon's session for control statements, kept open while postgres runs: a new session per statement
     * (fork, SCRAM, setup) costs tens of milliseconds, paid several times in every takeover otherwise. A session
     * that fails is dropped; the next statement opens a new one (the engine retries the failed step).
     */
    private Connection control() throws SQLException {
        if (control != null && !control.isValid(2)) {
            dropControl();    // postgres restarted or crashed since: one empty round trip tells
        }
        if (control == null) {
            control = sql.connect();
        }
        return control;
    }

    private void dropControl() {
        if (control != null) {
            try {
                control.close();
            } catch (SQLException ignored) {
                // the session is gone anyway
            }
            control = null;
        }
    }

    private void clearPristine() throws IOException {
        if (state.pristine()) {
            state = state.withPristine(false);
            state.write(layout.stateFile());
        }
    }

    synchronized void recordRebuilt(long generation) throws IOException {
        state = state.withRebuilt(generation);
        state.write(layout.stateFile());
        diverged = false;
        upstreamLacksWal = false;
        stoppedAt = null;
    }

    /** Remembers, across restarts, that an operator wants this node cloned afresh; a completed rebuild clears it. */
    public synchronized void requestRebuild() throws IOException {
        state = state.withRebuildRequested();
        state.write(layout.stateFile());
    }

    synchronized void recordRewindFailed() throws IOException {
        state = state.withRewindFailed();
        state.write(layout.stateFile());
    }

    /**
     * The data directory was rebuilt for {@code generation} (or later), has not diverged since, and no operator
     * asked for another rebuild.
     */
    public synchronized boolean rebuiltFor(long generation) {
        return hasData() && state.rebuiltForGeneration() >= generation && !state.rewindFailed() && !diverged
                && !state.rebuildRequested();
    }

    synchronized boolean rewindFailedBefore() {
        return state.rewindFailed();
    }

    synchronized void requireStopped() {
        if (running()) {
            throw new IllegalStateException("postgres of " + settings.self() + " is running; stop it first");
        }
    }

    /**
     * Before a start: a postgres that runs but has answered nothing for {@code hangTimeout} (stopped by a signal,
     * or wedged) is killed with every process of its tree, so that it restarts with crash recovery. Killing it
     * loses nothing acknowledged: a commit is acknowledged only once it is flushed here and on the sync.
     */
    private void killIfHung() throws IOException {
        if (!running()) {
            return;
        }
        long silentNanos = System.nanoTime() - answeredNanos;
        if (silentNanos < hangTimeout.toNanos()) {
            sleep((hangTimeout.toNanos() - silentNanos) / 1_000_000 + 1);
        }
        // The readings wait on this supervisor while a start holds it, so ask postgres directly, briefly.
        try (Connection c = probeSql.connect(); Statement st = c.createStatement()) {
            st.execute("SELECT 1");
            answeredNanos = System.nanoTime();
            throw new IllegalStateException("postgres of " + settings.self() + " (pid " + process.pid() + ") answers "
                    + "again; it is not restarted");
        } catch (SQLException e) {
            if (PgSql.answeredByServer(e)) {
                answeredNanos = System.nanoTime();
                throw new IllegalStateException("postgres of " + settings.self() + " (pid " + process.pid() + ") runs and "
                        + "refuses connections (" + e.getMessage() + "); it is not killed while it answers");
            }
        }
        long silentMillis = (System.nanoTime() - answeredNanos) / 1_000_000;
        LOG.warn("postgres of {} (pid {}) has answered nothing for {} ms (postgres.hang.timeout {} ms): killing it and "
                + "its processes; it restarts with crash recovery", settings.self(), process.pid(), silentMillis,
                hangTimeout.toMillis());
        dropControl();
        if (!process.killTree(Duration.ofSeconds(10))) {
            throw new IOException("postgres of " + settings.self() + " (pid " + process.pid() + ") did not exit 10 s after "
                    + "SIGKILL (a process stuck in the kernel, e.g. on I/O); a primary's place goes to its sync after "
                    + "postgres.restart.timeout");
        }
        process = null;
    }

    private static WalPosition lsn(String text) {
        return text == null ? WalPosition.ZERO : WalPosition.parse(text);
    }

    /** Gives {@code path} to the postgres user when the daemon runs as root. */
    void own(Path path) throws IOException {
        if (osUser == null || !Files.exists(path)) {
            return;
        }
        UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
        Files.setOwner(path, lookup.lookupPrincipalByName(osUser));
        Files.getFileAttributeView(path, java.nio.file.attribute.PosixFileAttributeView.class)
                .setGroup(lookup.lookupPrincipalByGroupName(osUser));
    }

    static void setPermissions(Path path, String perms) throws IOException {
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(perms));
    }

    private void closeObserver() {
        synchronized (observeLock) {
            if (observer != null) {
                try {
                    observer.close();
                } catch (SQLException ignored) {
                    // the connection is gone anyway
                }
                observer = null;
            }
        }
    }

    static String tail(String output) {
        String[] lines = output.trim().split("\n");
        return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 15), lines.length));
    }

    /**
     * Waits between polls. An interrupt (the daemon is stopping) ends the wait with an exception: a poll loop
     * that swallowed it would spin to its deadline while holding this supervisor, and a stop would wait for it.
     */
    static void sleep(long ms) throws java.io.InterruptedIOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted: the daemon is stopping");
        }
    }

    /** Stops postgres (if it runs) and releases the daemon's connections. */
    @Override
    public void close() throws IOException {
        stop();
    }
}
