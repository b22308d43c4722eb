package dev.appliance.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The few PostgreSQL protocol messages the proxy reads or writes: the first packet a client sends (a startup
 * message, or an SSL, GSS encryption or cancel request) and an ErrorResponse. Everything else passes untouched.
 */
final class PgWire {
    static final int SSL_REQUEST = 80877103;
    static final int GSSENC_REQUEST = 80877104;
    static final int CANCEL_REQUEST = 80877102;
    static final int PROTOCOL_MAJOR_3 = 3;
    /** PostgreSQL's own limit for a startup packet (MAX_STARTUP_PACKET_LENGTH). */
    static final int MAX_STARTUP_LENGTH = 10000;

    /** SQLSTATE cannot_connect_now: what postgres itself answers while it starts up or shuts down. */
    static final String CANNOT_CONNECT_NOW = "57P03";
    static final String PROTOCOL_VIOLATION = "08P01";
    static final String FEATURE_NOT_SUPPORTED = "0A000";

    enum Kind { STARTUP, SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST }

    /** A complete first packet, or why it is not one. */
    record FirstPacket(Kind kind, int length, String problem, String sqlState) {
        static FirstPacket bad(String sqlState, String problem) {
            return new FirstPacket(null, 0, problem, sqlState);
        }

        boolean ok() {
            return problem == null;
        }

        /** SSL and GSS encryption requests are answered with one byte before the real startup follows. */
        boolean encryptionRequest() {
            return kind == Kind.SSL_REQUEST || kind == Kind.GSSENC_REQUEST;
        }
    }

    private PgWire() {
    }

    /**
     * Reads the first packet at the start of {@code in} without consuming it: null while incomplete, else the
     * packet's kind or why it is refused.
     */
    static FirstPacket firstPacket(ByteBuf in) {
        if (in.readableBytes() < 4) {
            return null;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > MAX_STARTUP_LENGTH) {
            return FirstPacket.bad(PROTOCOL_VIOLATION, "invalid length of startup packet (" + length + ")");
        }
        if (in.readableBytes() < 8) {
            return null;
        }
        int code = in.getInt(in.readerIndex() + 4);
        if (code == SSL_REQUEST || code == GSSENC_REQUEST) {
            return length == 8 ? new FirstPacket(code == SSL_REQUEST ? Kind.SSL_REQUEST : Kind.GSSENC_REQUEST, 8, null, null)
                    : FirstPacket.bad(PROTOCOL_VIOLATION, "invalid length of encryption request (" + length + ")");
        }
        if (code == CANCEL_REQUEST) {
            return length == 16 ? new FirstPacket(Kind.CANCEL_REQUEST, 16, null, null)
                    : FirstPacket.bad(PROTOCOL_VIOLATION, "invalid length of cancel request (" + length + ")");
        }
        if (code >>> 16 != PROTOCOL_MAJOR_3) {
            return FirstPacket.bad(FEATURE_NOT_SUPPORTED, "unsupported frontend protocol " + (code >>> 16) + "."
                    + (code & 0xffff) + ": the server supports 3.0");
        }
        if (in.readableBytes() < length) {
            return null;
        }
        return new FirstPacket(Kind.STARTUP, length, null, null);
    }

    /** A FATAL ErrorResponse, as postgres sends one before it closes a connection it refuses. */
    static ByteBuf fatal(ByteBufAllocator alloc, String sqlState, String message) {
        ByteBuf b = alloc.buffer(64 + message.length() * 3);
        b.writeByte('E');
        int lengthAt = b.writerIndex();
        b.writeInt(0);
        field(b, 'S', "FATAL");
        field(b, 'V', "FATAL");
        field(b, 'C', sqlState);
        field(b, 'M', message);
        b.writeByte(0);
        b.setInt(lengthAt, b.writerIndex() - lengthAt);
        return b;
    }

    private static void field(ByteBuf b, char type, String value) {
        b.writeByte(type);
        b.writeBytes(value.replace('\0', ' ').getBytes(StandardCharsets.UTF_8));
        b.writeByte(0);
    }
}
