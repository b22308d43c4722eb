package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.appliance.consensus.state.MemberId;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StalledFollowersTest {
    private static long at(long millis) {
        return Duration.ofMillis(millis).toNanos();
    }

    @Test
    void aFollowerStalledWhileTheLeaderIsAheadIsTimedFromItsLastProgress() {
        StalledFollowers stalled = new StalledFollowers();
        MemberId n2 = MemberId.of("n2");
        MemberId n3 = MemberId.of("n3");
        assertEquals(Map.of("n2", Duration.ZERO), stalled.observe(List.of(follower(n2, 10), follower(n3, 20)), 20, at(0)),
                "n3 holds everything the leader applied");
        assertEquals(Map.of("n2", Duration.ofSeconds(3), "n3", Duration.ZERO),
                stalled.observe(List.of(follower(n2, 10), follower(n3, 20)), 25, at(3000)));
        assertEquals(Map.of("n2", Duration.ofSeconds(5), "n3", Duration.ofSeconds(2)),
                stalled.observe(List.of(follower(n2, 10), follower(n3, 20)), 30, at(5000)));
        assertEquals(Map.of("n3", Duration.ZERO), stalled.observe(List.of(follower(n2, 30), follower(n3, 29)), 30, at(6000)),
                "n2 caught up, n3 moved");
        assertEquals(Map.of(), stalled.observe(List.of(new ViewStatus.Follower(n2, 10, -1, -1)), 30, at(7000)),
                "no match index known: not judged");
    }

    private static ViewStatus.Follower follower(MemberId member, long matchIndex) {
        return new ViewStatus.Follower(member, 10, matchIndex, matchIndex + 1);
    }
}
