package dev.appliance.consensus.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.appliance.consensus.state.ClusterState;
import dev.appliance.consensus.state.InvalidDocumentException;
import dev.appliance.consensus.state.Member;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterDocumentsTest {
    private static final MemberId N1 = MemberId.of("n1");
    private static final MemberId N2 = MemberId.of("n2");
    private final DocumentStore store = new DocumentStore();
    private long index;

    private WriteResult apply(Command c) {
        return store.apply(++index, 0, c).result();
    }

    @Test
    void theClusterStateIsWrittenByCompareAndSetAndReadTyped() throws Exception {
        ClusterState first = ClusterState.initial(N1, N2, List.of(), WalPosition.of(40));
        assertTrue(ClusterDocuments.clusterState(store).isEmpty());
        assertTrue(apply(ClusterDocuments.writeClusterState(0, first, List.of(), "n1", "bootstrap")).ok());
        assertEquals(first, ClusterDocuments.clusterState(store).orElseThrow().value());
        ClusterState next = first.toBuilder().nextGeneration(WalPosition.of(90)).primary(N2).sync(null).build();
        assertEquals(WriteResult.Status.VERSION_CONFLICT,
                apply(ClusterDocuments.writeClusterState(0, next, List.of(), "n2", "takeover")).status());
        assertTrue(apply(ClusterDocuments.writeClusterState(1, next, List.of(), "n2", "takeover")).ok());
        assertEquals(2, ClusterDocuments.clusterState(store).orElseThrow().value().generation());
    }

    @Test
    void aStoredStateThatIsNotValidIsRefusedWhenRead() {
        apply(new Command.Put(ClusterDocuments.CLUSTER_STATE, 0, "{\"kind\":\"cluster-state\",\"schema\":1}", List.of(), "", ""));
        assertThrows(InvalidDocumentException.class, () -> ClusterDocuments.clusterState(store));
    }

    @Test
    void theMemberRegistryHoldsOneRecordPerMember() throws Exception {
        Member m1 = new Member(N1, "127.0.0.11", 7001, 5432, 6432, 8008, "a", Map.of());
        Member m2 = new Member(N2, "127.0.0.12", 7001, 5432, 6432, 8008, "b", Map.of());
        apply(ClusterDocuments.writeMember(m1, "n1", "registered"));
        apply(ClusterDocuments.writeMember(m2, "n2", "registered"));
        assertEquals(List.of(N1, N2), List.copyOf(ClusterDocuments.members(store).keySet()));
        apply(ClusterDocuments.removeMember(N1, "operator", "node remove"));
        assertEquals(List.of(N2), List.copyOf(ClusterDocuments.members(store).keySet()));
        apply(new Command.Put(ClusterDocuments.MEMBERS + "n3", -1,
                new String(dev.appliance.consensus.state.DocumentCodec.MEMBER.encode(m2)), List.of(), "", ""));
        assertThrows(InvalidDocumentException.class, () -> ClusterDocuments.members(store));
    }
}
