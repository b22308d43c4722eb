package dev.appliance.peer;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Everything the engine decides from.
 *
 * @param self      this node
 * @param settings  this node's protocol settings
 * @param state     the cluster state and its version as this node last applied it; null before bootstrap
 * @param sessions  the members holding a live session, with what each last published (this node included
 *                  when its own session is live)
 * @param local     this node's postgres, observed just now
 * @param view      how fresh this node's view is
 * @param memory    what the engine remembered from its previous decision on this node
 * @param now       the injected clock's reading
 */
public record EngineInput(
        MemberId self,
        EngineSettings settings,
        Versioned<ClusterState> state,
        Map<MemberId, MemberStatus> sessions,
        PgObservation local,
        ViewHealth view,
        EngineMemory memory,
        Instant now) {

    public EngineInput {
        Objects.requireNonNull(self, "self");
        Objects.requireNonNull(settings, "settings");
        sessions = Map.copyOf(new TreeMap<>(Objects.requireNonNull(sessions, "sessions")));
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(view, "view");
        memory = memory == null ? EngineMemory.EMPTY : memory;
        Objects.requireNonNull(now, "now");
    }
}
