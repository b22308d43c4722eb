package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import java.util.Objects;
import java.util.Set;

/** One action on a node's postgres, the next on the way from what it is to its {@link PostgresTarget}. */
public sealed interface PostgresStep {

    /** initdb (and the appliance's roles), leaving postgres stopped. */
    record Initialize() implements PostgresStep {
    }

    /**
     * Start a stopped data directory to become the primary. A primary's data directory starts as primary; a
     * standby's starts as a standby receiving from nobody, and the next step promotes it.
     */
    record StartPrimary(Set<MemberId> syncRequired, boolean writable) implements PostgresStep {
        public StartPrimary {
            syncRequired = Set.copyOf(syncRequired);
        }
    }

    /** Start a stopped data directory as a standby of {@code upstream}. */
    record StartStandby(MemberId upstream) implements PostgresStep {
        public StartStandby {
            Objects.requireNonNull(upstream, "upstream");
        }
    }

    /** Promote the running standby. */
    record Promote(Set<MemberId> syncRequired, boolean writable) implements PostgresStep {
        public Promote {
            syncRequired = Set.copyOf(syncRequired);
        }
    }

    /** Change the running primary's required syncs or its read-only mode, by reload. */
    record ReconfigurePrimary(Set<MemberId> syncRequired, boolean writable) implements PostgresStep {
        public ReconfigurePrimary {
            syncRequired = Set.copyOf(syncRequired);
        }
    }

    /** Point the running standby at {@code upstream}, or at nobody when it is null, by reload. */
    record Follow(MemberId upstream) implements PostgresStep {
    }

    /** Stop postgres: cleanly (a primary's final WAL reaches its standbys), or fast. */
    record Stop(boolean clean) implements PostgresStep {
    }

    /** Rewind the stopped data directory from {@code source}, archiving what it discards. */
    record Rewind(MemberId source, long generation) implements PostgresStep {
        public Rewind {
            Objects.requireNonNull(source, "source");
        }
    }

    /** Replace the data directory with a clone of {@code source}, once the clone is complete. */
    record Clone(MemberId source, long generation) implements PostgresStep {
        public Clone {
            Objects.requireNonNull(source, "source");
        }
    }
}
