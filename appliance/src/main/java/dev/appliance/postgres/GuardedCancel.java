package dev.appliance.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels a client's query on a member's postgres, unless the backend is waiting for its synchronous standby.
 * PostgreSQL answers a cancelled wait for the sync with success (and a warning): the commit, flushed only
 * locally, would count as acknowledged. So a cancel that arrives during that wait is dropped, and the client
 * keeps waiting for the sync as if it had not asked (safety argument, A4). The check and the signal are one
 * statement, which leaves a window of microseconds: a backend that starts its commit between the two is still
 * signalled, and postgres then ends that commit's wait early. docs/safety.md states this residue.
 */
public final class GuardedCancel {
    private static final Logger LOG = LoggerFactory.getLogger(GuardedCancel.class);
    private static final String SQL = "SELECT wait_event IS NOT DISTINCT FROM 'SyncRep', "
            + "CASE WHEN wait_event IS DISTINCT FROM 'SyncRep' THEN pg_cancel_backend(pid) END "
            + "FROM pg_stat_activity WHERE pid = ?";

    /** What became of a cancel request. */
    public enum Outcome { CANCELLED, DROPPED_WAITING_FOR_SYNC, NO_SUCH_BACKEND }

    private final PgCredentials credentials;

    public GuardedCancel(PgCredentials credentials) {
        this.credentials = credentials;
    }

    public Outcome cancel(String host, int port, int pid) throws SQLException {
        PgSql sql = new PgSql(host, port, PgCredentials.SUPERUSER, credentials.superuserPassword());
        try (Connection c = sql.connect(); PreparedStatement st = c.prepareStatement(SQL)) {
            st.setInt(1, pid);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return Outcome.NO_SUCH_BACKEND;
                }
                if (rs.getBoolean(1)) {
                    LOG.info("a cancel for backend {} on {}:{} was dropped: it waits for its sync, and a cancelled wait "
                            + "would acknowledge a commit no replica has", pid, host, port);
                    return Outcome.DROPPED_WAITING_FOR_SYNC;
                }
                return rs.getBoolean(2) ? Outcome.CANCELLED : Outcome.NO_SUCH_BACKEND;
            }
        }
    }
}
