package dev.appliance.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PgWireTest {
    private static ByteBuf packet(int length, int code, int extra) {
        ByteBuf b = Unpooled.buffer();
        b.writeInt(length).writeInt(code);
        b.writeZero(extra);
        return b;
    }

    @Test
    void recognisesEveryFirstPacketKind() {
        assertEquals(PgWire.Kind.SSL_REQUEST, PgWire.firstPacket(packet(8, PgWire.SSL_REQUEST, 0)).kind());
        assertEquals(PgWire.Kind.GSSENC_REQUEST, PgWire.firstPacket(packet(8, PgWire.GSSENC_REQUEST, 0)).kind());
        assertEquals(PgWire.Kind.CANCEL_REQUEST, PgWire.firstPacket(packet(16, PgWire.CANCEL_REQUEST, 8)).kind());
        assertEquals(PgWire.Kind.STARTUP, PgWire.firstPacket(packet(20, 196608, 12)).kind());
    }

    @Test
    void waitsForTheWholePacketWithoutConsumingIt() {
        ByteBuf b = packet(20, 196608, 5);
        assertNull(PgWire.firstPacket(b));
        assertEquals(0, b.readerIndex());
        assertNull(PgWire.firstPacket(Unpooled.wrappedBuffer(new byte[] {0, 0})));
    }

    @Test
    void refusesMalformedPackets() {
        PgWire.FirstPacket tooShort = PgWire.firstPacket(packet(4, 196608, 0));
        assertFalse(tooShort.ok());
        assertEquals(PgWire.PROTOCOL_VIOLATION, tooShort.sqlState());
        assertFalse(PgWire.firstPacket(packet(1_000_000, 196608, 0)).ok());
        assertFalse(PgWire.firstPacket(packet(12, PgWire.SSL_REQUEST, 4)).ok());
        assertFalse(PgWire.firstPacket(packet(8, PgWire.CANCEL_REQUEST, 0)).ok());
        PgWire.FirstPacket v2 = PgWire.firstPacket(packet(20, 2 << 16, 12));
        assertEquals(PgWire.FEATURE_NOT_SUPPORTED, v2.sqlState());
        assertTrue(v2.problem().contains("2.0"));
        ByteBuf http = Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII);
        assertFalse(PgWire.firstPacket(http).ok());
    }

    @Test
    void anErrorResponseCarriesSeverityCodeAndMessage() {
        ByteBuf b = PgWire.fatal(ByteBufAllocator.DEFAULT, "57P03", "a failover is in progress");
        assertEquals('E', b.readByte());
        assertEquals(b.readableBytes(), b.readInt());
        String fields = b.toString(StandardCharsets.UTF_8);
        assertEquals("SFATAL\0VFATAL\0C57P03\0Ma failover is in progress\0\0", fields);
    }
}
