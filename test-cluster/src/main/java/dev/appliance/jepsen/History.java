package dev.appliance.jepsen;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A run's operations in the order they happened, as JSON lines (one {@link Op} per line), and the pairing of
 * each invocation with its completion. Thread-safe for appending.
 */
public final class History {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Op> ops = new ArrayList<>();

    /** An operation from its invocation to its completion; {@code completion} is null when it never completed. */
    public record Pair(Op invoke, Op completion) {
        public Op.Type outcome() {
            return completion == null ? Op.Type.INFO : completion.type();
        }

        /** When it completed, or {@code Long.MAX_VALUE} when its outcome is unknown. */
        public long end() {
            return completion == null || completion.type() == Op.Type.INFO ? Long.MAX_VALUE : completion.time();
        }
    }

    public synchronized Op add(Op op) {
        Op indexed = op.withIndex(ops.size());
        ops.add(indexed);
        return indexed;
    }

    public synchronized List<Op> ops() {
        return List.copyOf(ops);
    }

    /** Every client operation, paired, in invocation order. */
    public List<Pair> pairs() {
        List<Pair> out = new ArrayList<>();
        Map<Long, Integer> open = new HashMap<>();
        for (Op op : ops()) {
            if (op.nemesis()) {
                continue;
            }
            if (op.type() == Op.Type.INVOKE) {
                if (open.containsKey(op.process())) {
                    throw new IllegalStateException("process " + op.process() + " invoked op " + op.index()
                            + " while op " + out.get(open.get(op.process())).invoke().index() + " was open");
                }
                open.put(op.process(), out.size());
                out.add(new Pair(op, null));
            } else {
                Integer at = open.remove(op.process());
                if (at == null) {
                    throw new IllegalStateException("op " + op.index() + " completes nothing process " + op.process()
                            + " invoked");
                }
                out.set(at, new Pair(out.get(at).invoke(), op));
            }
        }
        return out;
    }

    public void write(Path file) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Op op : ops()) {
                ObjectNode n = JSON.createObjectNode().put("index", op.index()).put("process", op.process())
                        .put("type", op.type().name().toLowerCase(Locale.ROOT)).put("f", op.f());
                if (op.key() != null) {
                    n.put("key", op.key());
                }
                ArrayNode v = n.putArray("value");
                op.value().forEach(x -> v.add(x));
                n.put("time", op.time());
                if (op.error() != null) {
                    n.put("error", op.error());
                }
                w.write(n.toString());
                w.newLine();
            }
        }
    }

    /** Reads a history written by {@link #write}; a malformed line is reported with its number. */
    public static History read(Path file) throws IOException {
        History h = new History();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = JSON.readTree(line);
                    List<Long> value = new ArrayList<>();
                    n.path("value").forEach(x -> value.add(x.asLong()));
                    h.add(new Op(-1, n.get("process").asLong(), Op.Type.valueOf(n.get("type").asText().toUpperCase(Locale.ROOT)),
                            n.get("f").asText(), n.hasNonNull("key") ? n.get("key").asText() : null, value,
                            n.get("time").asLong(), n.hasNonNull("error") ? n.get("error").asText() : null));
                } catch (IOException | RuntimeException e) {
                    throw new IOException(file + " line " + lineNo + " is not a history operation: " + e.getMessage(), e);
                }
            }
        }
        return h;
    }
}
