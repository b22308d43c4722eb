package dev.appliance.consensus.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalPositionTest {

    @Test
    void printsLikePostgres() {
        assertEquals("0/3000148", WalPosition.of(0x3000148L).toString());
        assertEquals("0/0", WalPosition.ZERO.toString());
        assertEquals("1A/B", WalPosition.of((0x1AL << 32) | 0xB).toString());
        assertEquals("FFFFFFFF/FFFFFFFF", WalPosition.of(-1L).toString());
    }

    @Test
    void parsesWhatPostgresPrintsAndZeroPaddedForms() {
        assertEquals(WalPosition.of(0x3000148L), WalPosition.parse("0/3000148"));
        assertEquals(WalPosition.of(0x3000148L), WalPosition.parse("0/03000148"));
        assertEquals(WalPosition.of((0x1AL << 32) | 0xBL), WalPosition.parse("1a/b"));
        assertEquals(WalPosition.of(-1L), WalPosition.parse("FFFFFFFF/FFFFFFFF"));
    }

    @Test
    void roundTripsThroughText() {
        for (long v : new long[] {0, 1, 0xFFFFFFFFL, 0x100000000L, Long.MAX_VALUE, Long.MIN_VALUE, -2}) {
            WalPosition p = WalPosition.of(v);
            assertEquals(p, WalPosition.parse(p.toString()));
        }
    }

    @Test
    void ordersAsUnsigned() {
        WalPosition low = WalPosition.parse("7FFFFFFF/FFFFFFFF");
        WalPosition high = WalPosition.parse("80000000/0");
        assertTrue(low.isBefore(high));
        assertTrue(WalPosition.parse("1/0").isAtLeast(WalPosition.parse("0/FFFFFFFF")));
        assertEquals(high, WalPosition.max(low, high));
    }

    @Test
    void bytesAfterIsNeverNegative() {
        assertEquals(16, WalPosition.of(32).bytesAfter(WalPosition.of(16)));
        assertEquals(0, WalPosition.of(16).bytesAfter(WalPosition.of(32)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "0/", "/0", "0/0/0", "g/0", "0/123456789", "123456789/0", "0x1/0", "-1/0", " 0/1"})
    void rejectsMalformedText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalPosition.parse(text));
        assertTrue(e.getMessage().contains("invalid WAL position"), e.getMessage());
    }
}
