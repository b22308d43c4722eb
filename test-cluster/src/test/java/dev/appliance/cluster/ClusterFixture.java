package dev.appliance.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.harness.AckedWriter;
import dev.appliance.harness.LocalCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * A real cluster of daemon processes for a test class, on its own block of 127.0.0.x addresses, in a scratch
 * directory removed afterwards (kept, with its logs, when a test failed). Skips, with the reason printed,
 * where PostgreSQL cannot run.
 */
final class ClusterFixture implements AutoCloseable {
    final LocalCluster cluster;
    final Path dir;
    private boolean failed;

    private ClusterFixture(LocalCluster cluster, Path dir) {
        this.cluster = cluster;
        this.dir = dir;
    }

    static ClusterFixture start(int nodes, int firstOctet, Map<String, String> settings) throws Exception {
        return start(nodes, firstOctet, settings, c -> { });
    }

    static ClusterFixture start(int nodes, int firstOctet, Map<String, String> settings,
            java.util.function.Consumer<LocalCluster> beforeStart) throws Exception {
        skipUnlessPostgresRuns();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "appliance-it-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        LocalCluster cluster = LocalCluster.in(dir, nodes, firstOctet, settings);
        beforeStart.accept(cluster);
        ClusterFixture f = new ClusterFixture(cluster, dir);
        cluster.startAll();
        cluster.awaitHealthy(Duration.ofMinutes(3), line -> System.out.println("  " + line));
        return f;
    }

    static void skipUnlessPostgresRuns() throws Exception {
        String why = LocalCluster.whyPostgresCannotRun();
        if (why != null) {
            System.out.println("SKIPPED: a cluster test: " + why);
        }
        assumeTrue(why == null, why);
    }

    JsonNode status() throws IOException {
        return cluster.status();
    }

    String primary() throws IOException {
        return status().path("primary").asText();
    }

    String sync() throws IOException {
        return status().path("sync").asText();
    }

    List<String> asyncs() throws IOException {
        List<String> out = new ArrayList<>();
        status().path("asyncs").forEach(a -> out.add(a.asText()));
        return out;
    }

    long generation() throws IOException {
        return status().path("generation").asLong();
    }

    JsonNode member(String id) throws IOException {
        for (JsonNode m : status().path("members")) {
            if (m.path("id").asText().equals(id)) {
                return m;
            }
        }
        throw new IOException("no member " + id + " in " + status());
    }

    ApiClient.Answer post(String path, String json) throws IOException {
        return cluster.api().post(path, ApiClient.JSON.readTree(json));
    }

    /** Every row {@code writer} got acknowledged is on the current primary. */
    static void assertNothingLost(AckedWriter writer) throws Exception {
        java.util.Set<Long> missing = writer.missing();
        assertTrue(missing.isEmpty(), "acknowledged rows missing on the primary: " + missing);
    }

    /** Lets {@code writer} get {@code more} rows acknowledged, stops it, and checks that none is lost. */
    static void finishWithNothingLost(AckedWriter writer, int more, Duration limit) throws Exception {
        writer.awaitMore(more, limit);
        writer.close();
        assertNothingLost(writer);
    }

    static MemberId id(String v) {
        return MemberId.of(v);
    }

    /** Waits for {@code condition}, which may throw while the cluster is in flux. */
    static void await(String what, Duration limit, Callable<Boolean> condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(200);
        }
        fail("timed out after " + limit.toSeconds() + " s waiting for " + what + (last == null ? "" : " (" + last + ")"));
    }

    /** Like {@link #await}, and on timeout the message carries every node's view: what the cluster looked like. */
    void awaitCluster(String what, Duration limit, Callable<Boolean> condition) throws InterruptedException {
        try {
            await(what, limit, condition);
        } catch (AssertionError e) {
            StringBuilder views = new StringBuilder(e.getMessage()).append("\n");
            for (LocalCluster.NodeSpec n : cluster.nodes()) {
                try {
                    ApiClient one = new ApiClient(List.of(n.api()), cluster.token().orElse(""));
                    views.append(n.id()).append(" /status: ").append(one.get("/status").body()).append("\n");
                } catch (IOException | RuntimeException io) {
                    views.append(n.id()).append(": ").append(io.getMessage()).append("\n");
                }
            }
            throw new AssertionError(views.toString(), e);
        }
    }

    void markFailed() {
        failed = true;
    }

    @Override
    public void close() throws Exception {
        cluster.close();
        if (failed) {
            System.out.println("the failed cluster's logs are kept in " + dir + "/n*/daemon.log");
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
