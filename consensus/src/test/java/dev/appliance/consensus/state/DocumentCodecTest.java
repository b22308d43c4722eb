package dev.appliance.consensus.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class DocumentCodecTest {
    private static final DocumentCodec<ClusterState> CODEC = DocumentCodec.CLUSTER_STATE;

    private static final String VALID = """
            {"kind":"cluster-state","schema":1,"generation":3,"primary":"n2","sync":"n3","asyncs":["n4"],
             "deposed":[{"id":"n1","generation":3}],"initWal":"0/3000148",
             "frozen":{"reason":"maintenance","at":"2026-11-22T10:00:00Z"},"singleton":false,
             "switchover":null}""";

    @Test
    void roundTripsEveryField() throws Exception {
        ClusterState s = new ClusterState(3, MemberId.of("n2"), MemberId.of("n3"), List.of(MemberId.of("n4")),
                List.of(new DeposedMember(MemberId.of("n1"), 3)), WalPosition.parse("0/3000148"),
                new Freeze("maintenance", Instant.parse("2026-11-22T10:00:00Z")), false,
                new SwitchoverRequest(MemberId.of("n3"), Instant.parse("2026-11-22T10:01:00Z"), "cli"));
        assertEquals(s, CODEC.decode(CODEC.encode(s)));
    }

    @Test
    void writesAStableSchemaWithKindAndVersionFirst() {
        String json = CODEC.encodeToString(ClusterState.initial(MemberId.of("n1"), MemberId.of("n2"), List.of(),
                WalPosition.ZERO));
        assertEquals("{\"kind\":\"cluster-state\",\"schema\":1,\"generation\":1,\"primary\":\"n1\",\"sync\":\"n2\","
                + "\"asyncs\":[],\"deposed\":[],\"initWal\":\"0/0\",\"frozen\":null,\"singleton\":false,"
                + "\"switchover\":null}", json);
    }

    @Test
    void readsTheDocumentedExample() throws Exception {
        ClusterState s = CODEC.decode(VALID);
        assertEquals(3, s.generation());
        assertEquals(Role.DEPOSED, s.roleOf(MemberId.of("n1")));
        assertEquals("maintenance", s.frozen().reason());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not JSON                 | {\"kind\":                                     | not valid JSON",
        "not an object            | [1,2]                                          | expected a JSON object",
        "no kind                  | {\"schema\":1}                                 | field 'kind' is missing",
        "wrong kind               | {\"kind\":\"member\",\"schema\":1}             | it is a 'member' document",
        "future schema            | {\"kind\":\"cluster-state\",\"schema\":2}      | schema 2 is not supported",
    })
    void rejectsEnvelopeProblems(String name, String json, String expected) {
        InvalidDocumentException e = assertThrows(InvalidDocumentException.class, () -> CODEC.decode(json));
        assertTrue(e.getMessage().startsWith("invalid cluster-state document: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown field            | \"singleton\":false                  | \"singleton\":false,\"extra\":1           | extra",
        "missing field            | \"singleton\":false,                 | ''                                        | singleton",
        "string for a number      | \"generation\":3                     | \"generation\":\"3\"                      | generation",
        "float for a number       | \"generation\":3                     | \"generation\":3.5                        | generation",
        "null primitive           | \"singleton\":false                  | \"singleton\":null                        | singleton",
        "bad member id            | \"primary\":\"n2\"                   | \"primary\":\"N 2\"                       | invalid member id",
        "bad WAL position         | \"initWal\":\"0/3000148\"            | \"initWal\":\"zz\"                        | invalid WAL position",
        "member in two places     | \"asyncs\":[\"n4\"]                  | \"asyncs\":[\"n3\"]                       | more than one place",
        "missing primary          | \"primary\":\"n2\"                   | \"primary\":null                          | names its primary",
        "generation zero          | \"generation\":3                     | \"generation\":0                          | at least 1",
        "freeze without reason    | \"reason\":\"maintenance\"           | \"reason\":\"\"                           | needs a reason",
    })
    void rejectsBadFieldsAsAWhole(String name, String replace, String with, String expected) {
        String json = VALID.replace(replace, with);
        InvalidDocumentException e = assertThrows(InvalidDocumentException.class, () -> CODEC.decode(json));
        assertTrue(e.getMessage().contains(expected), name + ": " + e.getMessage());
    }

    @Test
    void rejectsTrailingContent() {
        assertThrows(InvalidDocumentException.class, () -> CODEC.decode(VALID + " {}"));
    }

    @Test
    void membersRoundTrip() throws Exception {
        Member m = new Member(MemberId.of("n1"), "127.0.0.11", 7001, 5432, 6432, 8008, "zone-a", Map.of("rack", "r1"));
        assertEquals(m, DocumentCodec.MEMBER.decode(DocumentCodec.MEMBER.encode(m)));
        InvalidDocumentException e = assertThrows(InvalidDocumentException.class, () -> DocumentCodec.MEMBER.decode(
                new String(DocumentCodec.MEMBER.encode(m)).replace("5432", "70000")));
        assertTrue(e.getMessage().contains("pgPort must be 1-65535"), e.getMessage());
    }
}
