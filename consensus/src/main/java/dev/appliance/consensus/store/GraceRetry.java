package dev.appliance.consensus.store;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Submits a new leader's grace entry until it is applied. No session expires in a term before its grace, so a
 * single attempt refused (a leadership transfer was under way) once left a dead member's session live for good.
 * One attempt at a time, at most one per {@code every}.
 */
final class GraceRetry {
    private final Supplier<CompletableFuture<?>> submit;
    private final Duration every;
    private final Consumer<Throwable> onRefused;
    private final AtomicBoolean inFlight = new AtomicBoolean();
    private volatile long triedAt;
    private volatile boolean tried;

    GraceRetry(Supplier<CompletableFuture<?>> submit, Duration every, Consumer<Throwable> onRefused) {
        this.submit = submit;
        this.every = every;
        this.onRefused = onRefused;
    }

    /** Called while this node leads a term whose grace is not applied yet. */
    void due(long nowNanos) {
        if ((tried && nowNanos - triedAt < every.toNanos()) || !inFlight.compareAndSet(false, true)) {
            return;
        }
        tried = true;
        triedAt = nowNanos;
        submit.get().whenComplete((r, e) -> {
            inFlight.set(false);
            if (e != null) {
                onRefused.accept(e);
            }
        });
    }
}
