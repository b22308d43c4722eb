package dev.appliance.consensus.store;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replaces the Raft connections to members this node has not heard from for a while. During a partition TCP
 * waits twice as long before each retransmission (up to 120 s apart), and an established connection stays
 * silent after the network returns until its next retransmission is due: a follower cut off for 8 s caught up
 * about 4 s after the heal. A fresh connection starts over: its first SYN goes out at once, and the next ones
 * 1 s and 3 s later. gRPC keeps its connections until they fail, and Ratis sets no keepalive on them, so this
 * node replaces them itself, at most once per {@code every} for each member.
 */
final class SilentLinks {
    private static final Logger LOG = LoggerFactory.getLogger(SilentLinks.class);

    private final String self;
    private final Duration silentAfter;
    private final Duration every;
    private final Executor executor;
    private final Consumer<String> reconnect;
    /** Members whose silence is being answered, with when their connection was last replaced (System.nanoTime). */
    private final Map<String, Long> replaced = new ConcurrentHashMap<>();
    private final Set<String> replacing = ConcurrentHashMap.newKeySet();

    /**
     * @param reconnect replaces the connections to a member; it may block (a graceful gRPC shutdown waits), so it
     *                  runs on {@code executor}
     */
    SilentLinks(String self, Duration silentAfter, Duration every, Executor executor, Consumer<String> reconnect) {
        this.self = self;
        this.silentAfter = silentAfter;
        this.every = every;
        this.executor = executor;
        this.reconnect = reconnect;
    }

    /**
     * Members not listed in either map are not judged.
     *
     * @param silence how long each member has been silent, as this node last saw it
     * @param stalled on the leader, how long each follower that is behind has taken no log entry; a link that
     *                carries heartbeats but no log is replaced as a silent one is
     */
    void observe(Map<String, Duration> silence, Map<String, Duration> stalled, long nowNanos) {
        Set<String> members = new java.util.TreeSet<>(silence.keySet());
        members.addAll(stalled.keySet());
        for (String member : members) {
            if (member.equals(self)) {
                continue;
            }
            Duration silent = silence.getOrDefault(member, Duration.ZERO);
            Duration stuck = stalled.getOrDefault(member, Duration.ZERO);
            if (silent.compareTo(silentAfter) < 0 && stuck.compareTo(silentAfter) < 0) {
                if (replaced.remove(member) != null) {
                    LOG.info("{}: the Raft link to {} carries traffic again", self, member);
                }
                continue;
            }
            replace(member, silent.compareTo(silentAfter) >= 0
                    ? "nothing heard over the Raft link to " + member + " for " + silent.toMillis() + " ms"
                    : member + " answers but has taken no log entry for " + stuck.toMillis() + " ms (its match "
                            + "index stands still while the leader is ahead)", nowNanos);
        }
    }

    private void replace(String member, String why, long nowNanos) {
        Long last = replaced.get(member);
        if (last != null && nowNanos - last < every.toNanos()) {
            return;
        }
        if (!replacing.add(member)) {
            return;
        }
        if (last == null) {
            LOG.info("{}: {}; replacing its connection (and again every {} ms while this lasts): a fresh one "
                    + "carries traffic as soon as the network lets it", self, why, every.toMillis());
        }
        replaced.put(member, nowNanos);
        executor.execute(() -> {
            try {
                reconnect.accept(member);
            } catch (RuntimeException e) {
                LOG.debug("{}: replacing the Raft link to {} failed: {}", self, member, e.toString());
            } finally {
                replacing.remove(member);
            }
        });
    }
}
