package dev.appliance.postgres;

import dev.appliance.consensus.state.WalPosition;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilding a node's data directory from another member, never destroying anything first.
 * <ul>
 *   <li>{@link #clone}: pg_basebackup (fast checkpoint, WAL streamed, progress reported) into a new directory
 *       that replaces the data directory only once complete; the previous one is kept aside.</li>
 *   <li>{@link #rewind}: pg_rewind onto the source's timeline. The WAL past the fork point (found from the
 *       timeline histories) is archived first, with a pg_waldump report of the transactions the rewind
 *       discards, under {@code forensics/<generation>/}.</li>
 * </ul>
 */
public final class PgRebuilds {
    private static final Logger LOG = LoggerFactory.getLogger(PgRebuilds.class);
    private static final Pattern PROGRESS = Pattern.compile("(\\d+)/(\\d+) kB \\((\\d+)%\\)");
    private static final Pattern DIVERGED = Pattern.compile("servers diverged at WAL location ([0-9A-F]+/[0-9A-F]+) on timeline (\\d+)");
    private static final Pattern RECORD = Pattern.compile("rmgr: (\\S+).* tx:\\s+(\\d+), lsn: ([0-9A-F]+/[0-9A-F]+).*desc: (.*)");
    private static final Pattern RELATION = Pattern.compile("rel (\\d+/\\d+/\\d+)");
    private static final Pattern HISTORY_FILE = Pattern.compile("([0-9A-F]{8})\\.history");
    /** The WAL segment size: the appliance runs initdb with the default. */
    private static final String KEEP = "KEEP-divergent-data";

    /** Reports clone progress: kB copied and the total when known (0 when not). */
    public interface Progress {
        void update(long doneKb, long totalKb);
    }

    private final PostgresSupervisor pg;

    public PgRebuilds(PostgresSupervisor pg) {
        this.pg = pg;
    }

    /**
     * Clones a fresh copy from {@code source} (a healthy replica, or the primary). The data directory is
     * replaced only once the copy is complete; until then it is untouched, and a clone that dies midway leaves
     * it intact. The replaced directory stays at {@code pgdata.replaced}. When it may hold WAL the source lacks
     * (its rewind failed, or its history forks from the source's: then that WAL is archived and reported first,
     * as a rewind would), it is marked to be kept and never deleted by a later clone.
     *
     * @param maxRateKbPerSecond 0 for unlimited; otherwise pg_basebackup's --max-rate (a low-impact rebuild)
     */
    public void clone(PostgresSupervisor.Upstream source, long generation, int maxRateKbPerSecond, Progress progress)
            throws IOException {
        pg.requireStopped();
        PgLayout l = pg.layout;
        boolean hadData = Files.exists(l.pgdata().resolve("PG_VERSION"));
        boolean rewindFailed = pg.rewindFailedBefore();
        boolean keep = rewindFailed || hadData && archiveBeforeReplacing(source, generation);
        deleteTree(l.cloneTarget());
        Files.createDirectories(l.cloneTarget());
        PostgresSupervisor.setPermissions(l.cloneTarget(), "rwx------");
        pg.own(l.cloneTarget());
        List<String> command = new ArrayList<>(List.of(pg.bin.tool("pg_basebackup").toString(), "-h", source.host(), "-p",
                Integer.toString(source.port()), "-U", PgCredentials.REPLICATION,
                "-d", "connect_timeout=5 " + PgConfigFiles.silentPeerOptions(), "-D", l.cloneTarget().toString(),
                "-X", "stream", "--checkpoint=fast", "--progress", "--no-password"));
        if (maxRateKbPerSecond > 0) {
            command.add("--max-rate=" + Math.max(32, maxRateKbPerSecond) + "k");
        }
        LOG.info("cloning {} from {} at {}:{}", pg.settings.self(), source.id(), source.host(), source.port());
        ProcessRunner.Result r = ProcessRunner.run(pg.osUser, command, Map.of("PGPASSFILE", l.passfile().toString()), null,
                12 * 3600, line -> {
                    Matcher m = PROGRESS.matcher(line);
                    if (m.find()) {
                        progress.update(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
                    }
                });
        if (!r.ok()) {
            deleteTree(l.cloneTarget());
            throw new IOException("cloning from " + source.id() + " failed (pg_basebackup exit " + r.exitCode() + "); the "
                    + "data directory is untouched:\n" + PostgresSupervisor.tail(r.output()));
        }
        if (Files.exists(l.pgdata())) {
            if (Files.exists(l.replaced()) && !Files.exists(l.replaced().resolve(KEEP))) {
                deleteTree(l.replaced());
            }
            Path aside = Files.exists(l.replaced()) ? l.nodeDir().resolve("pgdata.replaced-" + generation) : l.replaced();
            Files.move(l.pgdata(), aside, StandardCopyOption.ATOMIC_MOVE);
            if (keep) {
                Files.writeString(aside.resolve(KEEP), "This data directory was replaced by a clone in generation "
                        + generation + "; it may hold WAL no other member has. Kept for inspection; delete it when done.\n");
                writeReport(generation, List.of((rewindFailed ? "The rewind of this node failed, so it was re-cloned from "
                        : "This node was re-cloned from ") + source.id() + ".", "The whole previous data directory, with "
                        + "any WAL only it had, is kept at " + aside + "."));
            }
        }
        Files.move(l.cloneTarget(), l.pgdata(), StandardCopyOption.ATOMIC_MOVE);
        pg.recordRebuilt(generation);
        LOG.info("{} cloned from {}", pg.settings.self(), source.id());
    }

    /**
     * Rewinds this node onto {@code source}'s timeline. First it finds where the two histories forked (from
     * their timeline history files); any local WAL past that point is copied to {@code forensics/<generation>/wal}
     * and summarized in {@code report.txt} (each transaction that committed there, with the relations it
     * touched) before anything else happens to the data directory. Then a data directory that was not shut down
     * cleanly is recovered (in single-user mode: it never accepts a connection), and pg_rewind runs. A failed
     * rewind is recorded, so the engine re-clones instead.
     *
     * @return where the histories forked, or empty when no rewind was needed
     */
    public Optional<WalPosition> rewind(PostgresSupervisor.Upstream source, long generation) throws IOException {
        pg.requireStopped();
        PgLayout l = pg.layout;
        long started = System.nanoTime();
        WalTools.ControlData control = pg.wal.controlData(l.pgdata());
        TimelineHistory local = localHistory(control.timeline());
        TimelineHistory remote = sourceHistory(source);
        Optional<TimelineHistory.Fork> fork = local.forkWith(remote);
        boolean archived = false;
        if (fork.isPresent()) {
            archived = archive(generation, local, fork.get(), source);
        }
        if (!control.cleanlyShutDown()) {
            try {
                recoverAfterCrash();
            } catch (IOException e) {
                throw rewindFailed(source, generation, archived, e.getMessage());
            }
        }
        long rewindStarted = System.nanoTime();
        List<String> command = List.of(pg.bin.tool("pg_rewind").toString(), "--target-pgdata=" + l.pgdata(),
                "--source-server=host=" + source.host() + " port=" + source.port() + " user=" + PgCredentials.REPLICATION
                        + " dbname=postgres connect_timeout=5 " + PgConfigFiles.silentPeerOptions(), "--progress");
        ProcessRunner.Result r = ProcessRunner.run(pg.osUser, command, Map.of("PGPASSFILE", l.passfile().toString()),
                l.nodeDir(), 3600, line -> LOG.debug("pg_rewind: {}", line));
        if (!r.ok()) {
            String why = r.output().contains("could not find previous WAL record")
                    ? "its WAL no longer reaches back to the last checkpoint it shares with " + source.id()
                            + " (wal_keep_size bounds how far it reaches)\n" : "";
            throw rewindFailed(source, generation, archived, "pg_rewind failed: " + why + PostgresSupervisor.tail(r.output()));
        }
        Matcher m = DIVERGED.matcher(r.output());
        if (m.find()) {
            WalPosition rewindFork = WalPosition.parse(m.group(1));
            if (fork.isEmpty() || rewindFork.isBefore(fork.get().at())) {
                // Never expected (both read the same histories); the archive still holds the whole segment files.
                LOG.error("{}: pg_rewind found the fork at {}, before {} where the archive's report begins", pg.settings.self(),
                        rewindFork, fork.map(f -> f.at().toString()).orElse("nowhere"));
                writeReport(generation, List.of("pg_rewind found the histories forked at " + rewindFork + ", earlier than the "
                        + "timeline histories showed; records before " + fork.map(f -> f.at().toString()).orElse("the end")
                        + " are not decoded above, though the archived segment files hold them when they were present."));
            }
        }
        if (r.output().contains("no rewind required")) {
            if (archived) {
                throw new IOException("pg_rewind saw nothing to rewind, yet " + pg.settings.self() + " holds WAL past its "
                        + "fork from " + source.id() + " (archived in " + l.forensics(generation) + "):\n"
                        + PostgresSupervisor.tail(r.output()));
            }
            pg.recordRebuilt(generation);
            return Optional.empty();
        }
        pg.recordRebuilt(generation);
        LOG.info("{} rewound from {}{} in {} ms (pg_rewind {} ms)", pg.settings.self(), source.id(),
                fork.map(f -> ", histories forked at " + f.at() + " on timeline " + f.timeline()).orElse(""),
                (System.nanoTime() - started) / 1_000_000, (System.nanoTime() - rewindStarted) / 1_000_000);
        return fork.map(TimelineHistory.Fork::at);
    }

    /**
     * Before a clone replaces a data directory that was not rewound first: archives its WAL past the fork from
     * the source, as a rewind would. Returns whether the old directory must be kept (it holds such WAL, or
     * whether it does could not be told).
     */
    private boolean archiveBeforeReplacing(PostgresSupervisor.Upstream source, long generation) {
        try {
            WalTools.ControlData control = pg.wal.controlData(pg.layout.pgdata());
            TimelineHistory local = localHistory(control.timeline());
            Optional<TimelineHistory.Fork> fork = local.forkWith(sourceHistory(source));
            return fork.isPresent() && archive(generation, local, fork.get(), source);
        } catch (IOException | RuntimeException e) {
            LOG.warn("{}: could not tell whether the data directory a clone replaces holds WAL {} lacks ({}); it is kept",
                    pg.settings.self(), source.id(), e.getMessage());
            return true;
        }
    }

    /** Records that this node can only be re-cloned now, and says so, pointing at what was archived. */
    private IOException rewindFailed(PostgresSupervisor.Upstream source, long generation, boolean archived, String detail)
            throws IOException {
        pg.recordRewindFailed();
        return new IOException("the rewind of " + pg.settings.self() + " from " + source.id() + " failed; it must be "
                + "re-cloned" + (archived ? " (its divergent WAL is archived in " + pg.layout.forensics(generation)
                + ", and the clone keeps the old data directory)" : "") + ":\n" + detail);
    }

    /** This node's timeline history, from its own pg_wal and control file. */
    private TimelineHistory localHistory(long controlTimeline) throws IOException {
        Path walDir = pg.layout.pgdata().resolve("pg_wal");
        long current = controlTimeline;
        try (Stream<Path> s = Files.list(walDir)) {
            for (Path p : s.toList()) {
                Matcher h = HISTORY_FILE.matcher(p.getFileName().toString());
                if (h.matches()) {
                    current = Math.max(current, Long.parseLong(h.group(1), 16));
                }
            }
        }
        Path file = walDir.resolve(String.format("%08X.history", current));
        return history(current, Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null, "this node");
    }

    /**
     * The source's timeline history, read over SQL as the replication role (which has the grants for it). A
     * source whose control file does not show its timeline yet is made to checkpoint first.
     */
    private TimelineHistory sourceHistory(PostgresSupervisor.Upstream source) throws IOException {
        PgSql sql = new PgSql(source.host(), source.port(), PgCredentials.REPLICATION, pg.credentials.replicationPassword());
        try (Connection c = sql.connect(); Statement st = c.createStatement()) {
            long current = 1;
            try (ResultSet rs = st.executeQuery("SELECT f FROM pg_ls_dir('pg_wal', true, false) f WHERE f LIKE '%.history'")) {
                while (rs.next()) {
                    Matcher h = HISTORY_FILE.matcher(rs.getString(1));
                    if (h.matches()) {
                        current = Math.max(current, Long.parseLong(h.group(1), 16));
                    }
                }
            }
            try (ResultSet rs = st.executeQuery("SELECT timeline_id FROM pg_control_checkpoint()")) {
                rs.next();
                if (rs.getLong(1) < current) {
                    // pg_rewind reads the source's timeline from its control file, which a promotion updates
                    // only with its next checkpoint.
                    st.execute("SET statement_timeout = 0");
                    st.execute("CHECKPOINT");
                }
            }
            if (current == 1) {
                return history(1, null, source.id().value());
            }
            try (ResultSet rs = st.executeQuery("SELECT pg_read_binary_file('pg_wal/" + String.format("%08X", current)
                    + ".history')")) {
                rs.next();
                return history(current, new String(rs.getBytes(1), StandardCharsets.UTF_8), source.id().value());
            }
        } catch (SQLException e) {
            throw new IOException("reading the timeline history of " + source.id() + " failed: " + e.getMessage(), e);
        }
    }

    private static TimelineHistory history(long current, String content, String whose) throws IOException {
        try {
            return TimelineHistory.parse(current, content);
        } catch (IllegalArgumentException e) {
            throw new IOException("the timeline history of " + whose + " is damaged: " + e.getMessage(), e);
        }
    }

    /**
     * Brings a data directory that was not shut down cleanly (a crash, a kill) to a clean shutdown, as pg_rewind
     * requires: a standby's by starting it receiving from nobody and stopping it, a primary's by crash recovery
     * in single-user mode, so it never serves a connection on the way.
     */
    private void recoverAfterCrash() throws IOException {
        PgLayout l = pg.layout;
        if (Files.exists(l.standbySignal()) || Files.exists(l.pgdata().resolve("backup_label"))) {
            // A standby's data, or one a rebuild left to recover from its backup label: it must recover as a
            // standby (single-user crash recovery would end recovery and fork its own timeline).
            pg.startAsStandby(null);
            pg.stop();
            return;
        }
        List<String> single = List.of(pg.bin.tool("postgres").toString(), "--single", "-F", "-D", l.pgdata().toString(),
                "-c", "config_file=" + l.configFile(), "template1");
        ProcessRunner.Result r = null;
        // Backends of a killed postmaster may hold its shared memory for a moment after it died.
        for (int attempt = 0; attempt < 10; attempt++) {
            StaleLockFiles.remove(l.pgdata(), l.socketDir(), StaleLockFiles.BACKENDS_WAIT);
            r = ProcessRunner.run(pg.osUser, single, Map.of(), l.nodeDir(), 3600, line -> LOG.debug("single-user: {}", line));
            if (r.ok() || !r.output().contains("is still in use")) {
                break;
            }
            PostgresSupervisor.sleep(500);
        }
        if (!r.ok() || !pg.wal.controlData(l.pgdata()).cleanlyShutDown()) {
            throw new IOException("crash recovery of " + pg.settings.self() + " before its rewind failed (exit "
                    + r.exitCode() + "):\n" + PostgresSupervisor.tail(r.output()));
        }
    }

    /**
     * Copies the local WAL past {@code fork} aside and writes what it holds; nothing when there is none.
     *
     * @return whether anything was archived
     */
    private boolean archive(long generation, TimelineHistory local, TimelineHistory.Fork fork,
            PostgresSupervisor.Upstream source) throws IOException {
        PgLayout l = pg.layout;
        Path walDir = l.pgdata().resolve("pg_wal");
        Map<String, List<String>> transactions = new LinkedHashMap<>();
        Map<String, String> outcomes = new LinkedHashMap<>();
        List<String> dump = new ArrayList<>();
        long[] records = {0};
        Map<Long, long[]> segmentRanges = new LinkedHashMap<>();
        for (TimelineHistory.Stretch stretch : local.after(fork)) {
            dump.add("# timeline " + stretch.timeline() + " from " + stretch.from());
            long[] range = {segmentOf(stretch.from()), segmentOf(stretch.from())};
            segmentRanges.put(stretch.timeline(), range);
            pg.wal.waldump(walDir, stretch.timeline(), stretch.from(), line -> {
                dump.add(line);
                Matcher r = RECORD.matcher(line);
                if (!r.find()) {
                    return;
                }
                records[0]++;
                range[1] = Math.max(range[1], segmentOf(WalPosition.parse(r.group(3))));
                String xid = r.group(2);
                if ("0".equals(xid)) {
                    return;
                }
                if ("Transaction".equals(r.group(1))) {
                    outcomes.put(xid, r.group(4).trim());
                } else {
                    Matcher rel = RELATION.matcher(line);
                    if (rel.find()) {
                        List<String> touched = transactions.computeIfAbsent(xid, k -> new ArrayList<>());
                        if (!touched.contains(rel.group(1))) {
                            touched.add(rel.group(1));
                        }
                    }
                }
            });
        }
        if (records[0] == 0) {
            return false;
        }
        Path dir = l.forensics(generation);
        Path walCopy = dir.resolve("wal");
        Files.createDirectories(walCopy);
        List<Path> segments;
        try (Stream<Path> s = Files.list(walDir)) {
            // Only the segments that hold the WAL past the fork: pg_wal also holds recycled segments for the future.
            segments = s.filter(p -> {
                String name = p.getFileName().toString();
                if (HISTORY_FILE.matcher(name).matches()) {
                    return true;
                }
                if (!name.matches("[0-9A-F]{24}")) {
                    return false;
                }
                long[] range = segmentRanges.get(Long.parseLong(name.substring(0, 8), 16));
                return range != null && segmentNumber(name) >= range[0] && segmentNumber(name) <= range[1];
            }).sorted().toList();
        }
        for (Path seg : segments) {
            Files.copy(seg, walCopy.resolve(seg.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
        Files.write(dir.resolve("waldump.txt"), dump, StandardCharsets.UTF_8);
        List<String> report = new ArrayList<>();
        report.add("Rewind of " + pg.settings.self() + " onto " + source.id() + "'s history, generation " + generation
                + ", at " + Instant.now() + ".");
        report.add("The histories forked at " + fork.at() + " on timeline " + fork.timeline() + ". This node's WAL past that "
                + "point (" + records[0] + " records, in " + segments.size() + " files) is archived in " + walCopy
                + " and decoded in waldump.txt; the rewind discards it.");
        List<String> committed = new ArrayList<>();
        List<String> other = new ArrayList<>();
        outcomes.forEach((xid, desc) -> (desc.startsWith("COMMIT") ? committed : other)
                .add("  xid " + xid + ": " + desc + touched(transactions.get(xid))));
        if (committed.isEmpty()) {
            report.add("No transaction committed past the fork point: nothing the rewind discards was ever committed.");
        } else {
            report.add("Transactions that committed on this node past the fork point and are discarded ("
                    + committed.size() + "). None was acknowledged to its client if the appliance's rules held:");
            report.addAll(committed);
        }
        if (!other.isEmpty()) {
            report.add("Transactions that ended otherwise past the fork point:");
            report.addAll(other);
        }
        writeReport(generation, report);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                pg.own(p);
            }
        }
        LOG.warn("{}: the WAL a rewind discards is archived in {} ({} committed transactions)", pg.settings.self(), dir,
                committed.size());
        return true;
    }

    private static long segmentOf(WalPosition lsn) {
        return lsn.value() / WalTools.WAL_SEGMENT_BYTES;
    }

    private static long segmentNumber(String walFileName) {
        long segmentsPerXLogId = 0x100000000L / WalTools.WAL_SEGMENT_BYTES;
        return Long.parseLong(walFileName.substring(8, 16), 16) * segmentsPerXLogId
                + Long.parseLong(walFileName.substring(16, 24), 16);
    }

    private static String touched(List<String> relations) {
        return relations == null || relations.isEmpty() ? "" : "; relations " + String.join(", ", new TreeSet<>(relations));
    }

    private void writeReport(long generation, List<String> lines) throws IOException {
        Path dir = pg.layout.forensics(generation);
        Files.createDirectories(dir);
        Path report = dir.resolve("report.txt");
        List<String> all = new ArrayList<>();
        if (Files.exists(report)) {
            all.addAll(Files.readAllLines(report, StandardCharsets.UTF_8));
            all.add("");
        }
        all.addAll(lines);
        Files.write(report, all, StandardCharsets.UTF_8);
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
