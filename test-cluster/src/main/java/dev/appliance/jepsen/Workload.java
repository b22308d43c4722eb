package dev.appliance.jepsen;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Random;

/** What a pool of clients does to the database, and how its history is checked. */
interface Workload {
    String name();

    /** Creates its tables, through the leader route, before the run. */
    void setUp(Connection c) throws SQLException;

    /** The next operation a client invokes. */
    Op invocation(long process, Random rnd, long time);

    /** Carries out {@code invoke}: its outcome and result, or an exception for the caller to classify. */
    Completion execute(Connection c, Op invoke) throws SQLException;

    /** Operations run once after the cluster healed (a final read), recorded like the others. */
    default List<Op> finalInvocations(long process, long time) {
        return List.of();
    }

    List<CheckResult> check(History history);

    /** How an operation ended, when it ended without an exception. */
    record Completion(Op.Type type, List<Long> value) {
        static Completion ok(List<Long> value) {
            return new Completion(Op.Type.OK, value);
        }

        static Completion failed() {
            return new Completion(Op.Type.FAIL, null);
        }
    }
}
