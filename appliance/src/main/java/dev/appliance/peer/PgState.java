package dev.appliance.peer;

/** What a node's postgres is doing, as observed (not as intended). */
public enum PgState {
    /** No initialized data directory. */
    NO_DATA,
    /** A data directory exists; postgres is not running (stopped, crashed, or being rebuilt). */
    STOPPED,
    /** Running and out of recovery. */
    PRIMARY,
    /** Running in recovery, following an upstream. */
    STANDBY
}
