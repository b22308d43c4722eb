package dev.appliance.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.appliance.api.ApiClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Model.CommandSpec;

/** What every command does alike: checks an API answer, prints JSON, asks for confirmation. */
final class Cli {
    private Cli() {
    }

    /** A command that failed, with a message that says what happened and what to do; exit code 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /** The answer's body, or a {@link Failure} carrying the daemon's own explanation. */
    static JsonNode require(ApiClient.Answer a) {
        if (!a.ok()) {
            throw new Failure(a.error() + " (from " + a.from() + ")");
        }
        return a.body();
    }

    static void printJson(PrintWriter out, JsonNode n) throws IOException {
        out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
    }

    /** Asks on the terminal (or stdin) and returns whether the answer was exactly {@code expected}. */
    static boolean confirm(CommandSpec spec, String prompt, String expected) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        err.print(prompt);
        err.flush();
        String line = System.console() != null ? System.console().readLine()
                : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        return line != null && line.strip().equals(expected);
    }
}
