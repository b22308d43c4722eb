package dev.appliance.sim;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.peer.DecisionFunction;
import dev.appliance.peer.EngineSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * The simulated world: a virtual clock and one queue of events, the store, the network, every node's
 * daemon and postgres, the clients and the invariant checks. Everything happens on one thread in a fixed
 * order, so a scenario always runs the same way.
 */
final class World {
    static final Instant EPOCH = Instant.parse("2030-01-01T00:00:00Z");
    static final long REPLICATION_TICK_MS = 20;
    static final long CLIENT_EVERY_TICKS = 2;
    static final long INVARIANT_CHECK_MS = 100;

    private record Event(long at, long seq, Runnable action) {
    }

    private final PriorityQueue<Event> queue = new PriorityQueue<>((a, b) ->
            a.at != b.at ? Long.compare(a.at, b.at) : Long.compare(a.seq, b.seq));
    private long seq;
    private long now;
    private long recordIds;
    private long steps;
    private long decisions;
    private long ticks;
    private final Map<MemberId, SimNode> nodes = new TreeMap<>();
    private final List<String> trace;
    private final List<String> forensics = new ArrayList<>();
    private final Map<String, Long> events = new TreeMap<>();
    private String modelError;

    final DecisionFunction engine;
    final Network net = new Network();
    final SimStore store;
    final Clients clients = new Clients(this);
    final Invariants invariants = new Invariants(this);

    World(DecisionFunction engine, EngineSettings settings, List<Long> phasesMs, boolean traced) {
        this.engine = engine;
        this.store = new SimStore(this, settings.ttl().toMillis());
        this.trace = traced ? new ArrayList<>() : null;
        for (int i = 0; i < phasesMs.size(); i++) {
            MemberId id = MemberId.of("n" + (i + 1));
            nodes.put(id, new SimNode(this, id, settings, phasesMs.get(i)));
        }
    }

    void start() {
        store.startExpiryChecks();
        after(REPLICATION_TICK_MS, this::replicationTick);
        after(INVARIANT_CHECK_MS, this::invariantTick);
        nodes.values().forEach(SimNode::startDaemon);
    }

    long now() {
        return now;
    }

    Instant instant(long ms) {
        return EPOCH.plusMillis(ms);
    }

    long nextRecordId() {
        return ++recordIds;
    }

    long steps() {
        return steps;
    }

    long decisions() {
        return decisions;
    }

    void countDecision() {
        decisions++;
    }

    Collection<SimNode> nodes() {
        return nodes.values();
    }

    SimNode node(MemberId id) {
        return nodes.get(id);
    }

    List<String> trace() {
        return trace == null ? List.of() : trace;
    }

    List<String> forensics() {
        return forensics;
    }

    String modelError() {
        return modelError;
    }

    /** Counts something that happened, by kind: how a run exercised the protocol. */
    void count(String kind) {
        events.merge(kind, 1L, Long::sum);
    }

    Map<String, Long> events() {
        return events;
    }

    void after(long delayMs, Runnable action) {
        queue.add(new Event(now + delayMs, seq++, action));
    }

    /** Runs events up to {@code untilMs}, stopping early at the first violation. */
    void runUntil(long untilMs) {
        while (!queue.isEmpty() && queue.peek().at <= untilMs && !invariants.failed() && modelError == null) {
            Event e = queue.poll();
            now = e.at;
            steps++;
            e.action.run();
        }
        if (!invariants.failed() && modelError == null) {
            now = Math.max(now, untilMs);
        }
    }

    void trace(MemberId node, String line) {
        if (trace != null) {
            trace.add(String.format("%8.3fs %-4s %s", now / 1000.0, node == null ? "" : node.value(), line));
        }
    }

    void modelError(String message) {
        if (modelError == null) {
            modelError = message;
            trace(null, "MODEL ERROR " + message);
        }
    }

    void notifyWatchers() {
        for (SimNode n : nodes.values()) {
            if (n.daemonUp() && net.raftReachable(n.id)) {
                n.requestDecide(2);
            }
        }
    }

    void recordForensics(SimNode node, WalRecord fork, WalRecord discardedTip) {
        if (fork != null && discardedTip != null && discardedTip.depth > fork.depth) {
            forensics.add(node.id + " archived " + (discardedTip.depth - fork.depth) + " records after " + fork);
            trace(node.id, "forensics: archived " + (discardedTip.depth - fork.depth) + " records past " + fork);
        }
    }

    /** A clean shutdown of a primary waits until its streaming standbys flushed the shutdown checkpoint. */
    void sendFinalWal(SimNode primary, WalRecord shutdown) {
        for (SimNode n : nodes.values()) {
            SimPostgres s = n.pg;
            if (n != primary && s.mode == SimPostgres.Mode.STANDBY && primary.id.equals(s.upstream) && s.streaming
                    && net.pgLink(primary.id, n.id) && !s.replicationStalled && s.wal.isAncestorOf(shutdown)) {
                s.wal = shutdown;
                if (!s.replayStalled) {
                    s.replayed = shutdown;
                }
            }
        }
    }

    private void replicationTick() {
        ticks++;
        for (SimNode n : nodes.values()) {
            stream(n);
        }
        for (SimNode n : nodes.values()) {
            if (n.pg.mode == SimPostgres.Mode.PRIMARY) {
                clients.processAcks(n);
            }
        }
        if (ticks % CLIENT_EVERY_TICKS == 0) {
            clients.tick();
        }
        after(REPLICATION_TICK_MS, this::replicationTick);
    }

    private void stream(SimNode n) {
        SimPostgres s = n.pg;
        if (s.mode != SimPostgres.Mode.STANDBY) {
            return;
        }
        SimNode up = s.upstream == null ? null : nodes.get(s.upstream);
        if (up == null || !up.pg.running() || !net.pgLink(n.id, up.id)) {
            s.streaming = false;
        } else {
            WalRecord upTip = up.pg.wal;
            if (s.wal.isAncestorOf(upTip)) {
                if (!s.replicationStalled) {
                    s.wal = s.replicationSlow ? upTip.ancestorAt(Math.min(s.wal.depth + 1, upTip.depth)) : upTip;
                }
                s.streaming = true;
                s.diverged = false;
            } else if (upTip.isAncestorOf(s.wal)) {
                s.streaming = false;
            } else {
                if (!s.diverged) {
                    trace(n.id, "diverged: " + s.wal + " is not in " + up.id + "'s history (" + upTip + ")");
                }
                s.diverged = true;
                s.streaming = false;
            }
        }
        if (!s.replayStalled) {
            s.replayed = s.wal;
        }
    }

    private void invariantTick() {
        invariants.periodic();
        after(INVARIANT_CHECK_MS, this::invariantTick);
    }
}
