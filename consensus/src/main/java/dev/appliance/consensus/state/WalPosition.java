package dev.appliance.consensus.state;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A position in the write-ahead log: an unsigned 64-bit byte offset, ordered, printed and parsed the way
 * PostgreSQL prints an LSN ({@code X/XXXXXXXX}: the high and the low 32 bits in hex). The consensus layer
 * treats it as an opaque ordered value; nothing else of PostgreSQL lives here.
 */
public record WalPosition(long value) implements Comparable<WalPosition> {
    public static final WalPosition ZERO = new WalPosition(0);

    @JsonCreator
    public static WalPosition parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("WAL position is missing");
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("invalid WAL position '" + text + "': expected X/XXXXXXXX, e.g. 0/3000148");
        }
        long high = parseHalf(text, text.substring(0, slash));
        long low = parseHalf(text, text.substring(slash + 1));
        return new WalPosition((high << 32) | low);
    }

    private static long parseHalf(String text, String half) {
        if (half.length() > 8) {
            throw new IllegalArgumentException("invalid WAL position '" + text + "': each half has at most 8 hex digits");
        }
        for (int i = 0; i < half.length(); i++) {
            if (Character.digit(half.charAt(i), 16) < 0) {
                throw new IllegalArgumentException("invalid WAL position '" + text + "': '" + half + "' is not hexadecimal");
            }
        }
        return Long.parseLong(half, 16);
    }

    public static WalPosition of(long bytes) {
        return new WalPosition(bytes);
    }

    /** Bytes from {@code earlier} to this position; 0 when {@code earlier} is not before it. */
    public long bytesAfter(WalPosition earlier) {
        return Long.compareUnsigned(value, earlier.value) > 0 ? value - earlier.value : 0;
    }

    public WalPosition plus(long bytes) {
        return new WalPosition(value + bytes);
    }

    public boolean isBefore(WalPosition other) {
        return compareTo(other) < 0;
    }

    public boolean isAtLeast(WalPosition other) {
        return compareTo(other) >= 0;
    }

    public static WalPosition max(WalPosition a, WalPosition b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static WalPosition min(WalPosition a, WalPosition b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public int compareTo(WalPosition other) {
        return Long.compareUnsigned(value, other.value);
    }

    @JsonValue
    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
