package dev.appliance.cluster;

import static dev.appliance.cluster.ClusterFixture.id;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import dev.appliance.harness.AckedWriter;
import dev.appliance.harness.LocalCluster;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Membership for schedulers, online and under writes (127.0.0.121-124): a fourth node joins as a voter and
 * becomes a streaming async; a dead node is removed and replaced by a new one of the same id on a fresh volume,
 * this time as a non-voting member; nothing acknowledged is lost.
 */
class MembershipTest {
    private static final Duration LIMIT = Duration.ofSeconds(90);

    @Test
    void aNodeJoinsOnlineAndADeadOneIsReplacedOnAFreshVolume() throws Exception {
        try (ClusterFixture f = ClusterFixture.start(3, 121, Map.of())) {
            try {
                LocalCluster.AppDatabase app = f.cluster.appDatabase();
                AckedWriter writer = AckedWriter.start(f.cluster, app);
                ApiClient api = f.cluster.api();

                // A new node: started first (it waits to be given the group), then added.
                LocalCluster.NodeSpec n4 = f.cluster.addNode(Map.of());
                f.cluster.start(n4.id());
                JsonNode refused = api.post("/members", ApiClient.JSON.createObjectNode().put("id", "n4")).body();
                assertEquals("host", refused.path("field").asText(), refused.toString());
                ApiClient.Answer added = api.post("/members", ApiClient.JSON.createObjectNode().put("id", "n4")
                        .put("host", n4.host()).put("raftPort", 7000));
                assertEquals(201, added.status(), added.body().toString());
                f.awaitCluster("n4 a healthy async", LIMIT, () -> f.asyncs().contains("n4")
                        && f.member("n4").path("healthy").asBoolean());
                JsonNode members = api.get("/members").body();
                assertEquals(4, members.path("voters").size(), members.toString());
                assertEquals(409, api.post("/members", ApiClient.JSON.createObjectNode().put("id", "n4")
                        .put("host", n4.host())).status(), "n4 is a member already");
                writer.awaitMore(20, LIMIT);

                // A dead async is replaced: stopped, removed, its volume wiped, and a new n3 joins as a listener.
                String victim = f.asyncs().stream().filter(a -> !a.equals("n4")).findFirst().orElse("n4");
                f.cluster.kill(id(victim));
                ApiClient.Answer removed = null;
                long deadline = System.nanoTime() + LIMIT.toNanos();
                while (System.nanoTime() < deadline) {
                    removed = f.cluster.api().delete("/members/" + victim);    // refused until its session expires
                    if (removed.ok()) {
                        break;
                    }
                    Thread.sleep(500);
                }
                assertTrue(removed != null && removed.ok(), "removing " + victim + ": " + removed);
                f.cluster.freshVolume(id(victim), Map.of());
                f.cluster.start(id(victim));
                LocalCluster.NodeSpec v = f.cluster.node(id(victim));
                ApiClient.Answer back = f.cluster.api().post("/members", ApiClient.JSON.createObjectNode().put("id", victim)
                        .put("host", v.host()).put("voting", false));
                assertEquals(201, back.status(), back.body().toString());
                f.awaitCluster(victim + " back, cloned afresh, as a healthy replica", LIMIT, () ->
                        f.member(victim).path("healthy").asBoolean());
                members = f.cluster.api().get("/members").body();
                assertTrue(members.path("listeners").has(victim), members.toString());
                assertEquals(3, members.path("voters").size(), members.toString());

                ClusterFixture.finishWithNothingLost(writer, 20, LIMIT);
            } catch (Throwable t) {
                f.markFailed();
                throw t;
            }
        }
    }
}
