package dev.appliance.consensus.store;

import java.io.IOException;

/**
 * The node's consensus storage cannot be used as it is (a corrupt snapshot or log, or storage that went
 * missing). The node must stop rather than start empty and rejoin as if it were new.
 */
public final class StoreCorruptException extends IOException {
    public StoreCorruptException(String message, Throwable cause) {
        super(message, cause);
    }

    public StoreCorruptException(String message) {
        super(message);
    }
}
