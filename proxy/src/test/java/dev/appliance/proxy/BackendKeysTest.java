package dev.appliance.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BackendKeysTest {
    /** What postgres sends after a successful startup: AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery. */
    private static byte[] startupReply(int pid, int secret) {
        byte[] param = "server_version\0" .concat("15.18\0").getBytes();
        ByteBuffer b = ByteBuffer.allocate(9 + 5 + param.length + 13 + 6);
        b.put((byte) 'R').putInt(8).putInt(0);
        b.put((byte) 'S').putInt(4 + param.length).put(param);
        b.put((byte) 'K').putInt(12).putInt(pid).putInt(secret);
        b.put((byte) 'Z').putInt(5).put((byte) 'I');
        return b.array();
    }

    @Test
    void findsTheKeyWhetherTheRepliesArriveWholeOrByteByByte() {
        byte[] reply = startupReply(4242, -17);
        BackendKeys.Reader whole = new BackendKeys.Reader();
        assertEquals(BackendKeys.key(4242, -17), whole.feed(Unpooled.wrappedBuffer(reply)));

        BackendKeys.Reader split = new BackendKeys.Reader();
        long found = -1;
        for (byte b : reply) {
            long k = split.feed(Unpooled.wrappedBuffer(new byte[] {b}));
            if (k != -1) {
                found = k;
            }
        }
        assertEquals(BackendKeys.key(4242, -17), found);
        assertTrue(split.done(), "ReadyForQuery ends the reading");
    }

    @Test
    void feedingDoesNotConsumeTheBytes() {
        var buf = Unpooled.wrappedBuffer(startupReply(1, 2));
        new BackendKeys.Reader().feed(buf);
        assertEquals(0, buf.readerIndex());
    }

    @Test
    void anErrorInsteadOfAKeyEndsTheReading() {
        ByteBuffer b = ByteBuffer.allocate(1 + 4 + 6);
        b.put((byte) 'E').putInt(10).put("SFATAL".getBytes());
        BackendKeys.Reader r = new BackendKeys.Reader();
        assertEquals(-1, r.feed(Unpooled.wrappedBuffer(b.array())));
        assertTrue(r.done());
    }
}
