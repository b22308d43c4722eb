package dev.appliance.postgres;

import dev.appliance.peer.PgObservation;
import java.time.Instant;
import java.util.List;

/**
 * One reading of a node's postgres: what the engine decides on, and the detail operators see.
 *
 * @param observation what the decision engine consumes
 * @param replication every replication client of this postgres, as {@code pg_stat_replication} lists it
 * @param readAt      when the reading was taken
 */
public record PgStatus(PgObservation observation, List<ReplicationRow> replication, Instant readAt) {
    public PgStatus {
        replication = List.copyOf(replication);
    }
}
