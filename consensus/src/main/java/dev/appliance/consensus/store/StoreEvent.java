package dev.appliance.consensus.store;

import dev.appliance.consensus.state.MemberId;

/** A change the store applied, delivered to local watchers in log order. */
public sealed interface StoreEvent {
    long index();

    /** A document was written or deleted ({@code value} null). */
    record DocumentChanged(long index, String key, long version, String value) implements StoreEvent {
    }

    record SessionOpened(long index, MemberId member, String payload) implements StoreEvent {
    }

    record SessionRenewed(long index, MemberId member, String payload) implements StoreEvent {
    }

    /** A session ended: expired by the leader, or resigned by its member. */
    record SessionEnded(long index, MemberId member, boolean expired) implements StoreEvent {
    }

    /** A new leader granted every live session a full ttl. */
    record SessionsGraced(long index) implements StoreEvent {
    }

    /** The whole store was replaced from a snapshot sent by the leader: re-read everything. */
    record Restored(long index) implements StoreEvent {
    }
}
