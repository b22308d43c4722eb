package dev.appliance.harness;

import dev.appliance.api.ApiClient;
import dev.appliance.consensus.state.MemberId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code bench/failover}: a 3-node cluster of real daemons on 127.0.0.61-63 at the default settings, with a
 * client committing one row at a time through the leader route (a URL naming every node's proxy), or with
 * {@code --direct} to the primary's own postgres.
 * <ul>
 *   <li>Unplanned: SIGKILL of the primary's daemon (its postgres dies with it), at offsets spread across the
 *       heartbeat period; measured from the kill to the first write acknowledged afterwards. The killed node is
 *       restarted and must rejoin before the next run.</li>
 *   <li>Planned: a switchover through the API; the client-visible write pause is the longest gap between two
 *       acknowledgements around it.</li>
 *   <li>After every run, every acknowledged row must be on the primary.</li>
 * </ul>
 * The last line is {@code RESULT ...}.
 */
public final class FailoverBench {
    private FailoverBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = 10;
        int switchovers = 5;
        boolean keepLogs = false;
        boolean direct = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--keep-logs": keepLogs = true; break;
                case "--direct": direct = true; break;
                case "--runs": runs = Integer.parseInt(args[++i]); break;
                case "--switchovers": switchovers = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: FailoverBench [--runs N (10)] [--switchovers N (5)] [--direct] [--keep-logs]");
                    System.exit(2);
            }
        }
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "failover-bench-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        System.out.println("failover: 3 daemons on 127.0.0.61-63, default settings; " + runs + " SIGKILLs of the primary, "
                + switchovers + " switchovers; logs in " + dir);
        LocalCluster cluster = LocalCluster.in(dir, 3, 61, Map.of());
        boolean ok = false;
        try {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofMinutes(5), line -> System.out.println("  " + line));
            // As an application would: through the leader route, listing every node's proxy (--direct: to the
            // primary's own postgres, found by asking the cluster).
            AckedWriter writer = direct ? AckedWriter.start(cluster, cluster.appDatabase())
                    : AckedWriter.startThroughProxies(cluster, cluster.appDatabase(), cluster.leaderRoute());
            System.out.println("the client writes " + (direct ? "to the primary's postgres directly"
                    : "through the leader route (every node's proxy in one URL)"));
            writer.awaitMore(100, Duration.ofSeconds(60));
            List<Double> failovers = new ArrayList<>();
            long lost = 0;
            for (int run = 1; run <= runs; run++) {
                String primary = cluster.status().path("primary").asText();
                // Spread the kill across the 500 ms heartbeat: the daemons' phase is unknown, so step the offset.
                Thread.sleep(1000 + (run - 1) % 10 * 50L);
                long killedAt = System.nanoTime();
                cluster.kill(MemberId.of(primary));
                long acked = awaitAckAfter(writer, killedAt, primary, Duration.ofSeconds(60));
                double ms = (acked - killedAt) / 1e6;
                failovers.add(ms);
                Set<Long> missing = writer.missing();
                lost += missing.size();
                System.out.printf("run %d: killed %s at %s; first write acknowledged after %.0f ms on %s; lost %d%n", run,
                        primary, java.time.Instant.now().minusNanos(System.nanoTime() - killedAt), ms,
                        cluster.status().path("primary").asText(), missing.size());
                cluster.start(MemberId.of(primary));
                cluster.awaitHealthy(Duration.ofMinutes(3), line -> { });
                writer.awaitMore(50, Duration.ofSeconds(60));
            }
            List<Double> pauses = new ArrayList<>();
            for (int run = 1; run <= switchovers; run++) {
                String primary = cluster.status().path("primary").asText();
                Thread.sleep(1000);
                long askedAt = System.nanoTime();
                ApiClient.Answer a = cluster.api().post("/switchover", ApiClient.JSON.createObjectNode());
                if (!a.ok()) {
                    throw new IllegalStateException("switchover refused: " + a.error());
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                String now = primary;
                while (System.nanoTime() < deadline) {
                    var st = cluster.status();
                    now = st.path("primary").asText();
                    boolean underWay = st.hasNonNull("switchover");
                    if (!underWay && !primary.equals(now)) {
                        break;
                    }
                    Thread.sleep(50);
                }
                if (primary.equals(now)) {
                    throw new IllegalStateException("switchover " + run + " from " + primary + " did not complete");
                }
                writer.awaitMore(100, Duration.ofSeconds(60));
                double pause = longestGap(writer, askedAt - Duration.ofSeconds(1).toNanos(), System.nanoTime()) / 1e6;
                pauses.add(pause);
                Set<Long> missing = writer.missing();
                lost += missing.size();
                System.out.printf("switchover %d: %s -> %s; longest write pause %.0f ms; lost %d%n", run, primary, now,
                        pause, missing.size());
                cluster.awaitHealthy(Duration.ofMinutes(3), line -> { });
            }
            writer.close();
            System.out.printf("RESULT runs=%d failover_median_ms=%.0f failover_max_ms=%.0f switchovers=%d "
                            + "switchover_pause_median_ms=%.0f switchover_pause_max_ms=%.0f acked=%d lost=%d%n",
                    runs, median(failovers), Collections.max(failovers), switchovers, median(pauses),
                    pauses.isEmpty() ? 0 : Collections.max(pauses), writer.ackedCount(), lost);
            ok = true;
        } finally {
            cluster.close();
            if (ok && !keepLogs) {
                try (var files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }

    private static long awaitAckAfter(AckedWriter writer, long nanos, String killed, Duration limit)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            var at = writer.firstAckAfter(nanos, killed);
            if (at.isPresent()) {
                return at.getAsLong();
            }
            Thread.sleep(5);
        }
        throw new IllegalStateException("no write acknowledged within " + limit.toSeconds() + " s of the kill (last error: "
                + writer.lastError() + ")");
    }

    /** The longest time between two consecutive acknowledgements within [from, to]. */
    static long longestGap(AckedWriter writer, long from, long to) {
        List<Long> times = new ArrayList<>(new TreeMap<>(writer.ackTimes()).values());
        Collections.sort(times);
        long longest = 0;
        Long previous = null;
        for (long t : times) {
            if (t < from || t > to) {
                continue;
            }
            if (previous != null) {
                longest = Math.max(longest, t - previous);
            }
            previous = t;
        }
        return longest;
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
