package dev.appliance.peer;

import java.time.Duration;
import java.util.Objects;

/**
 * The knobs of the protocol that a node's configuration sets.
 *
 * @param heartbeat            how often a node renews its session and re-evaluates when nothing happens
 * @param ttl                  a session not renewed for this long is expired by the Raft leader
 * @param fenceMargin          a node fences itself once {@code ttl - fenceMargin} passed since it sent its last
 *                             confirmed renewal, so it is fenced before anyone can take its place
 * @param maxSyncLagBytes      an async lagging more than this behind the primary is not a sync candidate
 * @param syncDwell            how long an async must stay streaming and under the lag limit before it may become sync
 * @param syncFailTimeout      a live sync that has not streamed from the primary for this long is replaced
 * @param pgRestartTimeout     a primary whose postgres stays down this long resigns, so the sync takes over
 * @param switchoverTimeout    a planned switchover that has not completed in this time is abandoned
 * @param allowTwoNodeFailover when no async exists, let the sync take over alone (and the primary drop a dead
 *                             sync): acknowledged commits then live on one node until a replica returns
 * @param singleton            run as a one-node cluster: the primary acknowledges commits on its own
 */
public record EngineSettings(
        Duration heartbeat,
        Duration ttl,
        Duration fenceMargin,
        long maxSyncLagBytes,
        Duration syncDwell,
        Duration syncFailTimeout,
        Duration pgRestartTimeout,
        Duration switchoverTimeout,
        boolean allowTwoNodeFailover,
        boolean singleton) {

    public EngineSettings {
        Objects.requireNonNull(heartbeat, "heartbeat");
        Objects.requireNonNull(ttl, "ttl");
        Objects.requireNonNull(fenceMargin, "fenceMargin");
        Objects.requireNonNull(syncDwell, "syncDwell");
        Objects.requireNonNull(syncFailTimeout, "syncFailTimeout");
        Objects.requireNonNull(pgRestartTimeout, "pgRestartTimeout");
        Objects.requireNonNull(switchoverTimeout, "switchoverTimeout");
        if (heartbeat.isNegative() || heartbeat.isZero()) {
            throw new IllegalArgumentException("heartbeat must be positive");
        }
        if (ttl.compareTo(heartbeat.multipliedBy(2)) < 0) {
            throw new IllegalArgumentException("ttl (" + ttl + ") must be at least twice the heartbeat (" + heartbeat + ")");
        }
        if (fenceMargin.isNegative() || fenceMargin.compareTo(ttl.minus(heartbeat)) > 0) {
            throw new IllegalArgumentException("fenceMargin must be between 0 and ttl - heartbeat");
        }
        if (maxSyncLagBytes < 0) {
            throw new IllegalArgumentException("maxSyncLag must not be negative");
        }
    }

    public static EngineSettings defaults() {
        return new EngineSettings(
                Duration.ofMillis(500),
                Duration.ofSeconds(3),
                Duration.ofSeconds(1),
                16L * 1024 * 1024,
                Duration.ofSeconds(3),
                Duration.ofSeconds(3),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                false,
                false);
    }

    /** Once this long has passed since the last confirmed renewal was sent, the node's view is stale. */
    public Duration fenceAfter() {
        return ttl.minus(fenceMargin);
    }

    public EngineSettings withSingleton(boolean value) {
        return new EngineSettings(heartbeat, ttl, fenceMargin, maxSyncLagBytes, syncDwell, syncFailTimeout,
                pgRestartTimeout, switchoverTimeout, allowTwoNodeFailover, value);
    }

    public EngineSettings withAllowTwoNodeFailover(boolean value) {
        return new EngineSettings(heartbeat, ttl, fenceMargin, maxSyncLagBytes, syncDwell, syncFailTimeout,
                pgRestartTimeout, switchoverTimeout, value, singleton);
    }

    public EngineSettings withMaxSyncLagBytes(long value) {
        return new EngineSettings(heartbeat, ttl, fenceMargin, value, syncDwell, syncFailTimeout,
                pgRestartTimeout, switchoverTimeout, allowTwoNodeFailover, singleton);
    }
}
