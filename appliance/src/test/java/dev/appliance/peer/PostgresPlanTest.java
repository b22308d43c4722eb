package dev.appliance.peer;

import static dev.appliance.peer.Fixture.id;
import static dev.appliance.peer.Fixture.ids;
import static dev.appliance.peer.Fixture.lsn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Each target from each postgres state: the one next step. */
class PostgresPlanTest {
    private static final PgObservation NO_DATA = PgObservation.noData();
    private static final PgObservation STOPPED = PgObservation.stopped(lsn(100));
    private static final PgObservation PRIMARY = PgObservation.primary(lsn(100), ids("n2"), Map.of());
    private static final PgObservation STANDBY_OF_N1 = PgObservation.standby(id("n1"), lsn(100), lsn(100));
    private static final PgObservation DETACHED = STANDBY_OF_N1.toBuilder().upstream(null).streaming(false).build();

    private static Optional<PostgresStep> next(PostgresTarget target, PgObservation pg) {
        return PostgresPlan.next(target, pg, false);
    }

    @Test
    void initializeRunsInitdbOnlyWithoutData() {
        assertEquals(Optional.of(new PostgresStep.Initialize()), next(new PostgresTarget.Initialize(), NO_DATA));
        assertEquals(Optional.empty(), next(new PostgresTarget.Initialize(), STOPPED));
    }

    @Test
    void aPrimaryIsStartedPromotedOrReconfigured() {
        PostgresTarget.Primary p = new PostgresTarget.Primary(ids("n3"), true);
        assertEquals(Optional.of(new PostgresStep.StartPrimary(ids("n3"), true)), next(p, STOPPED));
        assertEquals(Optional.of(new PostgresStep.Promote(ids("n3"), true)), next(p, STANDBY_OF_N1));
        assertEquals(Optional.of(new PostgresStep.ReconfigurePrimary(ids("n3"), true)), next(p, PRIMARY));
        assertEquals(Optional.empty(), next(new PostgresTarget.Primary(ids("n2"), true), PRIMARY));
        assertEquals(Optional.empty(), next(p, NO_DATA));
    }

    @Test
    void aFencedNodeStartsNothingAndItsPrimaryGoesReadOnly() {
        PostgresTarget.Primary p = new PostgresTarget.Primary(ids("n2"), true);
        assertEquals(Optional.empty(), PostgresPlan.next(p, STOPPED, true));
        assertEquals(Optional.empty(), PostgresPlan.next(p, STANDBY_OF_N1, true));
        assertEquals(Optional.of(new PostgresStep.ReconfigurePrimary(ids("n2"), false)), PostgresPlan.next(p, PRIMARY, true));
        assertEquals(Optional.empty(), PostgresPlan.next(new PostgresTarget.Standby(id("n1")), STOPPED, true));
    }

    @Test
    void aStandbyIsStartedRepointedOrStoppedWhenItRunsAsPrimary() {
        PostgresTarget.Standby s = new PostgresTarget.Standby(id("n2"));
        assertEquals(Optional.of(new PostgresStep.StartStandby(id("n2"))), next(s, STOPPED));
        assertEquals(Optional.of(new PostgresStep.Follow(id("n2"))), next(s, STANDBY_OF_N1));
        assertEquals(Optional.empty(), next(new PostgresTarget.Standby(id("n1")), STANDBY_OF_N1));
        assertEquals(Optional.of(new PostgresStep.Stop(false)), next(s, PRIMARY));
    }

    @Test
    void detachingEmptiesTheUpstreamOnce() {
        assertEquals(Optional.of(new PostgresStep.Follow(null)), next(new PostgresTarget.Detached(), STANDBY_OF_N1));
        assertEquals(Optional.empty(), next(new PostgresTarget.Detached(), DETACHED));
        assertEquals(Optional.empty(), next(new PostgresTarget.Detached(), STOPPED));
    }

    @Test
    void stoppingIsClean() {
        assertEquals(Optional.of(new PostgresStep.Stop(true)), next(new PostgresTarget.Stopped(), PRIMARY));
        assertEquals(Optional.empty(), next(new PostgresTarget.Stopped(), STOPPED));
    }

    @Test
    void aRebuildStopsFirstRebuildsOnceAndThenFollows() {
        PostgresTarget.Rewind r = new PostgresTarget.Rewind(id("n2"), id("n2"), 4);
        assertEquals(Optional.of(new PostgresStep.Stop(false)), next(r, PRIMARY));
        assertEquals(Optional.of(new PostgresStep.Rewind(id("n2"), 4)), next(r, STOPPED));
        PgObservation rebuilt = STOPPED.toBuilder().rebuiltForGeneration(4).build();
        assertEquals(Optional.of(new PostgresStep.StartStandby(id("n2"))), next(r, rebuilt));
        assertEquals(Optional.of(new PostgresStep.Rewind(id("n2"), 4)), next(r,
                rebuilt.toBuilder().diverged(true).build()), "a rebuilt node whose WAL diverged again is rebuilt again");
        PostgresTarget.Clone c = new PostgresTarget.Clone(id("n2"), id("n3"), 4);
        assertEquals(Optional.of(new PostgresStep.Clone(id("n2"), 4)), next(c, NO_DATA));
        assertEquals(Optional.of(new PostgresStep.StartStandby(id("n3"))), next(c, rebuilt));
        assertEquals(Optional.of(new PostgresStep.Clone(id("n2"), 4)), next(c,
                rebuilt.toBuilder().rebuildRequested(true).build()), "an operator's rebuild request is carried out even then");
    }
}
