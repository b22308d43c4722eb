package dev.appliance.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * What the supervisor remembers across daemon restarts, outside the data directory.
 *
 * @param rebuiltForGeneration  the generation under which the last rewind or clone completed
 * @param rewindFailed          the last rewind failed; only a clone can rebuild this node
 * @param pristine              the data directory comes from a bootstrap initdb and has never served
 * @param rebuildRequested      an operator asked for a fresh clone; cleared when one completes
 */
record PgStateFile(long rebuiltForGeneration, boolean rewindFailed, boolean pristine, boolean rebuildRequested) {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final PgStateFile EMPTY = new PgStateFile(0, false, false, false);

    static PgStateFile read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return EMPTY;
        }
        JsonNode n = JSON.readTree(file.toFile());
        if (n == null || !n.has("rebuiltForGeneration") || !n.has("rewindFailed") || !n.has("pristine")) {
            throw new IOException("the postgres state file " + file + " is unreadable; restore it, or remove it to "
                    + "forget rebuild history (the node is then rewound again before it serves)");
        }
        // rebuildRequested came later: a file without it asked for none.
        return new PgStateFile(n.get("rebuiltForGeneration").asLong(), n.get("rewindFailed").asBoolean(),
                n.get("pristine").asBoolean(), n.path("rebuildRequested").asBoolean(false));
    }

    void write(Path file) throws IOException {
        ObjectNode n = JSON.createObjectNode().put("rebuiltForGeneration", rebuiltForGeneration)
                .put("rewindFailed", rewindFailed).put("pristine", pristine).put("rebuildRequested", rebuildRequested);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, n.toString());
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    PgStateFile withRebuilt(long generation) {
        return new PgStateFile(generation, false, false, false);
    }

    PgStateFile withRewindFailed() {
        return new PgStateFile(rebuiltForGeneration, true, pristine, rebuildRequested);
    }

    PgStateFile withPristine(boolean value) {
        return new PgStateFile(rebuiltForGeneration, rewindFailed, value, rebuildRequested);
    }

    PgStateFile withRebuildRequested() {
        return new PgStateFile(rebuiltForGeneration, rewindFailed, pristine, true);
    }
}
