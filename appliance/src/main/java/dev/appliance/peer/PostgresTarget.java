package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import java.util.Objects;
import java.util.Set;

/** What this node's postgres should become. The supervisor gets from what it observes to this. */
public sealed interface PostgresTarget {

    /** Create a new data directory (initdb) for a cluster that does not exist yet; leave postgres stopped. */
    record Initialize() implements PostgresTarget {
    }

    /**
     * Run as the primary (promoting a standby, or starting a stopped data directory).
     *
     * @param syncRequired the standbys that must all flush a commit before it is acknowledged; empty only in
     *                     singleton mode or when the cluster runs without a sync
     * @param writable     false while fenced or draining for a switchover (read-only)
     */
    record Primary(Set<MemberId> syncRequired, boolean writable) implements PostgresTarget {
        public Primary {
            syncRequired = Set.copyOf(syncRequired);
        }
    }

    /** Run as a standby streaming from {@code upstream}. */
    record Standby(MemberId upstream) implements PostgresTarget {
        public Standby {
            Objects.requireNonNull(upstream, "upstream");
        }
    }

    /**
     * Keep running as a standby but receive WAL from nobody (an empty {@code primary_conninfo}). A sync puts
     * this fence up before it takes over: from then on the old primary can acknowledge nothing, and the WAL
     * the sync holds can no longer grow, so the initWal it records covers every acknowledged commit.
     */
    record Detached() implements PostgresTarget {
    }

    /** Stop postgres cleanly. */
    record Stopped() implements PostgresTarget {
    }

    /**
     * Stop, archive the WAL that the rewind will discard (forensics), rewind from {@code source}, then follow
     * {@code upstream}. On success the supervisor records {@code generation} as the generation rebuilt for.
     */
    record Rewind(MemberId source, MemberId upstream, long generation) implements PostgresTarget {
        public Rewind {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(upstream, "upstream");
        }
    }

    /**
     * Clone a fresh copy from {@code source} into a new directory that replaces the old one only once it is
     * complete, then follow {@code upstream}.
     */
    record Clone(MemberId source, MemberId upstream, long generation) implements PostgresTarget {
        public Clone {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(upstream, "upstream");
        }
    }
}
