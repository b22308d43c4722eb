package dev.appliance.jepsen;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The append workload: every client inserts unique ids ({@code append [id]}); a final {@code read-all} lists the
 * table. Lost: acknowledged and not in the final read. Duplicated: there more than once. Phantom: there but
 * never even attempted. Ids whose append failed must not be there either; ids whose outcome is unknown may.
 */
public final class AppendChecker {
    private AppendChecker() {
    }

    public static CheckResult check(History history) {
        Set<Long> acked = new TreeSet<>();
        Set<Long> attempted = new TreeSet<>();
        Set<Long> failed = new TreeSet<>();
        List<Long> finalRead = null;
        for (History.Pair p : history.pairs()) {
            switch (p.invoke().f()) {
                case "append" -> {
                    long id = p.invoke().value().get(0);
                    attempted.add(id);
                    if (p.outcome() == Op.Type.OK) {
                        acked.add(id);
                    } else if (p.outcome() == Op.Type.FAIL) {
                        failed.add(id);
                    }
                }
                case "read-all" -> {
                    if (p.outcome() == Op.Type.OK) {
                        finalRead = p.completion().value();
                    }
                }
                default -> {
                }
            }
        }
        if (finalRead == null) {
            return new CheckResult("append", CheckResult.Verdict.UNKNOWN, "no final read succeeded, so nothing can be "
                    + "said about " + acked.size() + " acknowledged appends", Map.of("acknowledged", acked.size()));
        }
        Map<Long, Integer> seen = new HashMap<>();
        finalRead.forEach(id -> seen.merge(id, 1, Integer::sum));
        List<Long> lost = new ArrayList<>();
        for (long id : acked) {
            if (!seen.containsKey(id)) {
                lost.add(id);
            }
        }
        List<Long> duplicated = seen.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
        List<Long> phantom = seen.keySet().stream().filter(id -> !attempted.contains(id)).sorted().toList();
        List<Long> failedButPresent = seen.keySet().stream().filter(failed::contains).sorted().toList();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("acknowledged", acked.size());
        facts.put("attempted", attempted.size());
        facts.put("read", finalRead.size());
        facts.put("lost", lost.size());
        facts.put("duplicated", duplicated.size());
        facts.put("phantom", phantom.size());
        facts.put("failedButPresent", failedButPresent.size());
        facts.put("lostExamples", first(lost));
        facts.put("duplicatedExamples", first(duplicated));
        facts.put("phantomExamples", first(phantom));
        facts.put("failedButPresentExamples", first(failedButPresent));
        boolean ok = lost.isEmpty() && duplicated.isEmpty() && phantom.isEmpty() && failedButPresent.isEmpty();
        String summary = ok ? "all " + acked.size() + " acknowledged appends are there, none twice, none invented"
                : lost.size() + " acknowledged appends lost " + first(lost) + ", " + duplicated.size() + " duplicated, "
                        + phantom.size() + " phantom, " + failedButPresent.size() + " failed yet present";
        return new CheckResult("append", ok ? CheckResult.Verdict.VALID : CheckResult.Verdict.INVALID, summary, facts);
    }

    private static List<Long> first(List<Long> ids) {
        return List.copyOf(ids.subList(0, Math.min(10, ids.size())));
    }
}
