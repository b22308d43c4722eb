package dev.appliance.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void anUnknownTotalShowsBytesAndRate() {
        StringWriter s = new StringWriter();
        new Progress(new PrintWriter(s), -1).done(60_340_000);
        assertTrue(s.toString().matches("(?s)\r60\\.34 MB [0-9.]+ MB/s\\R"), s.toString());
    }

    @Test
    void aKnownTotalShowsABarAndAPercentage() {
        StringWriter s = new StringWriter();
        new Progress(new PrintWriter(s), 62_290_000).done(62_290_000);
        assertTrue(s.toString().matches("(?s)\r62\\.29 MB / 62\\.29 MB \\[=+\\] 100\\.00 % [0-9.]+ MB/s\\R"), s.toString());
    }
}
