package dev.appliance.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that works through the cluster's API: where it finds the API, and where it prints. */
abstract class ApiCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ApiTarget target;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Prints a line on stdout, at once. */
    void say(String line) {
        out().println(line);
        out().flush();
    }

    /** Asks for {@code expected} to be typed, unless {@code yes}; a refusal is a failure that changed nothing. */
    void confirm(boolean yes, String prompt, String expected) throws java.io.IOException {
        if (!yes && !Cli.confirm(spec, prompt + " Type " + expected + " to confirm: ", expected)) {
            throw new Cli.Failure("not confirmed; nothing was changed");
        }
    }
}
