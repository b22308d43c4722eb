package dev.appliance.consensus.state;

/** A member's place in the agreed state. It is derived from the state, never stored. */
public enum Role {
    PRIMARY, SYNC, ASYNC, DEPOSED, UNASSIGNED;

    public String label() {
        return name().toLowerCase();
    }
}
