package dev.appliance.peer;

import java.util.Optional;

/** What one rule concluded, before the engine adds fencing, memory and the recheck time. */
record Verdict(Optional<Proposal> proposal, PostgresTarget postgres, boolean routable, boolean resign, Reason reason) {

    static Verdict hold(PostgresTarget postgres, Reason reason) {
        return new Verdict(Optional.empty(), postgres, false, false, reason);
    }

    static Verdict write(Proposal proposal, PostgresTarget postgres) {
        return new Verdict(Optional.of(proposal), postgres, false, false, proposal.reason());
    }

    Verdict routable(boolean value) {
        return new Verdict(proposal, postgres, value, resign, reason);
    }

    Verdict resigning() {
        return new Verdict(proposal, postgres, routable, true, reason);
    }
}
