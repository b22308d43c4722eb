package dev.appliance.cluster;

import static dev.appliance.cluster.ClusterFixture.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.api.ApiClient;
import dev.appliance.harness.LocalCluster;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The leader route on real daemons and postgres: every proxy reaches the primary, through a failover too. */
class ProxyClusterTest {
    @Test
    void theLeaderRouteReachesThePrimaryFromEveryNodeFollowsAFailoverAndCancelsWork() throws Exception {
        try (ClusterFixture f = ClusterFixture.start(3, 85, Map.of())) {
            try {
                LocalCluster.AppDatabase app = f.cluster.appDatabase();
                int port = f.cluster.leaderRoute();
                String primary = f.primary();
                String primaryHost = f.cluster.node(id(primary)).host();
                for (LocalCluster.NodeSpec n : f.cluster.nodes()) {
                    try (Connection c = connect(app, n, port); Statement st = c.createStatement()) {
                        assertEquals(primaryHost, serverAddress(st), "through " + n.id() + "'s proxy");
                        st.execute("CREATE TABLE IF NOT EXISTS via_proxy (node text)");
                        st.execute("INSERT INTO via_proxy VALUES ('" + n.id() + "')");
                    }
                }

                // A cancel request goes through the proxy (on its own connection) to the backend that runs the query.
                LocalCluster.NodeSpec replica = f.cluster.node(id(f.sync()));
                try (Connection c = connect(app, replica, port); Statement st = c.createStatement()) {
                    CompletableFuture<SQLException> sleeping = CompletableFuture.supplyAsync(() -> {
                        try {
                            st.execute("SELECT pg_sleep(30)");
                            return null;
                        } catch (SQLException e) {
                            return e;
                        }
                    });
                    Thread.sleep(500);
                    st.cancel();
                    SQLException e = sleeping.get(10, TimeUnit.SECONDS);
                    assertEquals("57014", e == null ? null : e.getSQLState(), "the query must be canceled");
                    assertEquals(primaryHost, serverAddress(st), "the session survives a cancel");
                }

                // Failover: a connection to the old primary ends; one opened meanwhile is held and reaches the new one.
                LocalCluster.NodeSpec survivor = f.cluster.node(id(f.asyncs().get(0)));
                String sync = f.sync();
                Connection old = connect(app, survivor, port);
                f.cluster.kill(id(primary));
                long killedAt = System.nanoTime();
                try (Connection during = connect(app, survivor, port); Statement st = during.createStatement()) {
                    assertEquals(f.cluster.node(id(sync)).host(), serverAddress(st), "the new primary is the old sync");
                    st.execute("INSERT INTO via_proxy VALUES ('after failover')");
                }
                System.out.printf("a connection opened right after the kill reached the new primary %d ms later%n",
                        (System.nanoTime() - killedAt) / 1_000_000);
                assertThrows(SQLException.class, () -> {
                    try (Statement st = old.createStatement()) {
                        st.execute("SELECT 1");
                    }
                }, "the connection to the deposed primary must be closed");
                old.close();
                String metrics = scrape(survivor);
                assertTrue(metrics.contains("appliance_proxy_route_switches_total"), "the proxy's metrics are exported");

                // Removing the route closes its port on every node.
                ApiClient.Answer removed = f.cluster.api().delete("/routes/postgres");
                assertTrue(removed.ok(), () -> removed.error());
                ClusterFixture.await("the route's port closing everywhere", Duration.ofSeconds(10), () -> {
                    for (LocalCluster.NodeSpec n : f.cluster.nodes()) {
                        if (!n.id().value().equals(primary)) {
                            try (Socket s = new Socket()) {
                                s.connect(new InetSocketAddress(n.host(), port), 1000);
                                return false;
                            } catch (java.io.IOException refused) {
                                // closed
                            }
                        }
                    }
                    return true;
                });
            } catch (AssertionError | Exception e) {
                f.markFailed();
                throw e;
            }
        }
    }

    static Connection connect(LocalCluster.AppDatabase app, LocalCluster.NodeSpec through, int port) throws SQLException {
        Properties p = app.properties();
        p.setProperty("connectTimeout", "15");
        p.setProperty("loginTimeout", "20");
        return DriverManager.getConnection(app.jdbc(through, port), p);
    }

    static String serverAddress(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT host(inet_server_addr())")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String scrape(LocalCluster.NodeSpec n) throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create(n.api() + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.body();
    }
}
