package dev.appliance.consensus.store;

import dev.appliance.consensus.state.Versioned;
import java.util.NavigableMap;
import java.util.Optional;

/** Read access to the agreed documents (a node's local replica, or the bare store). */
public interface Documents {
    Optional<Versioned<String>> document(String key);

    NavigableMap<String, Versioned<String>> documents(String prefix);
}
