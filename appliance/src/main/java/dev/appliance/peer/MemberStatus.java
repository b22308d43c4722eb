package dev.appliance.peer;

import java.util.Objects;

/**
 * What a member publishes with every session renewal: its postgres reading and what its daemon applied.
 *
 * @param pg                 the member's latest postgres observation
 * @param appliedGeneration  the generation of the last cluster state the daemon applied
 * @param routable           as primary: ready for client traffic (proxies route to it only then)
 * @param fenced             the member's view is stale and it has fenced itself
 */
public record MemberStatus(PgObservation pg, long appliedGeneration, boolean routable, boolean fenced) {
    public MemberStatus {
        Objects.requireNonNull(pg, "pg");
    }

    public static MemberStatus of(PgObservation pg) {
        return new MemberStatus(pg, 0, false, false);
    }
}
