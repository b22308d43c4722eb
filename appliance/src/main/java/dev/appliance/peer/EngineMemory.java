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
 * @param syncFlushSeen           the sync's flush position at the last decision (progress tracking)
 * @param syncStuckSince          since when the sync has been disconnected or stuck behind
 * @param resignedInGeneration    the generation in which this primary resigned (0: it has not)
 * @param resignedAt              when it resigned
 * @param switchoverRequestedAt   which switchover request {@code switchoverSeenAt} refers to
 * @param switchoverSeenAt        when this primary first saw that request
 * @param gateOpenFor             the serving-since position for which the write gate was opened (rule 6)
 */
public record EngineMemory(
        Map<MemberId, Instant> healthySince,
        Instant pgDownSince,
        WalPosition syncFlushSeen,
        Instant syncStuckSince,
        long resignedInGeneration,
        Instant resignedAt,
        Instant switchoverRequestedAt,
        Instant switchoverSeenAt,
        WalPosition gateOpenFor) {

    public static final EngineMemory EMPTY = new EngineMemory(Map.of(), null, null, null, 0, null, null, null, null);

    public EngineMemory {
        healthySince = healthySince == null ? Map.of() : Map.copyOf(new TreeMap<>(healthySince));
    }
}
