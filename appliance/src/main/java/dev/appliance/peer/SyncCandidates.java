package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Who may become the sync.
 *
 * <p>Safety first: a new sync must be <em>on the new primary's line</em>, that is observed streaming from it,
 * or from a standby that streams from it. PostgreSQL checks the timeline history before it streams, so that
 * is proof that the candidate's WAL is a prefix of the primary's. The takeover test later compares only WAL
 * positions (replay ≥ initWal), and positions mean the same WAL only on the same line; timeline ids do not
 * prove it, since a node that never saw another's timeline history can create the same timeline id again.
 *
 * <p>Then hysteresis: a candidate qualifies once it has streamed under {@code maxSyncLag} for
 * {@code syncDwell}; it loses that standing when it lags too far, stops running or diverges. Losing its
 * upstream alone does not reset it: when a sync dies every async behind it stops streaming at once, and
 * that is exactly when one of them must be chosen.
 */
final class SyncCandidates {
    private SyncCandidates() {
    }

    /** Updates the hysteresis memory from the members' latest observations. Every node tracks it. */
    static void track(Situation s) {
        s.healthySince.keySet().removeIf(m -> !s.live(m));
        if (s.state == null) {
            return;
        }
        WalPosition reference = s.primaryPosition();
        for (MemberId member : s.in.sessions().keySet()) {
            if (member.equals(s.state.primary())) {
                s.healthySince.remove(member);
                continue;
            }
            PgObservation pg = s.pgOf(member).orElseThrow();
            long lag = reference.bytesAfter(pg.flush());
            boolean disqualified = pg.state() != PgState.STANDBY || pg.diverged() || lag > s.settings.maxSyncLagBytes();
            boolean qualifies = !disqualified && pg.streaming();
            if (disqualified) {
                s.healthySince.remove(member);
            } else if (qualifies) {
                s.healthySince.putIfAbsent(member, s.now);
            }
            Instant since = s.healthySince.get(member);
            if (since != null) {
                s.wakeAt(since.plus(s.settings.syncDwell()));
            }
        }
    }

    /**
     * The member streams from {@code root} (as {@code root}'s own replication view shows), or streams from a
     * standby that does.
     */
    static boolean onLineOf(Situation s, MemberId root, MemberId member) {
        PgObservation rootPg = s.pgOf(root).orElse(null);
        if (rootPg == null || member.equals(root)) {
            return false;
        }
        if (rootPg.replicas().containsKey(member)) {
            return true;
        }
        PgObservation pg = s.pgOf(member).orElse(null);
        return pg != null && pg.state() == PgState.STANDBY && pg.streaming() && !pg.diverged()
                && pg.upstream() != null && !pg.upstream().equals(member) && rootPg.replicas().containsKey(pg.upstream());
    }

    private static boolean dwelt(Situation s, MemberId member) {
        return s.elapsed(s.healthySince.get(member), s.settings.syncDwell());
    }

    /** Eligible to become this primary's sync: on its line, healthy, and dwelt. */
    static boolean eligible(Situation s, MemberId member) {
        return s.isHealthyStandby(member) && dwelt(s, member) && onLineOf(s, s.self, member);
    }

    /** The eligible member with the least lag; ties go to the earlier one in {@code pool}. */
    static Optional<MemberId> best(Situation s, List<MemberId> pool) {
        return pool.stream().filter(m -> eligible(s, m)).min(byFreshness(s, pool));
    }

    /**
     * The new sync when {@code root} becomes primary (a takeover by this node, or a switchover target):
     * a healthy member on {@code root}'s line, preferring one that has dwelt, then the freshest.
     */
    static Optional<MemberId> successor(Situation s, MemberId root, List<MemberId> pool) {
        List<MemberId> onLine = pool.stream().filter(m -> s.isHealthyStandby(m) && onLineOf(s, root, m)).toList();
        Comparator<MemberId> preferDwelt = Comparator.comparing((MemberId m) -> !dwelt(s, m));
        return onLine.stream().min(preferDwelt.thenComparing(byFreshness(s, pool)));
    }

    private static Comparator<MemberId> byFreshness(Situation s, List<MemberId> pool) {
        Comparator<MemberId> mostFlushed = Comparator.comparing(s::flushOf, Comparator.reverseOrder());
        return mostFlushed.thenComparing(pool::indexOf);
    }
}
