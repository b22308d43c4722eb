package dev.appliance.sim;

import dev.appliance.consensus.state.MemberId;
import java.util.Map;
import java.util.TreeMap;

/**
 * Who can talk to whom. An isolated node reaches nobody (neither Raft nor replication); a node cut from
 * Raft still streams WAL but cannot reach the consensus majority.
 */
final class Network {
    /** How long a node takes to notice it lost the majority by polling its Raft role (about one election timeout). */
    static final long MAJORITY_LOSS_DETECTION_MS = 700;

    private final Map<MemberId, Long> isolatedSince = new TreeMap<>();
    private final Map<MemberId, Long> raftCutSince = new TreeMap<>();

    void isolate(MemberId n, long now) {
        isolatedSince.putIfAbsent(n, now);
    }

    void cutRaft(MemberId n, long now) {
        raftCutSince.putIfAbsent(n, now);
    }

    void heal(MemberId n) {
        isolatedSince.remove(n);
        raftCutSince.remove(n);
    }

    void healAll() {
        isolatedSince.clear();
        raftCutSince.clear();
    }

    boolean raftReachable(MemberId n) {
        return !isolatedSince.containsKey(n) && !raftCutSince.containsKey(n);
    }

    /** What the node's own Raft poll reports: a cut is noticed only after the detection delay. */
    boolean majorityReachableAsSeenBy(MemberId n, long now) {
        Long since = isolatedSince.containsKey(n) ? isolatedSince.get(n) : raftCutSince.get(n);
        return since == null || now - since < MAJORITY_LOSS_DETECTION_MS;
    }

    boolean pgLink(MemberId a, MemberId b) {
        return !isolatedSince.containsKey(a) && !isolatedSince.containsKey(b);
    }
}
