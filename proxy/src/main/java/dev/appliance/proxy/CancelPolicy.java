package dev.appliance.proxy;

/**
 * Carries out a client's cancel request for a backend this proxy forwarded to {@code primary}. The daemon's
 * policy signals the backend only if it is not waiting for its synchronous standby: PostgreSQL acknowledges a
 * commit whose wait for the sync is cancelled, so that cancel would turn an unreplicated commit into an
 * acknowledged one (DESIGN A4). Called off the proxy's event loops; it may block.
 */
@FunctionalInterface
public interface CancelPolicy {
    void cancel(RouteState.Forward primary, int pid);
}
