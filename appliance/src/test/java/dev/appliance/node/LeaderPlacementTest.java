package dev.appliance.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LeaderPlacementTest {
    private static final MemberId N1 = MemberId.of("n1");
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

    @Test
    void thePrimarysAndTheSyncsNodesGiveTheLeadershipToAnAsyncAndOnlyThePrimarysToTheSync() {
        MemberId n4 = MemberId.of("n4");
        ClusterState st = ClusterState.initial(N1, N2, List.of(N3, n4), WalPosition.ZERO);
        assertEquals(List.of(N3, n4, N2), LeaderPlacement.candidates(N1, st), "the primary's node: asyncs, then the sync");
        assertEquals(List.of(N3, n4), LeaderPlacement.candidates(N2, st), "the sync's node: asyncs only");
        assertEquals(List.of(), LeaderPlacement.candidates(N3, st), "an async keeps it");

        ClusterState noAsync = ClusterState.initial(N1, N2, List.of(), WalPosition.ZERO);
        assertEquals(List.of(N2), LeaderPlacement.candidates(N1, noAsync));
        assertEquals(List.of(), LeaderPlacement.candidates(N2, noAsync), "without an async the sync keeps it");
    }

    @Test
    void anOfferEndsWellBeforeANodeWouldFenceForWantOfRenewals() {
        assertEquals(Duration.ofSeconds(1), LeaderPlacement.offerTimeout(Duration.ofSeconds(3), Duration.ofSeconds(1)));
        assertEquals(Duration.ofSeconds(3), LeaderPlacement.offerTimeout(Duration.ofSeconds(30), Duration.ofSeconds(5)));
    }
}
