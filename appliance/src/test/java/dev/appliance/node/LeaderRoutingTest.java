package dev.appliance.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.Decision;
import dev.appliance.peer.EngineMemory;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PostgresTarget;
import dev.appliance.peer.Reason;
import dev.appliance.peer.ReasonCode;
import dev.appliance.proxy.RouteState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LeaderRoutingTest {
    private static final MemberId N1 = MemberId.of("n1");
    private static final MemberId N2 = MemberId.of("n2");
    private static final ClusterState STATE = ClusterState.initial(N1, N2, List.of(), WalPosition.ZERO);
    private static final Map<MemberId, Member> MEMBERS = Map.of(
            N1, new Member(N1, "127.0.0.1", 7001, 5432, 6432, 8001, null, Map.of()),
            N2, new Member(N2, "127.0.0.2", 7001, 5432, 6432, 8001, null, Map.of()));

    private static Decision primary(boolean routable, boolean fenced) {
        return new Decision(Optional.empty(), new PostgresTarget.Primary(Set.of(N2), true), fenced, routable, false,
                Duration.ofSeconds(1), Reason.of(ReasonCode.PRIMARY_STEADY), EngineMemory.EMPTY);
    }

    private static MemberStatus session(boolean routable) {
        return new MemberStatus(PgObservation.primary(WalPosition.of(100), Set.of(), Map.of()), 1, routable, false);
    }

    @Test
    void thePrimarysOwnNodeHoldsUntilPostgresLetsClientsInThoughTheDecisionRoutesThere() {
        RouteState before = LeaderRouting.of(N1, primary(true, false), false, STATE, Map.of(), MEMBERS);
        assertInstanceOf(RouteState.Hold.class, before, "pg_hba.conf still shuts clients out: they would be refused");

        RouteState after = LeaderRouting.of(N1, primary(true, false), true, STATE, Map.of(), MEMBERS);
        assertEquals(new RouteState.Forward("n1", "127.0.0.1", 5432), after);
    }

    @Test
    void anotherNodeFollowsWhatThePrimaryPublishes() {
        Decision standby = new Decision(Optional.empty(), new PostgresTarget.Standby(N1), false, false, false,
                Duration.ofSeconds(1), Reason.of(ReasonCode.PRIMARY_STEADY), EngineMemory.EMPTY);
        assertInstanceOf(RouteState.Hold.class,
                LeaderRouting.of(N2, standby, false, STATE, Map.of(N1, session(false)), MEMBERS));
        assertEquals(new RouteState.Forward("n1", "127.0.0.1", 5432),
                LeaderRouting.of(N2, standby, false, STATE, Map.of(N1, session(true)), MEMBERS));
    }

    @Test
    void aFencedNodeRefusesWhateverItKnows() {
        assertInstanceOf(RouteState.Refuse.class, LeaderRouting.of(N1, primary(true, true), true, STATE, Map.of(), MEMBERS));
    }
}
