package dev.appliance.sim;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.Decision;
import dev.appliance.peer.EngineInput;
import dev.appliance.peer.EngineMemory;
import dev.appliance.peer.EngineSettings;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PostgresPlan;
import dev.appliance.peer.PostgresStep;
import dev.appliance.peer.PostgresTarget;
import dev.appliance.peer.ReasonCode;
import dev.appliance.peer.ViewHealth;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The model of one node's daemon: the node loop (renew the session every heartbeat, decide on every watch
 * event and timer with the real engine, send proposals one at a time) and the supervisor that drives
 * postgres towards the engine's target one action at a time, each taking virtual time. The engine's
 * memory lives here, and is lost when the daemon is killed.
 */
final class SimNode {
    static final long INITDB_MS = 300;
    static final long START_MS = 300;
    static final long PROMOTE_MS = 100;
    static final long RELOAD_MS = 10;
    static final long STOP_MS = 100;
    static final long REWIND_MS = 500;
    static final long CLONE_MS = 2000;

    final MemberId id;
    final SimPostgres pg;
    private final World w;
    private final long phaseMs;
    EngineSettings settings;

    private boolean daemonUp;
    private boolean paused;
    private long epoch;
    private EngineMemory memory = EngineMemory.EMPTY;
    private long confirmedAt = -1;
    private boolean casInFlight;
    private boolean resigned;
    private Versioned<ClusterState> viewState;
    private Map<MemberId, MemberStatus> viewSessions = Map.of();
    private Decision last;
    private long decideAt = Long.MAX_VALUE;
    private Long knowsDeposedSince;

    private PostgresTarget target;
    private boolean fenced;
    private boolean busy;
    private long actionToken;

    SimNode(World w, MemberId id, EngineSettings settings, long phaseMs) {
        this.w = w;
        this.id = id;
        this.pg = new SimPostgres(id);
        this.settings = settings;
        this.phaseMs = phaseMs;
    }

    boolean daemonUp() {
        return daemonUp;
    }

    Decision lastDecision() {
        return last;
    }

    Versioned<ClusterState> view() {
        return viewState;
    }

    Long knowsDeposedSince() {
        return knowsDeposedSince;
    }

    void startDaemon() {
        if (daemonUp) {
            paused = false;
            return;
        }
        daemonUp = true;
        paused = false;
        epoch++;
        memory = EngineMemory.EMPTY;
        confirmedAt = -1;
        casInFlight = false;
        resigned = false;
        last = null;
        decideAt = Long.MAX_VALUE;
        target = null;
        busy = false;
        knowsDeposedSince = null;
        long e = epoch;
        w.after(phaseMs, () -> heartbeat(e));
        w.trace(id, "daemon started");
    }

    void killDaemon() {
        if (!daemonUp) {
            return;
        }
        daemonUp = false;
        knowsDeposedSince = null;
        epoch++;
        actionToken++;
        busy = false;
        w.trace(id, "daemon killed");
    }

    void pause(long ms) {
        if (!daemonUp || paused) {
            return;
        }
        paused = true;
        long e = epoch;
        w.trace(id, "daemon paused for " + ms + " ms");
        w.after(ms, () -> {
            if (epoch == e && paused) {
                paused = false;
                w.trace(id, "daemon resumed");
                decide();
            }
        });
    }

    private boolean active(long e) {
        return daemonUp && epoch == e;
    }

    private void heartbeat(long e) {
        if (!active(e)) {
            return;
        }
        if (!paused) {
            renew();
            decide();
        }
        w.after(settings.heartbeat().toMillis(), () -> heartbeat(e));
    }

    private void renew() {
        if (resigned) {
            return;
        }
        long sentAt = w.now();
        long e = epoch;
        boolean routable = last != null && last.routable();
        long applied = viewState == null ? 0 : viewState.value().generation();
        w.store.renew(id, new MemberStatus(observe(), applied, routable, fenced), sentAt, () -> {
            if (active(e)) {
                confirmedAt = Math.max(confirmedAt, sentAt);
            }
        });
    }

    void requestDecide(long delayMs) {
        if (!daemonUp) {
            return;
        }
        long at = w.now() + delayMs;
        if (at >= decideAt) {
            return;
        }
        decideAt = at;
        long e = epoch;
        w.after(delayMs, () -> {
            if (decideAt == at) {
                decideAt = Long.MAX_VALUE;
            }
            if (active(e)) {
                decide();
            }
        });
    }

    private void decide() {
        if (!daemonUp || paused) {
            return;
        }
        if (w.net.raftReachable(id)) {
            viewState = w.store.state();
            viewSessions = w.store.liveSessions();
        }
        ViewHealth view = new ViewHealth(confirmedAt < 0 ? null : w.instant(confirmedAt),
                w.net.majorityReachableAsSeenBy(id, w.now()), true);
        EngineInput input = new EngineInput(id, settings, viewState, viewSessions, observe(), view, memory,
                w.instant(w.now()));
        Decision d = w.engine.decide(input);
        w.countDecision();
        memory = d.memory();
        if (last == null || last.reason().code() != d.reason().code() || d.proposal().isPresent()) {
            w.trace(id, d.reason().summary() + " -> " + d.postgres());
        }
        last = d;
        trackDeposed();
        long e = epoch;
        if (d.proposal().isPresent() && !casInFlight) {
            casInFlight = true;
            w.store.compareAndSet(id, d.proposal().get(), ok -> {
                if (active(e)) {
                    casInFlight = false;
                    requestDecide(1);
                }
            });
        }
        if (d.resign() && !resigned) {
            resigned = true;
            w.store.resign(id);
        } else if (!d.resign() && resigned) {
            resigned = false;
        }
        fenced = d.fenced();
        if (fenced && pg.mode == SimPostgres.Mode.PRIMARY && pg.writable) {
            pg.writable = false;
            w.clients.failAll(id);
            w.count("fenced primary");
            w.trace(id, "fenced: read-only, client backends terminated");
        }
        target = d.postgres();
        drive();
        requestDecide(Math.max(1, d.recheckIn().toMillis()));
    }

    private void trackDeposed() {
        boolean deposed = viewState != null && viewState.value().roleOf(id) == Role.DEPOSED
                && last.reason().code() != ReasonCode.VIEW_STALE;
        if (!deposed) {
            knowsDeposedSince = null;
        } else if (knowsDeposedSince == null) {
            knowsDeposedSince = w.now();
        }
    }

    PgObservation observe() {
        Map<MemberId, WalPosition> replicas = new TreeMap<>();
        for (SimNode other : w.nodes()) {
            SimPostgres o = other.pg;
            if (other != this && o.mode == SimPostgres.Mode.STANDBY && id.equals(o.upstream) && o.streaming
                    && w.net.pgLink(id, other.id)) {
                replicas.put(other.id, o.wal.position());
            }
        }
        WalPosition flush = pg.wal == null ? null : pg.wal.position();
        return PgObservation.builder(pg.state())
                .writable(pg.mode == SimPostgres.Mode.PRIMARY && pg.writable)
                .upstream(pg.mode == SimPostgres.Mode.STANDBY ? pg.upstream : null)
                .streaming(pg.streaming)
                .timeline(pg.timeline())
                .current(flush)
                .flush(flush)
                .replay(pg.replayed == null ? null : pg.replayed.position())
                .servingSince(pg.servingSince == null ? null : pg.servingSince.position())
                .syncRequired(pg.mode == SimPostgres.Mode.PRIMARY ? pg.syncRequired : Set.of())
                .replicas(pg.mode == SimPostgres.Mode.STOPPED ? Map.of() : replicas)
                .diverged(pg.diverged)
                .rewindFailed(pg.rewindFailed)
                .rebuiltForGeneration(pg.rebuiltForGeneration)
                .cleanShutdownAt(pg.cleanShutdownAt == null ? null : pg.cleanShutdownAt.position())
                .pristine(pg.pristine)
                .build();
    }

    // ---- the supervisor: one postgres action at a time ----

    private void drive() {
        if (busy || target == null || !daemonUp) {
            return;
        }
        PostgresPlan.next(target, observe(), fenced).ifPresent(this::run);
    }

    private void run(PostgresStep step) {
        if (step instanceof PostgresStep.Initialize) {
            act("initdb", INITDB_MS, () -> pg.initdb(WalRecord.init(w.nextRecordId(), id.value())));
        } else if (step instanceof PostgresStep.StartPrimary p) {
            long generation = viewState == null ? 0 : viewState.value().generation();
            if (pg.lastRunningMode == SimPostgres.Mode.STANDBY) {
                act("start for promotion", START_MS, true, () -> startStandby(null));
            } else {
                act("start as primary", START_MS, true, () -> {
                    if (pg.broken) {
                        w.trace(id, "postgres failed to start");
                        return;
                    }
                    pg.syncRequired = p.syncRequired();
                    pg.writable = p.writable();
                    pg.startPrimary(generation);
                    w.invariants.onPgStart(this);
                    w.invariants.onBecamePrimary(this, generation);
                });
            }
        } else if (step instanceof PostgresStep.Promote p) {
            long generation = viewState == null ? 0 : viewState.value().generation();
            act("promote", PROMOTE_MS, true, () -> {
                pg.syncRequired = p.syncRequired();
                pg.writable = p.writable();
                WalRecord promotion = pg.wal.append(w.nextRecordId(), WalRecord.Kind.PROMOTE, pg.wal.timeline + 1,
                        id.value());
                pg.promote(promotion, generation);
                w.invariants.onBecamePrimary(this, generation);
            });
        } else if (step instanceof PostgresStep.ReconfigurePrimary p) {
            act("reload " + p, RELOAD_MS, () -> {
                pg.syncRequired = p.syncRequired();
                pg.writable = p.writable() && !fenced;
            });
        } else if (step instanceof PostgresStep.StartStandby s) {
            act("start as standby of " + s.upstream(), START_MS, true, () -> startStandby(s.upstream()));
        } else if (step instanceof PostgresStep.Follow f && f.upstream() == null) {
            act("detach from " + pg.upstream, RELOAD_MS, () -> {
                pg.upstream = null;
                pg.streaming = false;
            });
        } else if (step instanceof PostgresStep.Follow f) {
            act("re-point to " + f.upstream(), RELOAD_MS, () -> {
                pg.upstream = f.upstream();
                pg.streaming = false;
                pg.diverged = false;
            });
        } else if (step instanceof PostgresStep.Stop stop) {
            act(stop.clean() ? "clean stop" : "fast stop", STOP_MS, stop.clean() ? this::stopClean : this::stopFast);
        } else if (step instanceof PostgresStep.Rewind r) {
            act("rewind from " + r.source(), REWIND_MS, () -> rewind(r.source(), r.generation()));
        } else if (step instanceof PostgresStep.Clone c) {
            act("clone from " + c.source(), CLONE_MS, () -> clone(c.source(), c.generation()));
        }
    }

    private void act(String what, long ms, Runnable effect) {
        act(what, ms, false, effect);
    }

    /**
     * Runs one postgres action. An action that opens postgres to clients (a start or a promotion) takes
     * effect only if the engine still wants it when it completes: the real supervisor starts postgres closed
     * to clients (pg_hba admits only the daemon and replication) and opens it after re-checking the latest
     * decision, so a start begun before the node was deposed never serves.
     */
    private void act(String what, long ms, boolean opensService, Runnable effect) {
        busy = true;
        long token = ++actionToken;
        PostgresTarget wanted = target;
        w.trace(id, "postgres: " + what);
        w.after(ms, () -> {
            if (token != actionToken || !daemonUp) {
                return;
            }
            busy = false;
            if (opensService && !wanted.equals(target)) {
                w.trace(id, "postgres: " + what + " abandoned, the target changed to " + target);
                requestDecide(1);
                return;
            }
            try {
                effect.run();
            } catch (IllegalStateException e) {
                w.modelError(id + ": " + e.getMessage());
            }
            requestDecide(1);
        });
    }

    private void startStandby(MemberId upstream) {
        if (pg.broken) {
            w.trace(id, "postgres failed to start");
            return;
        }
        pg.startStandby(upstream);
        w.invariants.onPgStart(this);
    }

    private void stopClean() {
        WalRecord shutdown = null;
        if (pg.mode == SimPostgres.Mode.PRIMARY) {
            shutdown = pg.wal.append(w.nextRecordId(), WalRecord.Kind.SHUTDOWN, pg.wal.timeline, id.value());
            w.sendFinalWal(this, shutdown);
        }
        w.clients.failAll(id);
        pg.stop(shutdown);
    }

    private void stopFast() {
        w.clients.failAll(id);
        pg.stop(null);
    }

    private void rewind(MemberId sourceId, long generation) {
        SimPostgres source = w.node(sourceId).pg;
        if (!source.running() || !w.net.pgLink(id, sourceId)) {
            w.trace(id, "rewind failed: source " + sourceId + " unreachable");
            return;
        }
        WalRecord fork = WalRecord.commonAncestor(pg.wal, source.wal);
        if (pg.failNextRewind || fork == null) {
            pg.failNextRewind = false;
            pg.rewindFailed = true;
            w.trace(id, "rewind failed: " + (fork == null ? "no common history" : "injected failure"));
            return;
        }
        w.recordForensics(this, fork, pg.wal);
        w.count("rewind");
        pg.wal = fork;
        pg.replayed = fork;
        pg.diverged = false;
        pg.rewindFailed = false;
        pg.rebuiltForGeneration = generation;
        pg.lastRunningMode = SimPostgres.Mode.STANDBY;
    }

    private void clone(MemberId sourceId, long generation) {
        SimPostgres source = w.node(sourceId).pg;
        if (!source.running() || !w.net.pgLink(id, sourceId)) {
            w.trace(id, "clone failed: source " + sourceId + " unreachable; the old data directory is kept");
            return;
        }
        if (pg.wal != null && !pg.wal.isAncestorOf(source.wal)) {
            w.recordForensics(this, WalRecord.commonAncestor(pg.wal, source.wal), pg.wal);
        }
        w.count("clone");
        pg.wal = source.wal;
        pg.replayed = source.wal;
        pg.diverged = false;
        pg.rewindFailed = false;
        pg.pristine = false;
        pg.rebuiltForGeneration = generation;
        pg.lastRunningMode = SimPostgres.Mode.STANDBY;
    }

    /** postgres died under the daemon (kill of the node, or of postgres alone). */
    void crashPostgres() {
        if (pg.running()) {
            w.clients.failAll(id);
            pg.crash();
            w.trace(id, "postgres crashed");
        }
        if (busy) {
            actionToken++;
            busy = false;
        }
        requestDecide(settings.heartbeat().toMillis());
    }
}
