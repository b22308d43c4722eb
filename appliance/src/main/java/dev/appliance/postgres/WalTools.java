package dev.appliance.postgres;

import dev.appliance.consensus.state.WalPosition;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What pg_controldata and pg_waldump say about a stopped data directory. */
final class WalTools {
    /** initdb's WAL segment size, which the daemon never changes. */
    static final long WAL_SEGMENT_BYTES = 16L << 20;
    private static final Pattern END_OF_WAL = Pattern.compile("invalid record length at ([0-9A-F]+/[0-9A-F]+)");

    private final PgBinaries bin;
    private final String user;

    WalTools(PgBinaries bin, String user) {
        this.bin = bin;
        this.user = user;
    }

    /** The fields of pg_controldata that matter here. */
    record ControlData(String state, WalPosition checkpoint, long timeline, String systemId) {
        boolean cleanlyShutDown() {
            return "shut down".equals(state) || "shut down in recovery".equals(state);
        }
    }

    ControlData controlData(Path pgdata) throws IOException {
        ProcessRunner.Result r = ProcessRunner.run(user, List.of(bin.tool("pg_controldata").toString(), pgdata.toString()),
                Map.of(), null, 30, line -> { });
        if (!r.ok()) {
            throw new IOException("pg_controldata " + pgdata + " failed: " + r.output().trim());
        }
        Map<String, String> f = new HashMap<>();
        for (String line : r.output().split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                f.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return new ControlData(f.getOrDefault("Database cluster state", "unknown"),
                WalPosition.parse(f.get("Latest checkpoint location")),
                Long.parseLong(f.get("Latest checkpoint's TimeLineID")), f.getOrDefault("Database system identifier", ""));
    }

    /** The end of the WAL in {@code walDir} on {@code timeline}, reading from {@code from}. */
    Optional<WalPosition> endOfWal(Path walDir, long timeline, WalPosition from) throws IOException {
        ProcessRunner.Result r = waldump(walDir, timeline, from, line -> { });
        Matcher m = END_OF_WAL.matcher(r.output());
        return m.find() ? Optional.of(WalPosition.parse(m.group(1))) : Optional.empty();
    }

    /**
     * Runs pg_waldump over {@code walDir} from {@code from} to the end of the WAL, line by line. The start segment
     * is named: given only a directory, pg_waldump learns the segment size from whichever WAL file it lists first,
     * and a segment postgres has preallocated (all zeros) makes it fail.
     */
    ProcessRunner.Result waldump(Path walDir, long timeline, WalPosition from, Consumer<String> lines) throws IOException {
        return ProcessRunner.run(user, List.of(bin.tool("pg_waldump").toString(), "-p", walDir.toString(), "-s",
                from.toString(), segmentFile(timeline, from)), Map.of(), null, 600, lines);
    }

    /** The name of the WAL segment file that holds {@code lsn} on {@code timeline}. */
    static String segmentFile(long timeline, WalPosition lsn) {
        long segment = lsn.value() / WAL_SEGMENT_BYTES;
        long perLogId = 0x100000000L / WAL_SEGMENT_BYTES;
        return String.format("%08X%08X%08X", timeline, segment / perLogId, segment % perLogId);
    }
}
