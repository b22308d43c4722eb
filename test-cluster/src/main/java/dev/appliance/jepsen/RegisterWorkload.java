package dev.appliance.jepsen;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Random;

/** Reads, writes and compare-and-sets on a few keys; checked for linearizability, key by key. */
final class RegisterWorkload implements Workload {
    private final int keys;
    private final Duration budget;

    RegisterWorkload(int keys, Duration budget) {
        this.keys = keys;
        this.budget = budget;
    }

    @Override
    public String name() {
        return "register";
    }

    @Override
    public void setUp(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS jepsen_register (k text PRIMARY KEY, v bigint NOT NULL)");
        }
    }

    @Override
    public Op invocation(long process, Random rnd, long time) {
        String key = "r" + rnd.nextInt(keys);
        return switch (rnd.nextInt(3)) {
            case 0 -> Op.invoke(process, "read", key, List.of(), time);
            case 1 -> Op.invoke(process, "write", key, List.of((long) rnd.nextInt(5)), time);
            default -> Op.invoke(process, "cas", key, List.of((long) rnd.nextInt(5), (long) rnd.nextInt(5)), time);
        };
    }

    @Override
    public Completion execute(Connection c, Op invoke) throws SQLException {
        switch (invoke.f()) {
            case "read" -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT v FROM jepsen_register WHERE k = ?")) {
                    ps.setString(1, invoke.key());
                    try (ResultSet rs = ps.executeQuery()) {
                        return Completion.ok(rs.next() ? List.of(rs.getLong(1)) : List.of());
                    }
                }
            }
            case "write" -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO jepsen_register (k, v) VALUES (?, ?) "
                        + "ON CONFLICT (k) DO UPDATE SET v = excluded.v")) {
                    ps.setString(1, invoke.key());
                    ps.setLong(2, invoke.value().get(0));
                    ps.executeUpdate();
                    return Completion.ok(null);
                }
            }
            default -> {
                try (PreparedStatement ps = c.prepareStatement("UPDATE jepsen_register SET v = ? WHERE k = ? AND v = ?")) {
                    ps.setLong(1, invoke.value().get(1));
                    ps.setString(2, invoke.key());
                    ps.setLong(3, invoke.value().get(0));
                    return ps.executeUpdate() == 1 ? Completion.ok(null) : Completion.failed();
                }
            }
        }
    }

    @Override
    public List<CheckResult> check(History history) {
        return List.of(Linearizability.check(history, budget));
    }
}
