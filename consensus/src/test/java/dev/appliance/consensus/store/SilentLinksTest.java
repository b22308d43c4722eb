package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.appliance.consensus.state.MemberId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SilentLinksTest {
    private final List<String> replaced = new ArrayList<>();
    private final SilentLinks links = new SilentLinks("n1", Duration.ofSeconds(2), Duration.ofSeconds(2), Runnable::run,
            replaced::add);

    private static long at(long millis) {
        return Duration.ofMillis(millis).toNanos();
    }

    @Test
    void aMemberHeardRecentlyKeepsItsConnection() {
        links.observe(Map.of("n2", Duration.ofMillis(300), "n3", Duration.ofMillis(1999)), at(0));
        assertEquals(List.of(), replaced);
    }

    @Test
    void aSilentMemberIsReconnectedOncePerPeriodWhileItStaysSilent() {
        links.observe(Map.of("n2", Duration.ofMillis(2000)), at(0));
        links.observe(Map.of("n2", Duration.ofMillis(2500)), at(500));
        links.observe(Map.of("n2", Duration.ofMillis(3999)), at(1999));
        assertEquals(List.of("n2"), replaced);
        links.observe(Map.of("n2", Duration.ofMillis(4000)), at(2000));
        assertEquals(List.of("n2", "n2"), replaced);
    }

    @Test
    void aMemberHeardAgainStartsAfreshAndThisNodeNeverReconnectsToItself() {
        links.observe(Map.of("n1", Duration.ofSeconds(9), "n2", Duration.ofSeconds(3)), at(0));
        links.observe(Map.of("n2", Duration.ofMillis(100)), at(100));
        links.observe(Map.of("n2", Duration.ofSeconds(2)), at(200));
        assertEquals(List.of("n2", "n2"), replaced, "silent again after it was heard: replaced at once");
    }

    @Test
    void aFollowerThatAnswersButTakesNoLogIsReconnectedAsASilentOneIs() {
        Map<String, Duration> answering = Map.of("n2", Duration.ofMillis(50));
        links.observe(answering, Map.of("n2", Duration.ofMillis(1999)), at(0));
        assertEquals(List.of(), replaced);
        links.observe(answering, Map.of("n2", Duration.ofMillis(2000)), at(1));
        links.observe(answering, Map.of("n2", Duration.ofMillis(2500)), at(500));
        assertEquals(List.of("n2"), replaced, "once per period");
        links.observe(answering, Map.of(), at(600));
        links.observe(answering, Map.of("n2", Duration.ofMillis(2000)), at(700));
        assertEquals(List.of("n2", "n2"), replaced, "it took log again in between: stalled anew, replaced at once");
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
