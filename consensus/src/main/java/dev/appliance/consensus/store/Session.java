package dev.appliance.consensus.store;

import dev.appliance.consensus.state.MemberId;

/**
 * A member's session: alive while the member renews it within ttl.
 *
 * @param member        whose session
 * @param openedIndex   the log index that opened it
 * @param renewedIndex  the log index of the latest renewal
 * @param renewedAt     the leader's clock (ms) at that renewal, or at the latest grace entry
 * @param payload       what the member published with its latest renewal (opaque to the store)
 */
public record Session(MemberId member, long openedIndex, long renewedIndex, long renewedAt, String payload) {
}
