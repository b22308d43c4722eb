package dev.appliance.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code appliance} command. */
@Command(name = "appliance",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A consensus-backed PostgreSQL failover appliance.",
        footer = {"", "Exit codes: 0 done, 1 failed, 2 usage; --debug anywhere adds a failure's stack trace.",
            "API and token: --url, $APPLIANCE_URL and $APPLIANCE_TOKEN, $APPLIANCE_CONFIG, or --dir."},
        subcommands = {NodeCommand.class, ClusterCommand.class, RouteCommand.class, ResourceCommand.class, PgCommand.class,
            OperatorCommands.Switchover.class, OperatorCommands.Freeze.class, OperatorCommands.Unfreeze.class,
            DrillCommand.class, SimulateCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line and returns the exit code: 0 ok, 1 failed, 2 usage. Errors are one line that says what
     * happened; {@code --debug} anywhere adds the stack trace.
     */
    public static int run(String... args) {
        return run(new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, printing to {@code out} and {@code err}. */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setOut(out);
        cli.setErr(err);
        boolean debug = java.util.Arrays.asList(args).contains("--debug");
        if (debug) {
            args = java.util.Arrays.stream(args).filter(a -> !a.equals("--debug")).toArray(String[]::new);
        }
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("appliance: " + e.getMessage());
            if (debug || Boolean.getBoolean("appliance.debug")) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }
}
