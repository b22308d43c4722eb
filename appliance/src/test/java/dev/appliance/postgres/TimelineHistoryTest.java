package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.WalPosition;
import java.util.List;
import org.junit.jupiter.api.Test;

class TimelineHistoryTest {
    private static final String TL2 = "1\t0/401F778\tno recovery target specified\n";
    private static final String TL3 = TL2 + "\n2\t0/6000000\tno recovery target specified\n";

    @Test
    void aDeposedPrimaryOnTheOldTimelineForksWhereThePromotedStandbyLeftIt() {
        TimelineHistory deposed = TimelineHistory.parse(1, null);
        TimelineHistory promoted = TimelineHistory.parse(2, TL2);
        TimelineHistory.Fork fork = deposed.forkWith(promoted).orElseThrow();
        assertEquals(1, fork.timeline());
        assertEquals(WalPosition.parse("0/401F778"), fork.at());
        assertEquals(fork, promoted.forkWith(deposed).orElseThrow(), "the fork is symmetric");
        assertEquals(List.of(new TimelineHistory.Stretch(1, WalPosition.parse("0/401F778"))), deposed.after(fork));
    }

    @Test
    void siblingTimelinesForkAtTheEarlierOfTheirSwitchPoints() {
        TimelineHistory a = TimelineHistory.parse(3, TL3);
        TimelineHistory b = TimelineHistory.parse(4, TL2 + "2\t0/5000000\tother branch\n");
        TimelineHistory.Fork fork = a.forkWith(b).orElseThrow();
        assertEquals(2, fork.timeline());
        assertEquals(WalPosition.parse("0/5000000"), fork.at());
        assertEquals(List.of(new TimelineHistory.Stretch(2, WalPosition.parse("0/5000000")),
                new TimelineHistory.Stretch(3, WalPosition.parse("0/6000000"))), a.after(fork));
    }

    @Test
    void aStandbyBehindOnTheSameTimelineHasNoFork() {
        assertTrue(TimelineHistory.parse(2, TL2).forkWith(TimelineHistory.parse(2, TL2)).isEmpty());
        assertTrue(TimelineHistory.parse(1, null).forkWith(TimelineHistory.parse(1, null)).isEmpty());
    }

    @Test
    void damagedHistoriesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse(2, "garbage\n"));
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse(2, "2\t0/1000000\tx\n"));
        assertThrows(IllegalArgumentException.class, () -> TimelineHistory.parse(4, "2\t0/1\tx\n1\t0/2\ty\n"));
    }
}
