package dev.appliance.peer;

import java.util.Objects;

/** A reason code and the facts behind it (members, LSNs, durations), as one readable line. */
public record Reason(ReasonCode code, String detail) {
    public Reason {
        Objects.requireNonNull(code, "code");
        detail = detail == null ? "" : detail;
    }

    public static Reason of(ReasonCode code) {
        return new Reason(code, "");
    }

    public static Reason of(ReasonCode code, String detail) {
        return new Reason(code, detail);
    }

    public String summary() {
        return detail.isEmpty() ? code.description() : code.description() + " (" + detail + ")";
    }
}
