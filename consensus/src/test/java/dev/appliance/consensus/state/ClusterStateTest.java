package dev.appliance.consensus.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterStateTest {
    private static final MemberId N1 = MemberId.of("n1");
    private static final MemberId N2 = MemberId.of("n2");
    private static final MemberId N3 = MemberId.of("n3");
    private static final MemberId N4 = MemberId.of("n4");

    @Test
    void derivesEveryRole() {
        ClusterState s = new ClusterState(4, N2, N3, List.of(N4), List.of(new DeposedMember(N1, 4)),
                WalPosition.of(100), null, false, null);
        assertEquals(Role.PRIMARY, s.roleOf(N2));
        assertEquals(Role.SYNC, s.roleOf(N3));
        assertEquals(Role.ASYNC, s.roleOf(N4));
        assertEquals(Role.DEPOSED, s.roleOf(N1));
        assertEquals(Role.UNASSIGNED, s.roleOf(MemberId.of("n5")));
        assertEquals(List.of(N2, N3, N4, N1), s.members());
    }

    @Test
    void aMemberHoldsOnePlaceOnly() {
        assertThrows(IllegalArgumentException.class,
                () -> ClusterState.initial(N1, N1, List.of(), WalPosition.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> ClusterState.initial(N1, N2, List.of(N2), WalPosition.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> ClusterState.initial(N1, N2, List.of(N3, N3), WalPosition.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new ClusterState(2, N1, N2, List.of(N3),
                List.of(new DeposedMember(N3, 2)), WalPosition.ZERO, null, false, null));
    }

    @Test
    void singletonHasNoReplicas() {
        assertThrows(IllegalArgumentException.class,
                () -> new ClusterState(1, N1, N2, List.of(), List.of(), WalPosition.ZERO, null, true, null));
        assertTrue(ClusterState.initialSingleton(N1, WalPosition.ZERO).singleton());
    }

    @Test
    void deposedGenerationCannotBeInTheFuture() {
        assertThrows(IllegalArgumentException.class, () -> new ClusterState(2, N1, N2, List.of(),
                List.of(new DeposedMember(N3, 3)), WalPosition.ZERO, null, false, null));
    }

    @Test
    void listsAreCopiedSoTheStateCannotChangeUnderfoot() {
        List<MemberId> asyncs = new ArrayList<>(List.of(N3));
        ClusterState s = ClusterState.initial(N1, N2, asyncs, WalPosition.ZERO);
        asyncs.add(N4);
        assertEquals(List.of(N3), s.asyncs());
        assertThrows(UnsupportedOperationException.class, () -> s.asyncs().add(N4));
    }

    @Test
    void builderStartsANewGeneration() {
        ClusterState s = ClusterState.initial(N1, N2, List.of(N3), WalPosition.ZERO);
        ClusterState next = s.toBuilder().nextGeneration(WalPosition.of(500)).primary(N2).sync(N3).asyncs(List.of())
                .deposed(List.of(new DeposedMember(N1, 2))).build();
        assertEquals(2, next.generation());
        assertEquals(WalPosition.of(500), next.initWal());
        assertEquals(Role.DEPOSED, next.roleOf(N1));
        assertEquals(1, s.generation());
    }

    @Test
    void freezeNeedsAReason() {
        assertThrows(IllegalArgumentException.class, () -> new Freeze(" ", Instant.EPOCH));
    }
}
