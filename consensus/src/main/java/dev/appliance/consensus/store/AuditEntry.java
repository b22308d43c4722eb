package dev.appliance.consensus.store;

import java.time.Instant;

/**
 * One applied change of a document, with why it was made: the decision audit behind
 * {@code appliance cluster history}.
 *
 * @param index   the log index (also the document's new version)
 * @param at      the leader's clock when it accepted the write
 * @param key     the document
 * @param writer  who asked for it
 * @param reason  why, in one line
 */
public record AuditEntry(long index, Instant at, String key, String writer, String reason) {
}
