package dev.appliance.resources;

import java.time.Instant;

/** A resource's database at a glance, as its primary reports it. {@code rowsEstimate} comes from statistics. */
public record DatabaseFacts(String primary, String version, long sizeBytes, int connections, int maxConnections,
        int tables, long rowsEstimate, Instant postgresStartedAt) {
}
