package dev.appliance.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.MemberId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeaderPlacementTest {
    private static final MemberId N2 = MemberId.of("n2");
    private static final MemberId N3 = MemberId.of("n3");
    private static final Instant T0 = Instant.parse("2026-11-23T00:00:00Z");

    @Test
    void offersAreSpacedAndFailuresBackOffUpToFiveMinutes() {
        assertEquals(Duration.ofSeconds(10), LeaderPlacement.spacingAfter(0));
        assertEquals(Duration.ofSeconds(20), LeaderPlacement.spacingAfter(1));
        assertEquals(Duration.ofSeconds(160), LeaderPlacement.spacingAfter(4));
        assertEquals(Duration.ofMinutes(5), LeaderPlacement.spacingAfter(5));
        assertEquals(Duration.ofMinutes(5), LeaderPlacement.spacingAfter(1000));
    }

    @Test
    void aFailingOfferIsRetriedEverLaterAndASuccessRestoresTheUsualSpacing() {
        LeaderPlacement p = new LeaderPlacement();
        assertTrue(p.due(T0));
        p.offered(T0);
        assertFalse(p.due(T0.plusSeconds(9)));
        p.failed(N3, T0.plusSeconds(3));
        assertFalse(p.due(T0.plusSeconds(22)));
        assertTrue(p.due(T0.plusSeconds(23)));
        p.offered(T0.plusSeconds(23));
        p.failed(N3, T0.plusSeconds(26));
        assertFalse(p.due(T0.plusSeconds(65)), "the second failure in a row waits 40 s");
        assertTrue(p.due(T0.plusSeconds(66)));
        p.offered(T0.plusSeconds(66));
        p.succeeded();
        p.offered(T0.plusSeconds(67));
        assertTrue(p.due(T0.plusSeconds(77)), "after a success, offers are 10 s apart again");
    }

    @Test
    void theNextOfferGoesToTheCandidateThatFailedLeast() {
        LeaderPlacement p = new LeaderPlacement();
        assertEquals(Optional.of(N3), p.pick(List.of(N3, N2)), "in order of preference while none failed");
        p.failed(N3, T0);
        assertEquals(Optional.of(N2), p.pick(List.of(N3, N2)));
        p.failed(N2, T0);
        assertEquals(Optional.of(N3), p.pick(List.of(N3, N2)));
        assertEquals(Optional.empty(), p.pick(List.of()));
    }
}
