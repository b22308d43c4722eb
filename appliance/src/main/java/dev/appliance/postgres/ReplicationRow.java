package dev.appliance.postgres;

import dev.appliance.consensus.state.WalPosition;
import java.time.Duration;

/**
 * One row of a postgres' {@code pg_stat_replication}: a client streaming WAL from it.
 *
 * @param applicationName the member id of a standby, or the name another replication client gave
 * @param state           startup, catchup, streaming, backup or stopping
 * @param flush           WAL the client has durably written
 * @param flushLag        how long the client took to flush recent WAL (null when postgres has no sample yet)
 * @param syncState       async, potential, sync or quorum: whether commits wait for it right now
 */
public record ReplicationRow(String applicationName, String state, WalPosition flush, Duration flushLag, String syncState) {
}
