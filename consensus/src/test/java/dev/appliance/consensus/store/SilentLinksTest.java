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
}
