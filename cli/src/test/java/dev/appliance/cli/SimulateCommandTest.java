package dev.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SimulateCommandTest {

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void exploresAndSummarizes() {
        Result r = run("simulate", "--schedules", "20", "--seed", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("explored 20 schedules"), r.out());
        assertTrue(r.out().contains("0 violations"), r.out());
    }

    @Test
    void printsJson() {
        Result r = run("simulate", "--schedules", "5", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().trim().startsWith("{\"schedules\":5,"), r.out());
    }

    @Test
    void replaysAScenarioLineWithItsTrace() {
        Result r = run("simulate", "--replay", "nodes=3;phases=0,100,200;ops=5000 kill n1,9000 leader-change");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("took over from the primary"), r.out());
        assertTrue(r.out().contains("no violation"), r.out());
    }

    @Test
    void aBadReplayLineIsAUsageErrorThatSaysWhatToPass() {
        Result r = run("simulate", "--replay", "nodes=3;bogus=1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown scenario field 'bogus'"), r.err());
        assertTrue(r.err().contains("pass the 'replay the shrunk schedule' line"), r.err());
    }

    @Test
    void everyCommandHasHelp() {
        Result r = run("simulate", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--schedules"), r.out());
    }
}
