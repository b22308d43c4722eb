package dev.appliance.jepsen;

import java.util.Map;

/**
 * A checker's verdict on a history: valid, invalid (with what broke), or unknown (the checker gave up, with why).
 *
 * @param facts counts and examples, for the run's summary
 */
public record CheckResult(String checker, Verdict verdict, String summary, Map<String, Object> facts) {
    public enum Verdict { VALID, INVALID, UNKNOWN }

    public CheckResult {
        facts = facts == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(facts));
    }

    public boolean valid() {
        return verdict == Verdict.VALID;
    }
}
