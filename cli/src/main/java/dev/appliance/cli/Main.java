package dev.appliance.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code appliance} command. */
@Command(name = "appliance",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "A consensus-backed PostgreSQL failover appliance.",
        subcommands = {NodeCommand.class, ClusterCommand.class, RouteCommand.class, SimulateCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code: 0 ok, 1 failed, 2 usage. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("appliance: " + e.getMessage());
            if (Boolean.getBoolean("appliance.debug")) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }
}
