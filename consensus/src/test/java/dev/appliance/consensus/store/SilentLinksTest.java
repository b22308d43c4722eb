package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        links.observe(Map.of("n2", Duration.ofMillis(300), "n3", Duration.ofMillis(1999)), Map.of(), at(0));
        assertEquals(List.of(), replaced);
    }

    @Test
    void aSilentMemberIsReconnectedOncePerPeriodWhileItStaysSilent() {
        links.observe(Map.of("n2", Duration.ofMillis(2000)), Map.of(), at(0));
        links.observe(Map.of("n2", Duration.ofMillis(2500)), Map.of(), at(500));
        links.observe(Map.of("n2", Duration.ofMillis(3999)), Map.of(), at(1999));
        assertEquals(List.of("n2"), replaced);
        links.observe(Map.of("n2", Duration.ofMillis(4000)), Map.of(), at(2000));
        assertEquals(List.of("n2", "n2"), replaced);
    }

    @Test
    void aMemberHeardAgainStartsAfreshAndThisNodeNeverReconnectsToItself() {
        links.observe(Map.of("n1", Duration.ofSeconds(9), "n2", Duration.ofSeconds(3)), Map.of(), at(0));
        links.observe(Map.of("n2", Duration.ofMillis(100)), Map.of(), at(100));
        links.observe(Map.of("n2", Duration.ofSeconds(2)), Map.of(), at(200));
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
}
