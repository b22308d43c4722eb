package dev.appliance.peer;

import dev.appliance.consensus.state.MemberId;
import java.util.Objects;
import java.util.Optional;

/**
 * The next single step from what a node's postgres is doing to what the engine wants of it. The node loop
 * (and the simulation) run one step at a time and ask again after each, so a target that changes midway is
 * followed from wherever postgres got to. A fenced node starts and promotes nothing, and a fenced primary
 * stays read-only.
 */
public final class PostgresPlan {
    private PostgresPlan() {
    }

    public static Optional<PostgresStep> next(PostgresTarget target, PgObservation pg, boolean fenced) {
        Objects.requireNonNull(target, "target");
        boolean running = pg.isRunning();
        if (target instanceof PostgresTarget.Initialize) {
            return pg.hasData() ? Optional.empty() : Optional.of(new PostgresStep.Initialize());
        }
        if (target instanceof PostgresTarget.Primary p) {
            return primary(p, pg, fenced);
        }
        if (target instanceof PostgresTarget.Standby s) {
            return standby(s.upstream(), pg, fenced);
        }
        if (target instanceof PostgresTarget.Detached) {
            return pg.state() == PgState.STANDBY && pg.upstream() != null
                    ? Optional.of(new PostgresStep.Follow(null)) : Optional.empty();
        }
        if (target instanceof PostgresTarget.Stopped) {
            return running ? Optional.of(new PostgresStep.Stop(true)) : Optional.empty();
        }
        if (target instanceof PostgresTarget.Rewind r) {
            return rebuild(r.generation(), r.upstream(), pg, fenced, new PostgresStep.Rewind(r.source(), r.generation()));
        }
        if (target instanceof PostgresTarget.Clone c) {
            return rebuild(c.generation(), c.upstream(), pg, fenced, new PostgresStep.Clone(c.source(), c.generation()));
        }
        throw new IllegalArgumentException("unknown postgres target " + target);
    }

    private static Optional<PostgresStep> primary(PostgresTarget.Primary p, PgObservation pg, boolean fenced) {
        boolean writable = p.writable() && !fenced;
        switch (pg.state()) {
            case NO_DATA:
                return Optional.empty();
            case STOPPED:
                return fenced ? Optional.empty() : Optional.of(new PostgresStep.StartPrimary(p.syncRequired(), writable));
            case STANDBY:
                return fenced ? Optional.empty() : Optional.of(new PostgresStep.Promote(p.syncRequired(), writable));
            default:
                return pg.syncRequired().equals(p.syncRequired()) && pg.writable() == writable ? Optional.empty()
                        : Optional.of(new PostgresStep.ReconfigurePrimary(p.syncRequired(), writable));
        }
    }

    private static Optional<PostgresStep> standby(MemberId upstream, PgObservation pg, boolean fenced) {
        switch (pg.state()) {
            case NO_DATA:
                return Optional.empty();
            case STOPPED:
                return fenced ? Optional.empty() : Optional.of(new PostgresStep.StartStandby(upstream));
            case STANDBY:
                return upstream.equals(pg.upstream()) ? Optional.empty() : Optional.of(new PostgresStep.Follow(upstream));
            default:
                return Optional.of(new PostgresStep.Stop(false));
        }
    }

    private static Optional<PostgresStep> rebuild(long generation, MemberId upstream, PgObservation pg, boolean fenced,
            PostgresStep rebuild) {
        if (pg.isRunning()) {
            return Optional.of(new PostgresStep.Stop(false));
        }
        if (pg.hasData() && pg.rebuiltForGeneration() >= generation && !pg.diverged() && !pg.rewindFailed()
                && !pg.rebuildRequested()) {
            return fenced ? Optional.empty() : Optional.of(new PostgresStep.StartStandby(upstream));
        }
        return Optional.of(rebuild);
    }
}
