package dev.appliance.cli;

import dev.appliance.node.Daemon;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code appliance node ...}: this machine's daemon. */
@Command(name = "node", mixinStandardHelpOptions = true, description = "Runs this machine's daemon.",
        subcommands = {NodeCommand.Start.class, NodeCommand.Config.class})
final class NodeCommand {

    @Command(name = "config", mixinStandardHelpOptions = true,
            description = "Prints a configuration file with every setting, its default and its meaning.")
    static final class Config implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(dev.appliance.config.Settings.template());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = {
                "Runs the node daemon in the foreground, logging to stdout.",
                "",
                "Settings come from the file, then from APPLIANCE_* environment variables, which win;",
                "docs/configuration.md lists them all. A bad configuration is refused, with every",
                "problem listed, before anything is touched. SIGTERM (or POST /stop) leaves cleanly:",
                "a primary hands over to its sync first."})
    static final class Start implements Callable<Integer> {
        @Option(names = "--config", paramLabel = "FILE", description = "The node's configuration file.")
        Path config;

        @Override
        public Integer call() throws Exception {
            return Daemon.run(config, System.getenv(), new PrintStream(System.err, true));
        }
    }
}
