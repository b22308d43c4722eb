package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the engine remembers between two decisions on one node. It goes in with the input and comes back
 * with the decision, so the engine itself holds nothing. A restarted daemon starts from {@link #EMPTY},
 * which is always safe: it only delays sync changes and resignations.
 *
 * @param healthySince            per member: since when it has streamed under the lag limit (sync hysteresis)
 * @param pgDownSince             since when this primary's postgres has been down
 * @param syncTracked             the sync the next two fields are about
 * @param syncFlushSeen           its flush position at the last decision (progress tracking)
 * @param syncStuckSince          since when it has been disconnected or stuck behind
 * @param resignedInGeneration    the generation in which this primary resigned (0: it has not)
 * @param resignedAt              when it resigned
 * @param switchoverRequestedAt   which switchover request {@code switchoverSeenAt} refers to
 * @param switchoverSeenAt        when this primary first saw that request
 * @param gateOpenFor             the serving-since position for which the write gate was opened (rule 6)
 */
public record EngineMemory(
        Map<MemberId, Instant> healthySince,
        Instant pgDownSince,
        MemberId syncTracked,
        WalPosition syncFlushSeen,
        Instant syncStuckSince,
        long resignedInGeneration,
        Instant resignedAt,
        Instant switchoverRequestedAt,
        Instant switchoverSeenAt,
        WalPosition gateOpenFor) {

    public static final EngineMemory EMPTY = new EngineMemory(Map.of(), null, null, null, null, 0, null, null, null, null);

    public EngineMemory {
        healthySince = healthySince == null ? Map.of() : Map.copyOf(new TreeMap<>(healthySince));
    }

    public Builder toBuilder() {
        return new Builder().healthySince(healthySince).pgDownSince(pgDownSince).syncTracked(syncTracked)
                .syncFlushSeen(syncFlushSeen).syncStuckSince(syncStuckSince).resignedInGeneration(resignedInGeneration)
                .resignedAt(resignedAt).switchoverRequestedAt(switchoverRequestedAt).switchoverSeenAt(switchoverSeenAt)
                .gateOpenFor(gateOpenFor);
    }

    public static final class Builder {
        private Map<MemberId, Instant> healthySince;
        private Instant pgDownSince;
        private MemberId syncTracked;
        private WalPosition syncFlushSeen;
        private Instant syncStuckSince;
        private long resignedInGeneration;
        private Instant resignedAt;
        private Instant switchoverRequestedAt;
        private Instant switchoverSeenAt;
        private WalPosition gateOpenFor;

        public Builder healthySince(Map<MemberId, Instant> v) { healthySince = v; return this; }
        public Builder pgDownSince(Instant v) { pgDownSince = v; return this; }
        public Builder syncTracked(MemberId v) { syncTracked = v; return this; }
        public Builder syncFlushSeen(WalPosition v) { syncFlushSeen = v; return this; }
        public Builder syncStuckSince(Instant v) { syncStuckSince = v; return this; }
        public Builder resignedInGeneration(long v) { resignedInGeneration = v; return this; }
        public Builder resignedAt(Instant v) { resignedAt = v; return this; }
        public Builder switchoverRequestedAt(Instant v) { switchoverRequestedAt = v; return this; }
        public Builder switchoverSeenAt(Instant v) { switchoverSeenAt = v; return this; }
        public Builder gateOpenFor(WalPosition v) { gateOpenFor = v; return this; }

        public EngineMemory build() {
            return new EngineMemory(healthySince, pgDownSince, syncTracked, syncFlushSeen, syncStuckSince,
                    resignedInGeneration, resignedAt, switchoverRequestedAt, switchoverSeenAt, gateOpenFor);
        }
    }
}
