package dev.appliance.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.ClusterState;
import java.util.function.Consumer;

/** Assertions about a decision, each about one thing a rule promises. */
final class Expect {
    private Expect() {
    }

    /** A table case: a sentence naming the rule, the input, and what the decision must show. */
    record Case(String name, Fixture.Input input, Consumer<Decision> expect) {
        @Override
        public String toString() {
            return name;
        }

        void run() {
            expect.accept(input.decide());
        }
    }

    static Case when(String name, Fixture.Input input, Consumer<Decision> expect) {
        return new Case(name, input, expect);
    }

    @SafeVarargs
    static Consumer<Decision> all(Consumer<Decision>... checks) {
        return d -> {
            for (Consumer<Decision> c : checks) {
                c.accept(d);
            }
        };
    }

    static Consumer<Decision> writes(ReasonCode code, Consumer<ClusterState> next) {
        return d -> {
            assertTrue(d.proposal().isPresent(), () -> "expected a write (" + code + "), got " + d.reason().summary());
            assertEquals(code, d.proposal().get().reason().code(), () -> d.proposal().get().reason().summary());
            next.accept(d.proposal().get().next());
        };
    }

    static Consumer<Decision> writes(ReasonCode code) {
        return writes(code, s -> { });
    }

    static Consumer<Decision> holds(ReasonCode code) {
        return d -> {
            assertFalse(d.proposal().isPresent(), () -> "expected no write, got " + d.proposal().get().reason().summary());
            assertEquals(code, d.reason().code(), () -> d.reason().summary());
        };
    }

    static Consumer<Decision> expectedVersion(long v) {
        return d -> assertEquals(v, d.proposal().orElseThrow().expectedVersion());
    }

    static Consumer<Decision> postgres(PostgresTarget target) {
        return d -> assertEquals(target, d.postgres(), () -> "postgres target; reason " + d.reason().summary());
    }

    static Consumer<Decision> routable(boolean v) {
        return d -> assertEquals(v, d.routable(), "routable");
    }

    static Consumer<Decision> fenced(boolean v) {
        return d -> assertEquals(v, d.fenced(), "fenced");
    }

    static Consumer<Decision> resigns(boolean v) {
        return d -> assertEquals(v, d.resign(), "resign");
    }
}
