package dev.appliance.peer;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the engine wants done, as data. The node loop carries it out: it sends the proposal (if any) to the
 * store, drives postgres towards the target, fences or unfences, resigns the session when asked, stores the
 * memory and evaluates again within {@code recheckIn} at the latest.
 *
 * @param proposal   a compare-and-set write, with its reason
 * @param postgres   the role this node's postgres should have
 * @param fenced     the view is stale: stop routing, and as primary terminate client backends and go read-only
 * @param routable   as primary: proxies may send client traffic here
 * @param resign     give up this node's session now (a primary that cannot run postgres)
 * @param recheckIn  evaluate again after this long even if nothing happens
 * @param reason     why, in one line
 * @param memory     what to remember for the next decision
 */
public record Decision(
        Optional<Proposal> proposal,
        PostgresTarget postgres,
        boolean fenced,
        boolean routable,
        boolean resign,
        Duration recheckIn,
        Reason reason,
        EngineMemory memory) {

    public Decision {
        Objects.requireNonNull(proposal, "proposal");
        Objects.requireNonNull(postgres, "postgres");
        Objects.requireNonNull(recheckIn, "recheckIn");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(memory, "memory");
    }
}
