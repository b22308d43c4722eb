package dev.appliance.consensus.store;

import dev.appliance.consensus.state.MemberId;

/**
 * What this node's Raft server says of its own view, polled (a lost leader is never reported by callbacks).
 *
 * @param role               leader, follower, candidate or listener
 * @param leader             the leader this node follows, if known
 * @param term               the current term
 * @param majorityReachable  a linearizable read served by this node succeeded within the last maximum election
 *                           timeout: it reaches a leader that holds a majority, and is caught up with it
 * @param appliedIndex       the last log index applied here
 * @param followers          on the leader, how each follower's replication stands; elsewhere empty
 */
public record ViewStatus(String role, MemberId leader, long term, boolean majorityReachable, long appliedIndex,
        java.util.List<Follower> followers) {
    public ViewStatus {
        followers = java.util.List.copyOf(followers);
    }

    /**
     * The leader's view of one follower: how long ago it last answered, the highest entry it is known to hold
     * and the next the leader will send it (-1 when not known). A follower that answers but whose match index
     * stays behind the leader's applied index does not receive the log.
     */
    public record Follower(MemberId member, long lastAnswerMs, long matchIndex, long nextIndex) {
    }
}
