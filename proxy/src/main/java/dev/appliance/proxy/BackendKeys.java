package dev.appliance.proxy;

import io.netty.buffer.ByteBuf;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cancel keys (BackendKeyData: pid and secret) of the backends this node's proxy forwarded clients to, and
 * where each one runs. A cancel request names a backend by this key; only a key seen here can be cancelled.
 */
final class BackendKeys {
    private final Map<Long, Entry> keys = new ConcurrentHashMap<>();

    record Entry(RouteState.Forward primary, int pid) {
    }

    static long key(int pid, int secret) {
        return ((long) pid << 32) | (secret & 0xffffffffL);
    }

    void add(long key, RouteState.Forward primary, int pid) {
        keys.put(key, new Entry(primary, pid));
    }

    void remove(long key) {
        keys.remove(key);
    }

    Entry find(long key) {
        return keys.get(key);
    }

    /**
     * Reads the server's first messages, up to ReadyForQuery, without consuming them, to find its BackendKeyData.
     * Messages may be split across reads at any byte.
     */
    static final class Reader {
        private final byte[] header = new byte[5];
        private int headerBytes;
        private int skip;
        private final byte[] key = new byte[8];
        private int keyBytes = -1;
        private boolean done;
        private long found = -1;

        /** Feeds the next bytes; returns the key once BackendKeyData is complete (else -1). */
        long feed(ByteBuf in) {
            int i = in.readerIndex();
            int end = in.writerIndex();
            while (i < end && !done) {
                if (skip > 0) {
                    int n = Math.min(skip, end - i);
                    if (keyBytes >= 0) {
                        in.getBytes(i, key, keyBytes, n);
                        keyBytes += n;
                    }
                    i += n;
                    skip -= n;
                    if (skip == 0 && keyBytes == 8) {
                        int pid = ((key[0] & 0xff) << 24) | ((key[1] & 0xff) << 16) | ((key[2] & 0xff) << 8) | (key[3] & 0xff);
                        int secret = ((key[4] & 0xff) << 24) | ((key[5] & 0xff) << 16) | ((key[6] & 0xff) << 8) | (key[7] & 0xff);
                        found = key(pid, secret);
                        keyBytes = -1;
                        return found;
                    }
                    continue;
                }
                int n = Math.min(5 - headerBytes, end - i);
                in.getBytes(i, header, headerBytes, n);
                headerBytes += n;
                i += n;
                if (headerBytes == 5) {
                    headerBytes = 0;
                    char type = (char) header[0];
                    int length = ((header[1] & 0xff) << 24) | ((header[2] & 0xff) << 16) | ((header[3] & 0xff) << 8)
                            | (header[4] & 0xff);
                    if (length < 4 || type == 'Z' || type == 'E') {
                        done = true;    // ready (or refused, or not the protocol we know): nothing more to learn
                    }
                    skip = length - 4;
                    keyBytes = type == 'K' && length == 12 ? 0 : -1;
                }
            }
            return -1;
        }

        boolean done() {
            return done;
        }
    }
}
