package dev.appliance.jepsen;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Transfers between accounts, each in one transaction; every read of all balances must add up to the total. */
final class BankWorkload implements Workload {
    static final int ACCOUNTS = 5;
    static final long EACH = 100;

    @Override
    public String name() {
        return "bank";
    }

    @Override
    public void setUp(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS jepsen_accounts (id int PRIMARY KEY, balance bigint NOT NULL)");
            st.execute("INSERT INTO jepsen_accounts SELECT g, " + EACH + " FROM generate_series(0, " + (ACCOUNTS - 1)
                    + ") g ON CONFLICT DO NOTHING");
        }
    }

    @Override
    public Op invocation(long process, Random rnd, long time) {
        if (rnd.nextInt(4) == 0) {
            return Op.invoke(process, "balances", null, List.of(), time);
        }
        long from = rnd.nextInt(ACCOUNTS);
        long to = (from + 1 + rnd.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        return Op.invoke(process, "transfer", null, List.of(from, to, (long) (1 + rnd.nextInt(20))), time);
    }

    @Override
    public Completion execute(Connection c, Op invoke) throws SQLException {
        if (invoke.f().equals("balances")) {
            List<Long> b = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT balance FROM jepsen_accounts ORDER BY id")) {
                while (rs.next()) {
                    b.add(rs.getLong(1));
                }
            }
            return Completion.ok(b);
        }
        c.setAutoCommit(false);
        try {
            try (PreparedStatement debit = c.prepareStatement(
                    "UPDATE jepsen_accounts SET balance = balance - ? WHERE id = ? AND balance >= ?")) {
                debit.setLong(1, invoke.value().get(2));
                debit.setLong(2, invoke.value().get(0));
                debit.setLong(3, invoke.value().get(2));
                if (debit.executeUpdate() != 1) {
                    c.rollback();
                    return Completion.failed();
                }
            }
            try (PreparedStatement credit = c.prepareStatement("UPDATE jepsen_accounts SET balance = balance + ? WHERE id = ?")) {
                credit.setLong(1, invoke.value().get(2));
                credit.setLong(2, invoke.value().get(1));
                credit.executeUpdate();
            }
            c.commit();
            return Completion.ok(null);
        } finally {
            try {
                c.setAutoCommit(true);
            } catch (SQLException ignored) {
                // the connection is broken; the caller drops it
            }
        }
    }

    @Override
    public List<CheckResult> check(History history) {
        return List.of(BankChecker.check(history, ACCOUNTS, ACCOUNTS * EACH));
    }
}
