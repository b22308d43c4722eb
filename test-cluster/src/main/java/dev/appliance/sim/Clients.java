package dev.appliance.sim;

import dev.appliance.consensus.state.MemberId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Clients that commit directly on every postgres that accepts writes, stale or not: the worst case for
 * split brain. A commit is acknowledged once postgres would acknowledge it: when every standby that
 * {@code synchronous_standby_names} requires streams from this primary and has flushed the commit (or at
 * once when none is required). A commit whose backend dies first is an error to the client, not an ack.
 */
final class Clients {
    static final int CONNECTIONS_PER_NODE = 2;

    record Commit(WalRecord record, MemberId node, long generation, long at) {
    }

    private final World w;
    private final Map<MemberId, List<Commit>> inFlight = new TreeMap<>();
    private final List<Commit> acknowledged = new ArrayList<>();
    long attempted;
    long failed;

    Clients(World w) {
        this.w = w;
    }

    List<Commit> acknowledged() {
        return acknowledged;
    }

    void tick() {
        for (SimNode node : w.nodes()) {
            SimPostgres pg = node.pg;
            if (pg.mode != SimPostgres.Mode.PRIMARY || !pg.writable) {
                continue;
            }
            List<Commit> open = inFlight.computeIfAbsent(node.id, k -> new ArrayList<>());
            while (open.size() < CONNECTIONS_PER_NODE) {
                WalRecord rec = pg.wal.append(w.nextRecordId(), WalRecord.Kind.COMMIT, pg.wal.timeline, node.id.value());
                pg.wal = rec;
                pg.replayed = rec;
                open.add(new Commit(rec, node.id, pg.servingGeneration, w.now()));
                attempted++;
            }
        }
    }

    void processAcks(SimNode node) {
        List<Commit> open = inFlight.get(node.id);
        if (open == null || open.isEmpty()) {
            return;
        }
        for (var it = open.iterator(); it.hasNext(); ) {
            Commit c = it.next();
            if (acknowledgeable(node, c.record())) {
                it.remove();
                acknowledged.add(c);
                w.invariants.onAck(c);
            }
        }
    }

    private boolean acknowledgeable(SimNode node, WalRecord rec) {
        SimPostgres pg = node.pg;
        for (MemberId required : pg.syncRequired) {
            SimNode standby = w.node(required);
            if (standby == null || standby == node) {
                return false;
            }
            SimPostgres s = standby.pg;
            boolean streamingFromUs = s.mode == SimPostgres.Mode.STANDBY && node.id.equals(s.upstream) && s.streaming
                    && w.net.pgLink(node.id, required);
            if (!streamingFromUs || !rec.isAncestorOf(s.wal)) {
                return false;
            }
        }
        return true;
    }

    /** The node's backends are gone (crash, stop, or fencing terminated them): their commits failed. */
    void failAll(MemberId node) {
        List<Commit> open = inFlight.remove(node);
        if (open != null) {
            failed += open.size();
        }
    }
}
