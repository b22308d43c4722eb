package dev.appliance.harness;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client that commits one row at a time to whichever node the cluster names primary, as an application
 * would, and remembers every row whose commit was acknowledged and when. After faults, {@link #missing} tells
 * which acknowledged rows the current primary lacks: the promise is that there are none.
 */
public final class AckedWriter implements AutoCloseable {
    private final LocalCluster cluster;
    private final LocalCluster.AppDatabase app;
    private final NavigableMap<Long, Long> ackedAtNanos = new ConcurrentSkipListMap<>();
    private final Map<Long, String> ackedBy = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong failures = new AtomicLong();
    private final Thread thread;
    private volatile boolean stop;
    private volatile String lastError = "";

    private final int routePort;

    private AckedWriter(LocalCluster cluster, LocalCluster.AppDatabase app, int routePort) {
        this.cluster = cluster;
        this.app = app;
        this.routePort = routePort;
        this.thread = new Thread(this::run, "acked-writer");
        this.thread.setDaemon(true);
    }

    /** Creates the table (if needed) and starts writing. */
    public static AckedWriter start(LocalCluster cluster, LocalCluster.AppDatabase app) throws IOException, SQLException {
        try (Connection c = connectToPrimary(cluster, app); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
        }
        AckedWriter w = new AckedWriter(cluster, app, 0);
        w.thread.start();
        return w;
    }

    /**
     * A writer that connects as an application would through the leader route: one URL listing every node's
     * proxy on {@code routePort} (pgJDBC tries them in order, so a dead node is skipped), never asking who
     * is primary. Which node acknowledged a row is read from the session ({@code inet_server_addr}).
     */
    public static AckedWriter startThroughProxies(LocalCluster cluster, LocalCluster.AppDatabase app, int routePort)
            throws IOException, SQLException {
        try (Connection c = connectToPrimary(cluster, app); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS acked (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
        }
        AckedWriter w = new AckedWriter(cluster, app, routePort);
        w.thread.start();
        return w;
    }

    private Connection connectThroughProxies() throws SQLException {
        StringBuilder hosts = new StringBuilder();
        for (LocalCluster.NodeSpec n : cluster.nodes()) {
            hosts.append(hosts.length() == 0 ? "" : ",").append(n.host()).append(':').append(routePort);
        }
        java.util.Properties p = app.properties();
        p.setProperty("connectTimeout", "15");
        p.setProperty("loginTimeout", "20");
        return DriverManager.getConnection("jdbc:postgresql://" + hosts + "/" + app.database(), p);
    }

    private String servedBy(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT host(inet_server_addr())")) {
            rs.next();
            String host = rs.getString(1);
            return cluster.nodes().stream().filter(n -> n.host().equals(host)).map(n -> n.id().value()).findFirst()
                    .orElse(host);
        }
    }

    private void run() {
        long next = System.currentTimeMillis() * 1000;
        Connection c = null;
        String node = "";
        while (!stop) {
            try {
                if (c == null && routePort != 0) {
                    c = connectThroughProxies();
                    node = servedBy(c);
                } else if (c == null) {
                    node = cluster.status().path("primary").asText("");
                    c = connectTo(cluster, app, node);
                }
                long id = next++;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO acked (id) VALUES (?)")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                }
                ackedBy.put(id, node);
                ackedAtNanos.put(id, System.nanoTime());
            } catch (SQLException | IOException | RuntimeException e) {
                failures.incrementAndGet();
                lastError = e.getMessage();
                close(c);
                c = null;
                sleep(50);
            }
        }
        close(c);
    }

    static Connection connectToPrimary(LocalCluster cluster, LocalCluster.AppDatabase app) throws IOException, SQLException {
        JsonNode s = cluster.status();
        return connectTo(cluster, app, s.path("primary").asText(""));
    }

    private static Connection connectTo(LocalCluster cluster, LocalCluster.AppDatabase app, String primary)
            throws IOException, SQLException {
        if (primary.isEmpty()) {
            throw new IOException("no primary yet");
        }
        LocalCluster.NodeSpec node = cluster.node(MemberId.of(primary));
        return DriverManager.getConnection(app.jdbc(node), app.properties());
    }

    public int ackedCount() {
        return ackedAtNanos.size();
    }

    public Set<Long> acked() {
        return new TreeSet<>(ackedAtNanos.keySet());
    }

    /** When each acknowledged row was acknowledged ({@link System#nanoTime()}). */
    public Map<Long, Long> ackTimes() {
        return Map.copyOf(ackedAtNanos);
    }

    /** The first acknowledgement at or after {@code nanos} by a node other than {@code notBy}, if any yet. */
    public java.util.OptionalLong firstAckAfter(long nanos, String notBy) {
        return ackedAtNanos.entrySet().stream().filter(e -> e.getValue() >= nanos && !notBy.equals(ackedBy.get(e.getKey())))
                .mapToLong(Map.Entry::getValue).min();
    }

    public long failures() {
        return failures.get();
    }

    public String lastError() {
        return lastError;
    }

    /** Waits until at least {@code n} more rows than now are acknowledged. */
    public void awaitMore(int n, Duration limit) throws InterruptedException, IOException {
        int target = ackedCount() + n;
        long deadline = System.nanoTime() + limit.toNanos();
        while (ackedCount() < target) {
            if (System.nanoTime() > deadline) {
                throw new IOException("only " + ackedCount() + " of " + target + " rows acknowledged within "
                        + limit.toSeconds() + " s (last error: " + lastError + ")");
            }
            Thread.sleep(20);
        }
    }

    /** The acknowledged rows the current primary does not have. */
    public Set<Long> missing() throws IOException, SQLException, InterruptedException {
        Set<Long> expected = acked();
        Set<Long> present = new TreeSet<>();
        // The nodes' views of who is primary settle within moments of a change: retry a refused connection.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Connection c = connectToPrimary(cluster, app); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id FROM acked")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
                break;
            } catch (SQLException | IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
        expected.removeAll(present);
        return expected;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(TimeUnit.SECONDS.toMillis(30));
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
