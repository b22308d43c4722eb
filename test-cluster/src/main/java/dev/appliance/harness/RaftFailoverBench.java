package dev.appliance.harness;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.store.Command;
import dev.appliance.consensus.store.StoreClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench/raft-failover}: three store nodes as separate JVMs on 127.0.0.31-33 at the default timeouts
 * (elections 500-1000 ms). It measures compare-and-set latency, the RSS of one node, and, over several runs,
 * the time from SIGKILL of the leader to a new leader and to the first write committed after the kill. The
 * killed node is restarted, caught up and warmed up before the next run.
 * The last line is {@code RESULT ...}.
 */
public final class RaftFailoverBench {
    private RaftFailoverBench() {
    }

    public static void main(String[] args) throws Exception {
        int runs = 10;
        int casWrites = 500;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs": runs = Integer.parseInt(args[++i]); break;
                case "--cas-writes": casWrites = Integer.parseInt(args[++i]); break;
                default:
                    System.err.println("usage: RaftFailoverBench [--runs N] [--cas-writes N]");
                    System.exit(2);
            }
        }
        Path dir = Files.createTempDirectory("raft-failover");
        System.out.println("raft-failover: 3 nodes as separate JVMs, " + runs + " SIGKILLs of the leader; logs in " + dir);
        try (StoreProcesses c = StoreProcesses.start("bench", dir, 31, 3, Map.of());
                StoreClient probe = c.client(); StoreClient writer = c.client()) {
            c.awaitLeader(probe, Duration.ofSeconds(60));
            List<Double> cas = casLatencies(writer, casWrites);
            MemberId leader = c.awaitLeader(probe, Duration.ofSeconds(60));
            MemberId follower = c.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            long rssKib = c.node(follower).rssKib();
            System.out.printf("cas: %d sequential writes, p50 %.1f ms, p99 %.1f ms; RSS of %s: %d MiB%n", cas.size(),
                    percentile(cas, 50), percentile(cas, 99), follower, rssKib / 1024);
            List<Double> toLeader = new ArrayList<>();
            List<Double> toWrite = new ArrayList<>();
            for (int run = 1; run <= runs; run++) {
                double[] r = failover(c, probe, writer, run);
                toLeader.add(r[0]);
                toWrite.add(r[1]);
            }
            System.out.printf("RESULT runs=%d new_leader_median_ms=%.0f new_leader_max_ms=%.0f first_write_median_ms=%.0f "
                            + "first_write_max_ms=%.0f cas_p50_ms=%.1f cas_p99_ms=%.1f rss_mib=%d%n", runs,
                    percentile(toLeader, 50), Collections.max(toLeader), percentile(toWrite, 50), Collections.max(toWrite),
                    percentile(cas, 50), percentile(cas, 99), rssKib / 1024);
        }
    }

    private static List<Double> casLatencies(StoreClient writer, int n) throws IOException {
        long version = 0;
        for (int i = 0; i < 50; i++) {
            version = writer.put(new Command.Put("bench/cas", version, "warm " + i, List.of(), "bench", "")).version();
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            version = writer.put(new Command.Put("bench/cas", version, "v" + i, List.of(), "bench", "")).version();
            out.add((System.nanoTime() - t) / 1e6);
        }
        return out;
    }

    /** Kills the leader while a writer commits in a loop; returns ms to a new leader and to the first new commit. */
    private static double[] failover(StoreProcesses c, StoreClient probe, StoreClient writer, int run) throws Exception {
        MemberId leader = c.awaitLeader(probe, Duration.ofSeconds(60));
        writer.put(new Command.Put("bench/run", -1, "before " + run, List.of(), "bench", ""));
        Thread.sleep(2000);
        AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstCommitAt = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writing = new Thread(() -> {
            int i = 0;
            while (!stop.get() && firstCommitAt.get() == 0) {
                long started = System.nanoTime();
                try {
                    writer.put(new Command.Put("bench/run", -1, "run " + run + " write " + i++, List.of(), "bench", ""));
                    if (started > killedAt.get()) {
                        firstCommitAt.compareAndSet(0, System.nanoTime());
                    }
                } catch (IOException e) {
                    // a write that failed during the failover; the next one is tried at once
                }
            }
        }, "writer");
        writing.start();
        Thread.sleep(200);
        killedAt.set(System.nanoTime());
        c.node(leader).kill();
        long newLeaderAt = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && newLeaderAt == 0) {
            if (probe.leader().filter(l -> !l.equals(leader)).isPresent()) {
                newLeaderAt = System.nanoTime();
            } else {
                Thread.sleep(20);
            }
        }
        writing.join(60_000);
        stop.set(true);
        if (newLeaderAt == 0 || firstCommitAt.get() == 0) {
            throw new IllegalStateException("run " + run + ": no new leader or no commit within 60 s");
        }
        double toLeader = (newLeaderAt - killedAt.get()) / 1e6;
        double toWrite = (firstCommitAt.get() - killedAt.get()) / 1e6;
        System.out.printf("run %2d: killed leader %s; new leader after %.0f ms, first commit after %.0f ms%n", run, leader,
                toLeader, toWrite);
        c.restart(leader);
        c.awaitSessions(probe, c.ids(), Duration.ofSeconds(60));
        warmUp(c, writer, leader);
        return new double[] {toLeader, toWrite};
    }

    /**
     * Before the next kill, the restarted node must have caught up and warmed up: a cold JVM answers votes
     * slowly and a node behind cannot win, which would measure the restart, not the failover.
     */
    private static void warmUp(StoreProcesses c, StoreClient writer, MemberId restarted) throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (System.nanoTime() < until) {
            writer.put(new Command.Put("bench/warm", -1, "warm", List.of(), "bench", ""));
            Thread.sleep(50);
        }
        String[] status = c.node(restarted).status();
        if (status.length < 5 || !"true".equals(status[3])) {
            throw new IllegalStateException(restarted + " has not rejoined after its restart: " + String.join(" ", status));
        }
    }

    static double percentile(List<Double> values, int p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}
