package dev.appliance.jepsen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bank workload: transfers between accounts in transactions, and reads of every balance in one snapshot
 * ({@code balances [b0, b1, ...]}). Every successful read must add up to the total the accounts started with,
 * and no balance may be negative.
 */
public final class BankChecker {
    private BankChecker() {
    }

    public static CheckResult check(History history, int accounts, long total) {
        int reads = 0;
        List<String> wrong = new ArrayList<>();
        for (History.Pair p : history.pairs()) {
            if (!p.invoke().f().equals("balances") || p.outcome() != Op.Type.OK) {
                continue;
            }
            reads++;
            List<Long> b = p.completion().value();
            long sum = b.stream().mapToLong(Long::longValue).sum();
            boolean negative = b.stream().anyMatch(x -> x < 0);
            if (b.size() != accounts || sum != total || negative) {
                wrong.add("op " + p.completion().index() + ": " + b + " (sum " + sum + ", " + b.size() + " accounts)");
            }
        }
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("reads", reads);
        facts.put("wrongReads", wrong.size());
        facts.put("examples", List.copyOf(wrong.subList(0, Math.min(5, wrong.size()))));
        if (reads == 0) {
            return new CheckResult("bank", CheckResult.Verdict.UNKNOWN, "no read of the balances succeeded", facts);
        }
        return wrong.isEmpty()
                ? new CheckResult("bank", CheckResult.Verdict.VALID, "all " + reads + " reads add up to " + total, facts)
                : new CheckResult("bank", CheckResult.Verdict.INVALID, wrong.size() + " of " + reads + " reads do not add up "
                        + "to " + total + " or hold a negative balance, e.g. " + wrong.get(0), facts);
    }
}
