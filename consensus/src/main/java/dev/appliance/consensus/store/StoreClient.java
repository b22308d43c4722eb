package dev.appliance.consensus.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.Versioned;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * A client of the store that runs no server of its own: for tools, tests and benchmarks that write to and
 * read from a cluster from outside it. Calls block; each is bounded by its attempts (one request timeout
 * each), so by about the deadline given.
 */
public final class StoreClient implements AutoCloseable {
    private final RaftGroupId groupId;
    private final RaftGroup group;
    private final RaftClient client;
    private final Map<MemberId, RaftClient> probes = new java.util.TreeMap<>();

    public StoreClient(String clusterName, Map<MemberId, String> peers, Duration requestTimeout, Duration deadline) {
        this.groupId = RaftStore.groupIdOf(clusterName);
        List<RaftPeer> list = new ArrayList<>();
        peers.forEach((id, address) -> list.add(RaftPeer.newBuilder().setId(id.value()).setAddress(address).build()));
        this.group = RaftGroup.valueOf(groupId, list);
        long perAttempt = requestTimeout.toMillis() + 50;
        this.client = build(group, requestTimeout, (int) Math.max(3, deadline.toMillis() / perAttempt));
        for (RaftPeer p : list) {
            probes.put(MemberId.of(p.getId().toString()), build(group, requestTimeout, 1));
        }
    }

    private static RaftClient build(RaftGroup group, Duration requestTimeout, int attempts) {
        RaftProperties p = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(requestTimeout.toMillis(), TimeUnit.MILLISECONDS));
        return RaftClient.newBuilder().setProperties(p).setRaftGroup(group)
                .setRetryPolicy(attempts <= 1 ? RetryPolicies.noRetry()
                        : RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts, TimeDuration.valueOf(50, TimeUnit.MILLISECONDS)))
                .build();
    }

    public WriteResult put(Command.Put put) throws IOException {
        RaftClientReply reply = checked(client.io().send(Message.valueOf(ByteString.copyFrom(Commands.encode(put)))));
        return StoreStateMachine.decodeResult(reply.getMessage().getContent().toByteArray());
    }

    public Optional<Versioned<String>> read(String key) throws IOException {
        ObjectNode q = DocumentStore.JSON.createObjectNode().put("get", key);
        RaftClientReply reply = checked(client.io().sendReadOnly(Message.valueOf(q.toString())));
        JsonNode doc = DocumentStore.JSON.readTree(reply.getMessage().getContent().toByteArray()).get("document");
        return doc == null ? Optional.empty()
                : Optional.of(new Versioned<>(doc.get("version").asLong(), doc.get("value").asText()));
    }

    /** The members holding a live session, with what each published (a linearizable read). */
    public Map<MemberId, String> sessions() throws IOException {
        ObjectNode q = DocumentStore.JSON.createObjectNode().put("sessions", true);
        RaftClientReply reply = checked(client.io().sendReadOnly(Message.valueOf(q.toString())));
        Map<MemberId, String> out = new java.util.TreeMap<>();
        for (JsonNode s : DocumentStore.JSON.readTree(reply.getMessage().getContent().toByteArray()).get("sessions")) {
            out.put(MemberId.of(s.get("member").asText()), s.get("payload").asText());
        }
        return out;
    }

    /** The member that reports itself leader, asking each directly (no retries). */
    public Optional<MemberId> leader() {
        for (Map.Entry<MemberId, RaftClient> e : probes.entrySet()) {
            try {
                GroupInfoReply info = e.getValue().getGroupManagementApi(RaftPeerId.valueOf(e.getKey().value())).info(groupId);
                if (info.isSuccess() && info.getRoleInfoProto().getRole() == RaftPeerRole.LEADER
                        && info.isRaftStorageHealthy()) {
                    return Optional.of(e.getKey());
                }
            } catch (IOException | RuntimeException ignored) {
                // a dead or unreachable member simply is not the leader
            }
        }
        return Optional.empty();
    }

    private static RaftClientReply checked(RaftClientReply reply) throws IOException {
        if (!reply.isSuccess()) {
            throw new IOException("the store refused the request: " + reply.getException());
        }
        return reply;
    }

    @Override
    public void close() {
        try {
            client.close();
            for (RaftClient p : probes.values()) {
                p.close();
            }
        } catch (IOException ignored) {
            // closing clients of a cluster that may be gone
        }
    }
}
