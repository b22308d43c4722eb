package dev.appliance.sim;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.peer.PgState;
import java.util.Set;

/**
 * The model of one node's postgres: its durable WAL, what it replayed, its mode and replication settings.
 * It enforces what real postgres enforces (a start needs data and a working binary, a promotion needs a
 * standby) by throwing {@link IllegalStateException}: reaching one is a bug in the simulated daemon.
 */
final class SimPostgres {
    enum Mode { STOPPED, PRIMARY, STANDBY }

    final MemberId id;
    WalRecord wal;
    WalRecord replayed;
    Mode mode = Mode.STOPPED;
    Mode lastRunningMode;
    boolean writable;
    MemberId upstream;
    boolean streaming;
    Set<MemberId> syncRequired = Set.of();
    boolean diverged;
    boolean rewindFailed;
    long rebuiltForGeneration;
    WalRecord cleanShutdownAt;
    WalRecord servingSince;
    boolean pristine;
    /** The generation under which this postgres last became a writable primary (0: never). */
    long servingGeneration;

    boolean broken;
    boolean replicationStalled;
    boolean replicationSlow;
    boolean replayStalled;
    boolean failNextRewind;

    SimPostgres(MemberId id) {
        this.id = id;
    }

    boolean hasData() {
        return wal != null;
    }

    boolean running() {
        return mode != Mode.STOPPED;
    }

    PgState state() {
        if (wal == null) {
            return PgState.NO_DATA;
        }
        switch (mode) {
            case PRIMARY:
                return PgState.PRIMARY;
            case STANDBY:
                return PgState.STANDBY;
            default:
                return PgState.STOPPED;
        }
    }

    long timeline() {
        return wal == null ? 0 : wal.timeline;
    }

    void initdb(WalRecord root) {
        if (wal != null) {
            throw new IllegalStateException(id + ": initdb over an existing data directory");
        }
        wal = root;
        replayed = root;
        pristine = true;
    }

    void startPrimary(long generation) {
        requireStartable();
        if (lastRunningMode == Mode.STANDBY) {
            throw new IllegalStateException(id + ": a standby data directory is promoted, not started as primary");
        }
        mode = Mode.PRIMARY;
        lastRunningMode = Mode.PRIMARY;
        replayed = wal;
        servingSince = wal;
        cleanShutdownAt = null;
        pristine = false;
        servingGeneration = generation;
    }

    void startStandby(MemberId upstreamId) {
        requireStartable();
        mode = Mode.STANDBY;
        lastRunningMode = Mode.STANDBY;
        upstream = upstreamId;
        streaming = false;
        writable = false;
        cleanShutdownAt = null;
        pristine = false;
    }

    void promote(WalRecord promotionRecord, long generation) {
        if (mode != Mode.STANDBY) {
            throw new IllegalStateException(id + ": promote needs a running standby, it is " + mode);
        }
        if (!wal.isAncestorOf(promotionRecord) || promotionRecord.parent != wal) {
            throw new IllegalStateException(id + ": promotion record must follow the flushed WAL");
        }
        wal = promotionRecord;
        replayed = promotionRecord;
        mode = Mode.PRIMARY;
        lastRunningMode = Mode.PRIMARY;
        upstream = null;
        streaming = false;
        servingSince = promotionRecord;
        servingGeneration = generation;
    }

    /** Stops postgres; {@code shutdownRecord} is the checkpoint a clean stop of a primary writes. */
    void stop(WalRecord shutdownRecord) {
        if (shutdownRecord != null) {
            wal = shutdownRecord;
            replayed = shutdownRecord;
        }
        cleanShutdownAt = shutdownRecord;
        mode = Mode.STOPPED;
        writable = false;
        streaming = false;
    }

    void crash() {
        mode = Mode.STOPPED;
        writable = false;
        streaming = false;
        cleanShutdownAt = null;
    }

    private void requireStartable() {
        if (wal == null) {
            throw new IllegalStateException(id + ": start without a data directory");
        }
        if (mode != Mode.STOPPED) {
            throw new IllegalStateException(id + ": start while running as " + mode);
        }
    }
}
