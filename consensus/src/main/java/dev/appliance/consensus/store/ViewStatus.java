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
 */
public record ViewStatus(String role, MemberId leader, long term, boolean majorityReachable, long appliedIndex) {
}
