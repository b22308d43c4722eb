package dev.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlSplitterTest {
    private final SqlSplitter splitter = new SqlSplitter();

    @Test
    void aStatementEndsAtASemicolonAndTheRestWaitsForMore() {
        StringBuilder in = new StringBuilder("select 1; select\n 2;\nselect 3");
        assertEquals(List.of("select 1", "select\n 2"), splitter.complete(in));
        assertEquals("\nselect 3", in.toString());
        in.append(";\n");
        assertEquals(List.of("select 3"), splitter.complete(in));
        assertEquals("", in.toString());
    }

    @Test
    void semicolonsInQuotesCommentsAndDollarQuotesDoNotEndAStatement() {
        StringBuilder in = new StringBuilder("select 'a;b', \"c;d\" -- e;f\n, 1 /* g;h */;"
                + "create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql;"
                + "select $1, 'it''s; fine';");
        assertEquals(List.of("select 'a;b', \"c;d\" -- e;f\n, 1 /* g;h */",
                "create function f() returns int as $body$ begin; return 1; end $body$ language plpgsql",
                "select $1, 'it''s; fine'"), splitter.complete(in));
    }

    @Test
    void anOpenQuoteKeepsTheStatementOpen() {
        StringBuilder in = new StringBuilder("select 'open;\n");
        assertEquals(List.of(), splitter.complete(in));
        in.append("still';\n");
        assertEquals(List.of("select 'open;\nstill'"), splitter.complete(in));
    }
}
