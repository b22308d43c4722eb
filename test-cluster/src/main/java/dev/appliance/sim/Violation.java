package dev.appliance.sim;

/** An invariant that did not hold, when, and the facts that show it. */
public record Violation(long atMs, String invariant, String message) {
    @Override
    public String toString() {
        return String.format("%s at %.3fs: %s", invariant, atMs / 1000.0, message);
    }
}
