package dev.appliance.sim;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.DeposedMember;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Role;
import dev.appliance.consensus.state.Versioned;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safety properties, checked as the simulation runs, against ground truth (the simulated WAL of every
 * node), not against what the daemons believe:
 * <ul>
 *   <li>generations never decrease and grow by one at a time;</li>
 *   <li>at most one node serves as writable primary per generation;</li>
 *   <li>every acknowledged commit is in the WAL of every primary of a later generation;</li>
 *   <li>a node becomes primary of g+1 only as the sync of g with replay ≥ initWal(g), or as a switchover
 *       target that holds all of the stopped primary's WAL;</li>
 *   <li>a deposed node never serves before a rewind or re-clone done at or after its deposing generation.</li>
 * </ul>
 */
final class Invariants {
    /** How long a daemon that knows it is deposed may take to stop its postgres. */
    static final long DEPOSED_STOP_GRACE_MS = 2000;
    /** A watch delivers an applied change within this bound; a daemon's view may lag the store that much. */
    static final long WATCH_DELIVERY_MS = 50;

    private final World w;
    private final List<Violation> violations = new ArrayList<>();
    private final Map<Long, MemberId> primaryOfGeneration = new TreeMap<>();
    private final Map<MemberId, Long> deposedAt = new TreeMap<>();

    Invariants(World w) {
        this.w = w;
    }

    List<Violation> violations() {
        return violations;
    }

    boolean failed() {
        return !violations.isEmpty();
    }

    private void violation(String invariant, String message) {
        Violation v = new Violation(w.now(), invariant, message);
        violations.add(v);
        w.trace(null, "VIOLATION " + v);
    }

    void onStateApplied(Versioned<ClusterState> beforeVersioned, Versioned<ClusterState> afterVersioned, String writer) {
        ClusterState after = afterVersioned.value();
        deposedAt.keySet().removeIf(m -> !after.isDeposed(m));
        after.deposed().forEach(d -> deposedAt.putIfAbsent(d.id(), w.now()));
        if (beforeVersioned == null) {
            if (after.generation() != 1) {
                violation("generation-order", "the first state has generation " + after.generation());
            }
            return;
        }
        ClusterState before = beforeVersioned.value();
        if (after.generation() < before.generation()) {
            violation("generation-order", "generation went from " + before.generation() + " to " + after.generation());
        } else if (after.generation() > before.generation() + 1) {
            violation("generation-order", "generation skipped from " + before.generation() + " to " + after.generation());
        }
        if (!after.primary().equals(before.primary())) {
            checkNewPrimary(before, after, writer);
        } else if (after.generation() != before.generation() && !writer.equals(after.primary().value())) {
            violation("legitimate-primary", "generation " + after.generation() + " keeps primary " + after.primary()
                    + " but was written by " + writer);
        }
    }

    private void checkNewPrimary(ClusterState before, ClusterState after, String writer) {
        MemberId newPrimary = after.primary();
        SimPostgres candidate = w.node(newPrimary).pg;
        if (after.generation() != before.generation() + 1) {
            violation("legitimate-primary", newPrimary + " became primary without a new generation");
            return;
        }
        if (newPrimary.equals(before.sync()) && writer.equals(newPrimary.value())) {
            if (candidate.replayed == null || candidate.replayed.position().isBefore(before.initWal())) {
                violation("legitimate-primary", "sync " + newPrimary + " took over generation " + before.generation()
                        + " having replayed " + (candidate.replayed == null ? "nothing" : candidate.replayed.position())
                        + " < initWal " + before.initWal());
            }
            return;
        }
        if (before.switchover() != null && writer.equals(before.primary().value())) {
            SimPostgres old = w.node(before.primary()).pg;
            if (old.running() || candidate.wal == null || !old.wal.isAncestorOf(candidate.wal)) {
                violation("legitimate-primary", "switchover to " + newPrimary + " while the old primary "
                        + before.primary() + " is " + old.mode + " at " + old.wal + " and the target holds " + candidate.wal);
            }
            return;
        }
        violation("legitimate-primary", newPrimary + " became primary of generation " + after.generation() + " as "
                + before.roleOf(newPrimary).label() + " of generation " + before.generation() + ", written by " + writer);
    }

    void onBecamePrimary(SimNode node, long generation) {
        MemberId earlier = primaryOfGeneration.putIfAbsent(generation, node.id);
        if (earlier != null && !earlier.equals(node.id)) {
            violation("one-primary-per-generation", node.id + " and " + earlier + " both served as primary of generation "
                    + generation);
        }
        for (Clients.Commit c : w.clients.acknowledged()) {
            if (c.generation() <= generation && !c.record().isAncestorOf(node.pg.wal)) {
                violation("acknowledged-commits-survive", "commit " + c.record() + " acknowledged by " + c.node()
                        + " in generation " + c.generation() + " is missing on " + node.id
                        + ", which now serves as primary of generation " + generation);
                return;
            }
        }
    }

    void onAck(Clients.Commit c) {
        for (SimNode q : w.nodes()) {
            SimPostgres pg = q.pg;
            if (pg.mode == SimPostgres.Mode.PRIMARY && pg.servingGeneration > c.generation()
                    && !c.record().isAncestorOf(pg.wal)) {
                violation("acknowledged-commits-survive", "commit " + c.record() + " was acknowledged by " + c.node()
                        + " (generation " + c.generation() + ") after " + q.id + " began serving generation "
                        + pg.servingGeneration + " without it");
                return;
            }
        }
    }

    void onPgStart(SimNode node) {
        Versioned<ClusterState> st = w.store.state();
        if (st == null) {
            return;
        }
        DeposedMember entry = st.value().deposedEntry(node.id).orElse(null);
        boolean known = entry != null && w.now() - deposedAt.getOrDefault(node.id, w.now()) > WATCH_DELIVERY_MS;
        if (known && node.pg.rebuiltForGeneration < entry.generation()) {
            violation("deposed-never-serves", node.id + " started postgres as " + node.pg.mode + " while deposed in generation "
                    + entry.generation() + " and last rebuilt for " + node.pg.rebuiltForGeneration);
        }
    }

    /** Called every few virtual milliseconds: a daemon that knows it is deposed must have stopped serving. */
    void periodic() {
        for (SimNode node : w.nodes()) {
            Long since = node.knowsDeposedSince();
            // Only a running daemon can stop its postgres; one killed mid-way leaves postgres to its lifeline.
            if (since != null && node.daemonUp() && node.pg.running() && w.now() - since > DEPOSED_STOP_GRACE_MS) {
                Versioned<ClusterState> st = node.view();
                DeposedMember entry = st == null ? null : st.value().deposedEntry(node.id).orElse(null);
                if (entry != null && node.pg.rebuiltForGeneration < entry.generation()
                        && st.value().roleOf(node.id) == Role.DEPOSED) {
                    violation("deposed-never-serves", node.id + " has known for " + (w.now() - since)
                            + " ms that it is deposed and its postgres still runs as " + node.pg.mode);
                }
            }
        }
    }
}
