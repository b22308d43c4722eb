package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Who may become the sync. An async qualifies once it has streamed under {@code maxSyncLag} for
 * {@code syncDwell}; it loses that standing when it lags too far, stops running, or diverges. Losing its
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

    static boolean eligible(Situation s, MemberId member) {
        return s.isHealthyStandby(member) && s.elapsed(s.healthySince.get(member), s.settings.syncDwell());
    }

    /** The eligible member with the least lag; ties go to the earlier one in {@code pool}. */
    static Optional<MemberId> best(Situation s, List<MemberId> pool) {
        return pool.stream()
                .filter(m -> eligible(s, m))
                .min(byFreshness(s, pool));
    }

    /**
     * The new sync for a takeover: an eligible member if there is one, else the freshest running standby.
     * Safety does not depend on this choice, only how soon writes resume.
     */
    static Optional<MemberId> forTakeover(Situation s, List<MemberId> pool) {
        Optional<MemberId> eligible = best(s, pool);
        if (eligible.isPresent()) {
            return eligible;
        }
        return pool.stream().filter(s::isHealthyStandby).min(byFreshness(s, pool));
    }

    private static Comparator<MemberId> byFreshness(Situation s, List<MemberId> pool) {
        Comparator<MemberId> mostFlushed = Comparator.comparing(s::flushOf, Comparator.reverseOrder());
        return mostFlushed.thenComparing(pool::indexOf);
    }
}
