package org.apache.ratis.server.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.junit.jupiter.api.Test;

/**
 * Pins the Ratis behaviour that {@code RaftStore} turns off with {@code append-entries.compose.enabled=false}: a
 * follower that composes its appends into one chain runs no append after a failed one. This sits in Ratis'
 * package because the chain is package-private. When it fails, Ratis has changed the chain: read the change
 * before turning the option back on.
 */
class ComposedFollowerAppendsTest {
    private static List<LogEntryProto> entries(long term, long first, int count) {
        return LongStream.range(first, first + count)
                .mapToObj(i -> LogEntryProto.newBuilder().setTerm(term).setIndex(i).build()).toList();
    }

    @Test
    void afterOneFailedAppendTheFollowerRunsNoOther() throws Exception {
        ServerImplUtils.NavigableIndices appends = new ServerImplUtils.NavigableIndices();
        AtomicInteger ran = new AtomicInteger();
        CompletableFuture<Void> failed = appends.append(entries(4, 464, 45), e -> {
            ran.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("a gap before index 464"));
        });
        assertThrows(ExecutionException.class, () -> failed.get(10, TimeUnit.SECONDS));

        CompletableFuture<Void> next = appends.append(entries(4, 509, 3), e -> {
            ran.incrementAndGet();
            return CompletableFuture.completedFuture(null);
        });
        assertThrows(ExecutionException.class, () -> next.get(10, TimeUnit.SECONDS),
                "a later append completed after a failed one: Ratis no longer poisons its append chain");
        assertEquals(1, ran.get(), "the append after the failed one ran");
    }
}
