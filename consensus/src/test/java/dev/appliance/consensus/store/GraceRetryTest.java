package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class GraceRetryTest {
    private final List<CompletableFuture<Object>> attempts = new ArrayList<>();
    private final List<Throwable> refusals = new ArrayList<>();
    private final GraceRetry grace = new GraceRetry(() -> {
        CompletableFuture<Object> f = new CompletableFuture<>();
        attempts.add(f);
        return f;
    }, Duration.ofMillis(500), refusals::add);

    private static long ms(long millis) {
        return Duration.ofMillis(millis).toNanos();
    }

    @Test
    void aRefusedGraceIsSubmittedAgainAfterThePeriodOneAtATime() {
        grace.due(ms(0));
        grace.due(ms(600));
        assertEquals(1, attempts.size(), "one attempt at a time");
        attempts.get(0).completeExceptionally(new IllegalStateException("the leader is stepping down"));
        assertEquals(1, refusals.size());
        grace.due(ms(700));
        assertEquals(2, attempts.size(), "refused: submitted again");
        attempts.get(1).completeExceptionally(new IllegalStateException("again"));
        grace.due(ms(1000));
        assertEquals(2, attempts.size(), "not within 500 ms of the last attempt");
        grace.due(ms(1200));
        assertEquals(3, attempts.size());
    }
}
