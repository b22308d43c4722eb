package dev.appliance.consensus.store;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * On the leader: followers that answer but take no log. A follower whose match index has not moved for a while
 * although the leader has applied entries past it receives heartbeats and nothing else, and while it does its own
 * copy of the state goes stale: the node fences itself although its session renewals succeed, and a leadership
 * transfer to it waits for a catch-up that never comes. Raft libraries have had such bugs (a log stream stuck
 * while heartbeats pass); the answer here is the silent link's, a fresh connection, which restarts the stream.
 * Pure: the caller passes the time.
 */
final class StalledFollowers {
    private record Progress(long matchIndex, long sinceNanos) {
    }

    private final Map<String, Progress> progress = new HashMap<>();

    /**
     * @param leaderApplied the last index the leader applied
     * @return for each follower behind {@code leaderApplied}, how long its match index has stood still; followers
     *         caught up or with no known match index are not listed
     */
    Map<String, Duration> observe(List<ViewStatus.Follower> followers, long leaderApplied, long nowNanos) {
        Map<String, Duration> out = new HashMap<>();
        Map<String, Progress> seen = new HashMap<>();
        for (ViewStatus.Follower f : followers) {
            String member = f.member().value();
            if (f.matchIndex() < 0 || f.matchIndex() >= leaderApplied) {
                continue;
            }
            Progress before = progress.get(member);
            Progress now = before != null && before.matchIndex() == f.matchIndex() ? before
                    : new Progress(f.matchIndex(), nowNanos);
            seen.put(member, now);
            out.put(member, Duration.ofNanos(nowNanos - now.sinceNanos()));
        }
        progress.clear();
        progress.putAll(seen);
        return out;
    }

    /** Forgets every follower: this node is no longer the leader, or has just become it. */
    void reset() {
        progress.clear();
    }
}
