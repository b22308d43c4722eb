package dev.appliance.consensus.store;

/**
 * What applying a command did.
 *
 * @param status   the outcome
 * @param version  the document's version after the command (for a conflict: its current version)
 * @param detail   why, when it did not apply
 */
public record WriteResult(Status status, long version, String detail) {
    public enum Status {
        /** Applied. */
        OK,
        /** The document was not at the expected version. */
        VERSION_CONFLICT,
        /** A member the write required to have no session still holds one. */
        SESSION_LIVE,
        /** Nothing to do (an expiry whose session was renewed or ended meanwhile). */
        NO_OP,
        /** The command was not valid; the log entry is kept, the store unchanged. */
        REJECTED
    }

    public static WriteResult ok(long version) {
        return new WriteResult(Status.OK, version, "");
    }

    public boolean ok() {
        return status == Status.OK;
    }
}
