package dev.appliance.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.WalPosition;
import dev.appliance.peer.MemberStatus;
import dev.appliance.peer.PgObservation;
import dev.appliance.peer.PgState;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StatusCodecTest {
    @Test
    void aStatusSurvivesTheSessionPayload() throws Exception {
        PgObservation pg = PgObservation.builder(PgState.PRIMARY).writable(true).timeline(3)
                .current(WalPosition.parse("0/5000100")).flush(WalPosition.parse("0/5000100"))
                .replay(WalPosition.parse("0/5000100")).servingSince(WalPosition.parse("0/4000000"))
                .syncRequired(Set.of(MemberId.of("n2"))).replicas(Map.of(MemberId.of("n2"), WalPosition.parse("0/50000F0")))
                .rebuiltForGeneration(2).cleanShutdownAt(null).build();
        MemberStatus s = new MemberStatus(pg, 7, true, false);
        String payload = StatusCodec.encode(s, new StatusCodec.NodeFacts(11, 22, "/etc/appliance.conf"));
        assertEquals(s, StatusCodec.decode(payload));
        assertEquals(new StatusCodec.NodeFacts(11, 22, "/etc/appliance.conf"), StatusCodec.facts(payload).orElseThrow());
        PgObservation standby = PgObservation.standby(MemberId.of("n1"), WalPosition.parse("0/10"), WalPosition.parse("0/8"));
        assertEquals(standby, StatusCodec.decode(StatusCodec.encode(new MemberStatus(standby, 1, false, true),
                new StatusCodec.NodeFacts(1, 0, ""))).pg());
        PgObservation stuck = standby.toBuilder().streaming(false).upstreamLacksWal(true).rebuildRequested(true)
                .pristine(true).diverged(true).rewindFailed(true).build();
        assertEquals(stuck, StatusCodec.decode(StatusCodec.encode(new MemberStatus(stuck, 1, false, true),
                new StatusCodec.NodeFacts(1, 0, ""))).pg(), "every flag survives");
    }

    @Test
    void anUnreadablePayloadIsReportedNotHalfRead() {
        assertThrows(IOException.class, () -> StatusCodec.decode("not json"));
        assertThrows(IOException.class, () -> StatusCodec.decode("{\"schema\": 99, \"pg\": {}}"));
        assertThrows(IOException.class, () -> StatusCodec.decode("{\"schema\": 1, \"pg\": {\"state\": \"PRIMARY\"}}"));
    }
}
