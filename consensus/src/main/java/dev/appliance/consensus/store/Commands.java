package dev.appliance.consensus.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * The wire form of commands: a client sends a {@link Command} as JSON; the leader wraps it into a log entry
 * with its clock, {@code {"at": millis, "command": {...}}}, so every replica applies the same time.
 */
final class Commands {
    private Commands() {
    }

    /** A log entry: the command and the leader's clock when it accepted it. */
    record Entry(long at, Command command) {
    }

    static byte[] encode(Command c) {
        try {
            return DocumentStore.JSON.writeValueAsBytes(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + c, e);
        }
    }

    static Command decode(byte[] bytes) throws IOException {
        return DocumentStore.JSON.readValue(bytes, Command.class);
    }

    static byte[] encodeEntry(long at, byte[] commandBytes) throws IOException {
        JsonNode command = DocumentStore.JSON.readTree(commandBytes);
        ObjectNode entry = DocumentStore.JSON.createObjectNode();
        entry.put("at", at);
        entry.set("command", command);
        return DocumentStore.JSON.writeValueAsBytes(entry);
    }

    static Entry decodeEntry(byte[] bytes) throws IOException {
        JsonNode entry = DocumentStore.JSON.readTree(bytes);
        if (entry == null || !entry.has("at") || !entry.get("at").isIntegralNumber() || !entry.has("command")) {
            throw new IOException("not a store log entry");
        }
        Command command = DocumentStore.JSON.treeToValue(entry.get("command"), Command.class);
        return new Entry(entry.get("at").asLong(), command);
    }
}
