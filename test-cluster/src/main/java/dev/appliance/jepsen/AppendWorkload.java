package dev.appliance.jepsen;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** Unique inserts; every acknowledged id must be in the final read, once, and nothing else. */
final class AppendWorkload implements Workload {
    private final AtomicLong next = new AtomicLong(1);

    @Override
    public String name() {
        return "append";
    }

    @Override
    public void setUp(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS jepsen_append (id bigint NOT NULL)");    // no key: duplicates must show
        }
    }

    @Override
    public Op invocation(long process, Random rnd, long time) {
        return Op.invoke(process, "append", null, List.of(next.getAndIncrement()), time);
    }

    @Override
    public List<Op> finalInvocations(long process, long time) {
        return List.of(Op.invoke(process, "read-all", null, List.of(), time));
    }

    @Override
    public Completion execute(Connection c, Op invoke) throws SQLException {
        if (invoke.f().equals("read-all")) {
            List<Long> ids = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT id FROM jepsen_append ORDER BY id")) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
            return Completion.ok(ids);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO jepsen_append (id) VALUES (?)")) {
            ps.setLong(1, invoke.value().get(0));
            ps.executeUpdate();
        }
        return Completion.ok(null);
    }

    @Override
    public List<CheckResult> check(History history) {
        return List.of(AppendChecker.check(history));
    }
}
