package dev.appliance.sim;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.peer.DecisionFunction;
import dev.appliance.peer.Engine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs one scenario against a decision function: the faults at their times, then the ending, which heals
 * every fault (and, in one ending, kills the primary for good) and checks liveness: once a majority with a
 * caught-up sync is up and stable long enough, a primary serves again and acknowledges commits.
 */
public final class Simulation {
    /** How long the cluster gets after the last fault to form, heal and serve. */
    static final long QUIET_AFTER_LAST_OP_MS = 1000;
    static final long SETTLE_MS = 30_000;

    private Simulation() {
    }

    public static Outcome run(Scenario scenario) {
        return run(scenario, new Engine(), false);
    }

    public static Outcome run(Scenario scenario, DecisionFunction engine, boolean traced) {
        World w = new World(engine, scenario.settings(), scenario.phasesMs(), traced);
        List<Violation> violations = new ArrayList<>();
        w.start();
        for (Scenario.TimedOp op : scenario.ops()) {
            w.runUntil(op.atMs());
            if (stopped(w)) {
                break;
            }
            w.trace(null, "OP " + op.op().text());
            op.op().apply(w);
        }
        if (!stopped(w)) {
            long end = scenario.lastOpAtMs() + QUIET_AFTER_LAST_OP_MS;
            w.runUntil(end);
            if (!stopped(w)) {
                endAndCheckLiveness(w, scenario, end, violations);
            }
        }
        violations.addAll(0, w.invariants.violations());
        if (w.modelError() != null) {
            violations.add(0, new Violation(w.now(), "model", w.modelError()));
        }
        Versioned<ClusterState> st = w.store.state();
        return new Outcome(scenario, List.copyOf(violations), w.steps(), w.decisions(),
                w.clients.acknowledged().size(), st == null ? 0 : st.value().generation(), List.copyOf(w.trace()),
                List.copyOf(w.forensics()), st == null ? null : st.value(), Map.copyOf(w.events()));
    }

    private static boolean stopped(World w) {
        return w.invariants.failed() || w.modelError() != null;
    }

    private static void endAndCheckLiveness(World w, Scenario scenario, long end, List<Violation> violations) {
        Versioned<ClusterState> before = w.store.state();
        MemberId victim = null;
        boolean takeoverExpected = false;
        if (scenario.ending() == Scenario.Ending.HEAL_ALL_BUT_PRIMARY && before != null) {
            victim = before.value().primary();
            w.trace(null, "ENDING: heal everything, kill primary " + victim + " for good");
            new Op.KillNode(victim.value()).apply(w);
        } else {
            w.trace(null, "ENDING: heal everything");
        }
        w.net.healAll();
        for (SimNode n : w.nodes()) {
            if (n.id.equals(victim)) {
                continue;
            }
            n.pg.broken = false;
            n.pg.failNextRewind = false;
            new Op.ResumeReplication(n.id.value()).apply(w);
            n.startDaemon();
        }
        new Op.Unfreeze().apply(w);
        long healedAt = w.now();
        if (victim != null) {
            // Let writes the victim sent before it died land, then judge from the state they leave.
            w.runUntil(healedAt + SimStore.WRITE_LATENCY_MS * 5);
            takeoverExpected = takeoverPossible(w, w.store.state().value());
            w.trace(null, "takeover " + (takeoverExpected ? "expected" : "not possible"));
        }
        w.runUntil(end + SETTLE_MS);
        if (stopped(w)) {
            return;
        }
        if (victim == null) {
            checkServing(w, healedAt, null, violations);
            checkConverged(w, violations);
        } else if (takeoverExpected) {
            checkServing(w, healedAt, victim, violations);
        }
    }

    /**
     * Whether the rules promise a takeover: the sync of the last state is on the dead primary's line (its WAL
     * a prefix of the primary's, or the primary's a prefix of its own) and holds the primary's history up to
     * initWal, and another member can stream from the sync (or two-node failover is on).
     */
    private static boolean takeoverPossible(World w, ClusterState st) {
        if (st.singleton() || st.sync() == null) {
            return false;
        }
        SimPostgres primary = w.node(st.primary()).pg;
        SimPostgres sync = w.node(st.sync()).pg;
        if (primary.wal == null || sync.wal == null) {
            return false;
        }
        boolean sameLine = sync.wal.isAncestorOf(primary.wal) || primary.wal.isAncestorOf(sync.wal);
        int initDepth = (int) (st.initWal().value() / WalRecord.BYTES_PER_RECORD) - 1;
        WalRecord atInit = primary.wal.ancestorAt(initDepth);
        if (!sameLine || atInit == null || !atInit.isAncestorOf(sync.wal)) {
            return false;
        }
        if (w.node(st.sync()).settings.allowTwoNodeFailover()) {
            return true;
        }
        for (SimNode n : w.nodes()) {
            Role role = st.roleOf(n.id);
            if ((role == Role.ASYNC || role == Role.UNASSIGNED) && n.pg.wal != null && n.pg.wal.isAncestorOf(sync.wal)) {
                return true;
            }
        }
        return false;
    }

    private static void checkServing(World w, long healedAt, MemberId victim, List<Violation> violations) {
        Versioned<ClusterState> st = w.store.state();
        String after = (SETTLE_MS / 1000) + " s after every fault was healed" + (victim == null ? "" : " but " + victim);
        if (st == null) {
            violations.add(new Violation(w.now(), "liveness", "no cluster state " + after));
            return;
        }
        MemberId primary = st.value().primary();
        SimNode p = w.node(primary);
        boolean acknowledging = w.clients.acknowledged().stream()
                .anyMatch(c -> c.node().equals(primary) && c.at() >= healedAt);
        boolean routable = p.lastDecision() != null && p.lastDecision().routable();
        if (primary.equals(victim) || p.pg.mode != SimPostgres.Mode.PRIMARY || !p.pg.writable || !acknowledging
                || !routable) {
            violations.add(new Violation(w.now(), "liveness", "no primary serves " + after + ": state "
                    + SimStore.describe(st.value()) + ", " + primary + "'s postgres is " + p.pg.mode
                    + (p.pg.writable ? " writable" : " read-only") + ", routable " + routable
                    + ", acknowledged since the heal " + acknowledging + ", last reason: "
                    + (p.lastDecision() == null ? "none" : p.lastDecision().reason().summary())));
        }
    }

    private static void checkConverged(World w, List<Violation> violations) {
        Versioned<ClusterState> st = w.store.state();
        if (st == null) {
            return;
        }
        for (SimNode n : w.nodes()) {
            Role role = st.value().roleOf(n.id);
            boolean placed = st.value().singleton() || role == Role.PRIMARY || role == Role.SYNC || role == Role.ASYNC;
            boolean following = role == Role.PRIMARY || (n.pg.mode == SimPostgres.Mode.STANDBY && n.pg.streaming);
            if (!placed || !following) {
                violations.add(new Violation(w.now(), "liveness", n.id + " did not rejoin "
                        + (SETTLE_MS / 1000) + " s after every fault was healed: role " + role.label() + ", postgres "
                        + n.pg.mode + (n.pg.streaming ? " streaming" : " not streaming")
                        + (n.pg.diverged ? " diverged" : "") + ", last reason: "
                        + (n.lastDecision() == null ? "none" : n.lastDecision().reason().summary())));
                return;
            }
        }
    }
}
