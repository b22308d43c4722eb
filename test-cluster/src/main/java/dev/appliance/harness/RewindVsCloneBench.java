package dev.appliance.harness;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.postgres.PgBinaries;
import dev.appliance.postgres.PgCredentials;
import dev.appliance.postgres.PgLayout;
import dev.appliance.postgres.PgNodeSettings;
import dev.appliance.postgres.PgRebuilds;
import dev.appliance.postgres.PostgresSupervisor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/rewind-vs-clone}: how long a deposed primary takes to rejoin by pg_rewind (with the forensics
 * archive) versus by a full clone, on a pgbench database of the given scale. Two real postgres nodes on
 * 127.0.0.51-52. Each round: the standby detaches, the primary commits a few MB on its own (a divergence),
 * the standby is promoted, the old primary stops; it is rewound (timed), then cloned (timed), then streams
 * from the new primary, and the two swap roles for the next round. Each timed step starts after a sync, so it
 * does not pay for the writeback of the steps before it. The ratio is of the medians. The last line
 * is {@code RESULT ...}.
 */
public final class RewindVsCloneBench {
    private static final String USER = "postgres";

    private final PgBinaries bin;
    private final PgCredentials credentials = PgCredentials.generate();
    private final Path dir;
    private final List<PostgresSupervisor> nodes = new ArrayList<>();
    private final List<String> hosts = List.of("127.0.0.51", "127.0.0.52");
    private final int[] ports = new int[2];

    private RewindVsCloneBench(PgBinaries bin, Path dir) {
        this.bin = bin;
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        int scale = 70;
        int rounds = 5;
        int divergenceMb = 4;
        int cloneMaxRateMb = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--scale": scale = Integer.parseInt(args[++i]); break;
                case "--rounds": rounds = Integer.parseInt(args[++i]); break;
                case "--divergence-mb": divergenceMb = Integer.parseInt(args[++i]); break;
                case "--clone-max-rate-mb": cloneMaxRateMb = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: RewindVsCloneBench [--scale N (70)] [--rounds N (5)] [--divergence-mb N (4)] "
                            + "[--clone-max-rate-mb N (0: unlimited)]");
                    System.exit(2);
            }
        }
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "rewind-vs-clone-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        RewindVsCloneBench bench = new RewindVsCloneBench(PgBinaries.discover(), dir);
        try {
            bench.run(scale, rounds, divergenceMb, cloneMaxRateMb);
        } finally {
            bench.close();
        }
    }

    private void run(int scale, int rounds, int divergenceMb, int cloneMaxRateMb) throws Exception {
        for (int i = 0; i < 2; i++) {
            ports[i] = freePort(hosts.get(i));
            PgNodeSettings s = new PgNodeSettings(MemberId.of("n" + (i + 1)), hosts.get(i), ports[i], USER, 1L << 30, 2,
                    Map.of(), 4096, hosts, "127.0.0.0/8");
            nodes.add(new PostgresSupervisor(bin, new PgLayout(dir.resolve("n" + (i + 1))), s, credentials,
                    Duration.ofSeconds(120)));
        }
        System.out.println("rewind-vs-clone: PostgreSQL " + bin.majorVersion() + ", pgbench scale " + scale + ", "
                + divergenceMb + " MB of divergence, " + rounds + " rounds, clone "
                + (cloneMaxRateMb == 0 ? "unlimited" : "at most " + cloneMaxRateMb + " MB/s") + "; data in " + dir);
        nodes.get(0).initialize();
        nodes.get(0).startAsPrimary(Set.of(), false);
        long t = System.nanoTime();
        pgbench(0, List.of("-i", "-s", Integer.toString(scale), "-I", "dtGvp", "-q"));
        execute(0, "CHECKPOINT");
        System.out.printf("pgbench -i: %.1f s, database %s%n", seconds(t), query(0, "SELECT pg_size_pretty(pg_database_size('postgres'))"));
        nodes.get(0).ensureSlots(Set.of(id(1)));
        t = System.nanoTime();
        new PgRebuilds(nodes.get(1)).clone(upstream(0), 1, 0, progress("initial clone"));
        System.out.printf("initial clone: %.1f s%n", seconds(t));
        nodes.get(1).startAsStandby(upstream(0));
        awaitStreaming(0, 1);

        List<Double> rewinds = new ArrayList<>();
        List<Double> clones = new ArrayList<>();
        int primary = 0;
        for (int round = 1; round <= rounds; round++) {
            int standby = 1 - primary;
            long generation = 1 + round;
            nodes.get(standby).reconfigureStandby(null);
            nodes.get(primary).reconfigurePrimary(Set.of(), false);
            WalPosition before = WalPosition.parse(query(primary, "SELECT pg_current_wal_lsn()::text"));
            long divergence = diverge(primary, before, divergenceMb);
            nodes.get(standby).ensureSlots(Set.of(id(primary)));
            nodes.get(standby).promote(Set.of(), false);
            nodes.get(primary).stop();
            // Every promotion checkpoints right after; that belongs to the promotion, not to the rejoin timed here.
            awaitCheckpointOnTimeline(standby, round + 1);

            flushDirtyPages();
            t = System.nanoTime();
            new PgRebuilds(nodes.get(primary)).rewind(upstream(standby), generation).orElseThrow(
                    () -> new IllegalStateException("the rewind found no divergence"));
            double rewind = seconds(t);
            flushDirtyPages();
            t = System.nanoTime();
            new PgRebuilds(nodes.get(primary)).clone(upstream(standby), generation, cloneMaxRateMb * 1024, progress("clone"));
            double clone = seconds(t);
            System.out.printf("round %d: %s diverged by %.1f MB; rewind %.2f s, clone %.2f s, ratio %.3f%n", round,
                    id(primary), divergence / 1048576.0, rewind, clone, rewind / clone);
            rewinds.add(rewind);
            clones.add(clone);
            nodes.get(primary).startAsStandby(upstream(standby));
            awaitStreaming(standby, primary);
            primary = standby;
        }
        double rewind = median(rewinds);
        double clone = median(clones);
        System.out.printf("RESULT scale=%d rounds=%d clone_max_rate_mb=%d rewind_s=%.2f clone_s=%.2f ratio=%.3f%n", scale,
                rounds, cloneMaxRateMb, rewind, clone, rewind / clone);
    }

    /** Commits pgbench transactions on the primary alone until its WAL grew by about {@code mb} MB. */
    private long diverge(int primary, WalPosition from, int mb) throws Exception {
        long target = (long) mb << 20;
        for (int batch = 0; batch < 200; batch++) {
            pgbench(primary, List.of("-n", "-c", "2", "-t", "200"));
            long grown = WalPosition.parse(query(primary, "SELECT pg_current_wal_lsn()::text")).bytesAfter(from);
            if (grown >= target) {
                return grown;
            }
        }
        throw new IllegalStateException("the primary's WAL did not grow by " + mb + " MB");
    }

    /** Neither timed step pays for writing back what the steps before it left dirty in the page cache. */
    private static void flushDirtyPages() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sync").inheritIO().start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("sync did not finish within 10 minutes");
        }
    }

    private void awaitCheckpointOnTimeline(int node, long timeline) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
        while (Long.parseLong(query(node, "SELECT timeline_id FROM pg_control_checkpoint()")) < timeline) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(id(node) + " did not checkpoint on timeline " + timeline + " in 600 s");
            }
            Thread.sleep(50);
        }
    }

    private void awaitStreaming(int upstream, int standby) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (nodes.get(upstream).observe().replicas().containsKey(id(standby))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException(id(standby) + " is not streaming from " + id(upstream) + " after 120 s");
    }

    private void pgbench(int node, List<String> args) throws IOException, InterruptedException {
        Path passfile = dir.resolve("bench.pgpass");
        if (!Files.exists(passfile)) {
            Files.createFile(passfile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(passfile, "*:*:*:" + PgCredentials.SUPERUSER + ":" + credentials.superuserPassword() + "\n");
        }
        List<String> command = new ArrayList<>(List.of(bin.tool("pgbench").toString(), "-h", hosts.get(node), "-p",
                Integer.toString(ports[node]), "-U", PgCredentials.SUPERUSER));
        command.addAll(args);
        command.add("postgres");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSFILE", passfile.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(1, TimeUnit.HOURS) || p.exitValue() != 0) {
            throw new IOException("pgbench " + args + " failed:\n" + out);
        }
    }

    private static PgRebuilds.Progress progress(String what) {
        long[] last = {0};
        return (done, total) -> {
            long now = System.nanoTime();
            if (now - last[0] > TimeUnit.SECONDS.toNanos(5)) {
                last[0] = now;
                System.out.printf("  %s: %d of %d MB%n", what, done >> 10, total >> 10);
            }
        };
    }

    private MemberId id(int i) {
        return MemberId.of("n" + (i + 1));
    }

    private PostgresSupervisor.Upstream upstream(int i) {
        return new PostgresSupervisor.Upstream(id(i), hosts.get(i), ports[i]);
    }

    private Connection connect(int i) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", PgCredentials.SUPERUSER);
        p.setProperty("password", credentials.superuserPassword());
        return DriverManager.getConnection("jdbc:postgresql://" + hosts.get(i) + ":" + ports[i] + "/postgres", p);
    }

    private String query(int i, String sql) throws SQLException {
        try (Connection c = connect(i); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void execute(int i, String sql) throws SQLException {
        try (Connection c = connect(i); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private void close() throws IOException {
        for (PostgresSupervisor pg : nodes) {
            pg.close();
        }
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }
}
