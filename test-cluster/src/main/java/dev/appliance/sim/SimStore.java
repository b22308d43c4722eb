package dev.appliance.sim;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.Proposal;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The model of the consensus store: one linearizable log holding the cluster state (written by
 * compare-and-set, version = log index) and the member sessions. The leader expires a session that was not
 * renewed within ttl; a leader change gives every live session a full ttl again. A request from a node that
 * cannot reach the majority is lost (the node sees a timeout).
 */
final class SimStore {
    static final long WRITE_LATENCY_MS = 10;
    static final long RENEW_LATENCY_MS = 5;
    static final long REPLY_LATENCY_MS = 1;
    static final long REQUEST_TIMEOUT_MS = 1000;
    static final long EXPIRY_CHECK_MS = 100;

    private record Session(MemberStatus status, long renewedAt) {
    }

    private final World w;
    private final long ttlMs;
    private Versioned<ClusterState> state;
    private long index;
    private final Map<MemberId, Session> sessions = new TreeMap<>();

    SimStore(World w, long ttlMs) {
        this.w = w;
        this.ttlMs = ttlMs;
    }

    Versioned<ClusterState> state() {
        return state;
    }

    Map<MemberId, MemberStatus> liveSessions() {
        Map<MemberId, MemberStatus> live = new TreeMap<>();
        sessions.forEach((m, s) -> live.put(m, s.status()));
        return live;
    }

    boolean hasSession(MemberId m) {
        return sessions.containsKey(m);
    }

    void startExpiryChecks() {
        w.after(EXPIRY_CHECK_MS, this::expireTick);
    }

    void renew(MemberId node, MemberStatus status, long sentAt, Runnable confirmed) {
        w.after(RENEW_LATENCY_MS, () -> {
            if (!w.net.raftReachable(node)) {
                return;
            }
            boolean opened = !sessions.containsKey(node);
            sessions.put(node, new Session(status, w.now()));
            index++;
            if (opened) {
                w.trace(node, "session opened");
                w.notifyWatchers();
            }
            w.after(REPLY_LATENCY_MS, () -> {
                if (w.net.raftReachable(node)) {
                    confirmed.run();
                }
            });
        });
    }

    void resign(MemberId node) {
        w.after(RENEW_LATENCY_MS, () -> {
            if (w.net.raftReachable(node) && sessions.remove(node) != null) {
                index++;
                w.trace(node, "session resigned");
                w.notifyWatchers();
            }
        });
    }

    void compareAndSet(MemberId writer, Proposal p, Consumer<Boolean> done) {
        w.after(WRITE_LATENCY_MS, () -> {
            if (!w.net.raftReachable(writer)) {
                w.after(REQUEST_TIMEOUT_MS, () -> done.accept(false));
                return;
            }
            long current = state == null ? 0 : state.version();
            String refusal = null;
            if (p.expectedVersion() != current) {
                refusal = "version " + p.expectedVersion() + " != " + current;
            } else {
                for (MemberId m : p.requireExpired()) {
                    if (sessions.containsKey(m)) {
                        refusal = m + " still holds a session";
                    }
                }
            }
            if (refusal != null) {
                w.trace(writer, "CAS refused (" + refusal + "): " + p.reason().summary());
                w.after(REPLY_LATENCY_MS, () -> done.accept(false));
                return;
            }
            w.count("write " + p.reason().code().name().toLowerCase().replace('_', '-'));
            apply(p.next(), writer.toString(), p.reason().summary());
            w.after(REPLY_LATENCY_MS, () -> done.accept(w.net.raftReachable(writer)));
        });
    }

    /** An operator's read-modify-write through the API (freeze, unfreeze, switchover requests). */
    void operatorWrite(UnaryOperator<ClusterState> change, String what) {
        if (state == null) {
            return;
        }
        ClusterState next = change.apply(state.value());
        if (next != null && !next.equals(state.value())) {
            w.count("operator " + what.split(" ")[0]);
            apply(next, "operator", what);
        }
    }

    private void apply(ClusterState next, String writer, String reason) {
        Versioned<ClusterState> before = state;
        index++;
        state = new Versioned<>(index, next);
        w.trace(null, "v" + index + " gen " + next.generation() + " by " + writer + ": " + reason + " => " + describe(next));
        w.invariants.onStateApplied(before, state, writer);
        w.notifyWatchers();
    }

    void leaderChange() {
        long now = w.now();
        sessions.replaceAll((m, s) -> new Session(s.status(), now));
        w.trace(null, "raft leader changed: every session gets a full ttl");
    }

    private void expireTick() {
        long now = w.now();
        boolean changed = false;
        for (var it = sessions.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            MemberId member = e.getKey();
            if (now - e.getValue().renewedAt() > ttlMs) {
                it.remove();
                index++;
                changed = true;
                w.trace(member, "session expired");
                w.count("session expired");
            }
        }
        if (changed) {
            w.notifyWatchers();
        }
        w.after(EXPIRY_CHECK_MS, this::expireTick);
    }

    static String describe(ClusterState s) {
        StringBuilder b = new StringBuilder("P=" + s.primary() + " S=" + s.sync() + " A=" + s.asyncs());
        if (!s.deposed().isEmpty()) {
            b.append(" D=").append(s.deposed().stream().map(d -> d.id() + "@" + d.generation()).toList());
        }
        b.append(" initWal=").append(s.initWal());
        if (s.isFrozen()) {
            b.append(" frozen");
        }
        if (s.singleton()) {
            b.append(" singleton");
        }
        if (s.switchover() != null) {
            b.append(" switchover->").append(s.switchover().to());
        }
        return b.toString();
    }
}
