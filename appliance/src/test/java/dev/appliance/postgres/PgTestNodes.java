package dev.appliance.postgres;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;

/**
 * Real postgres nodes for tests, each on its own loopback address (127.0.0.{base+i}) and a free port, all
 * under one scratch directory that is removed afterwards. Tests that cannot run here (no PostgreSQL 15+
 * binaries, or root without a {@code postgres} user) are skipped with the reason printed.
 */
final class PgTestNodes implements AutoCloseable {
    static final String OS_USER = "postgres";

    final PgBinaries bin;
    final PgCredentials credentials = PgCredentials.generate();
    private final Path root;
    private final int base;
    private final int count;
    private final List<PostgresSupervisor> started = new ArrayList<>();
    private final PostgresSupervisor[] nodes;
    private final int[] ports;

    private PgTestNodes(PgBinaries bin, Path root, int base, int count) {
        this.bin = bin;
        this.root = root;
        this.base = base;
        this.count = count;
        this.nodes = new PostgresSupervisor[count];
        this.ports = new int[count];
    }

    /** {@code count} nodes on 127.0.0.{base+1}…; skips the calling test when postgres cannot run here. */
    static PgTestNodes create(int base, int count) throws IOException {
        PgBinaries bin;
        try {
            bin = PgBinaries.discover();
        } catch (IOException e) {
            System.out.println("SKIPPED: no PostgreSQL server programs: " + e.getMessage());
            assumeTrue(false, e.getMessage());
            throw e;
        }
        if (ProcessRunner.isRoot()) {
            ProcessRunner.Result id = ProcessRunner.run(null, List.of("id", "-u", OS_USER), Map.of(), null, 10, l -> { });
            if (!id.ok()) {
                String reason = "running as root, and there is no '" + OS_USER + "' user to run postgres as";
                System.out.println("SKIPPED: " + reason);
                assumeTrue(false, reason);
            }
        }
        Path root = Files.createTempDirectory(Path.of("/tmp"), "appliance-pg-");
        // The postgres user must be able to reach its directories below this one.
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new PgTestNodes(bin, root, base, count);
    }

    MemberId id(int i) {
        return MemberId.of("n" + (i + 1));
    }

    String host(int i) {
        return "127.0.0." + (base + i + 1);
    }

    Path nodeDir(int i) {
        return root.resolve(id(i).value());
    }

    /** The supervisor of node {@code i}, created on first use. */
    PostgresSupervisor node(int i) {
        if (nodes[i] == null) {
            try {
                nodes[i] = create(i);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            started.add(nodes[i]);
        }
        return nodes[i];
    }

    private PostgresSupervisor create(int i) throws IOException {
        ports[i] = freePort(host(i));
        List<String> peers = new ArrayList<>();
        for (int j = 0; j < count; j++) {
            peers.add(host(j));
        }
        PgNodeSettings settings = new PgNodeSettings(id(i), host(i), ports[i], OS_USER, 256L << 20, 1,
                Map.of("fsync", "off"), 256, peers, "127.0.0.0/8");
        return new PostgresSupervisor(bin, new PgLayout(nodeDir(i)), settings, credentials, Duration.ofSeconds(60));
    }

    PostgresSupervisor.Upstream upstream(int i) {
        node(i);
        return new PostgresSupervisor.Upstream(id(i), host(i), ports[i]);
    }

    int port(int i) {
        return ports[i];
    }

    /** A connection to node {@code i} as the appliance superuser (the tests' stand-in for a client). */
    Connection connect(int i) throws SQLException {
        return connectAs(i, PgCredentials.SUPERUSER, credentials.superuserPassword());
    }

    Connection connectAs(int i, String user, String password) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "120");
        return DriverManager.getConnection("jdbc:postgresql://" + host(i) + ":" + ports[i] + "/postgres", p);
    }

    /** Node 0 initialized and started as a primary requiring {@code sync}, then each of {@code standbys} cloned and streaming. */
    void primaryWithStandbys(java.util.Set<MemberId> sync, int... standbys) throws IOException {
        node(0).initialize();
        node(0).startAsPrimary(sync, false);
        java.util.Set<MemberId> downstream = new java.util.TreeSet<>();
        for (int s : standbys) {
            downstream.add(id(s));
        }
        node(0).ensureSlots(downstream);
        for (int s : standbys) {
            new PgRebuilds(node(s)).clone(upstream(0), 1, 0, (done, total) -> { });
            node(s).startAsStandby(upstream(0));
        }
        PostgresSupervisor primary = node(0);
        for (int s : standbys) {
            MemberId standby = id(s);
            await("standby " + standby + " streaming from " + id(0),
                    () -> primary.observe().replicas().containsKey(standby), Duration.ofSeconds(30));
        }
    }

    static void await(String what, BooleanSupplier condition, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting for " + what);
            }
        }
        fail("timed out after " + limit.toSeconds() + " s waiting for " + what);
    }

    private static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws IOException {
        for (PostgresSupervisor pg : started) {
            try {
                pg.stop();
            } catch (IOException | RuntimeException e) {
                pg.kill();
            }
        }
        PgRebuilds.deleteTree(root);
        assertTrue(!Files.exists(root));
    }
}
