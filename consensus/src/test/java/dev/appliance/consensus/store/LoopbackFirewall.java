package dev.appliance.consensus.store;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Cuts traffic on the loopback interface with iptables, in a chain of its own that one flush removes. Needs
 * root and iptables; without them the test is skipped, with the reason printed. Shared with the proxy's tests.
 */
public final class LoopbackFirewall implements AutoCloseable {
    private final String chain = "APX_STORE_" + ProcessHandle.current().pid();

    private LoopbackFirewall() throws IOException {
        run("-N", chain);
        run("-I", "INPUT", "1", "-i", "lo", "-j", chain);
    }

    public static LoopbackFirewall availableOrSkip() throws IOException {
        String why = null;
        if (!"root".equals(System.getProperty("user.name"))) {
            why = "it needs root to change iptables rules";
        } else if (!canRun("iptables", "-w", "-L", "-n")) {
            why = "iptables is not installed or does not work here (Debian: apt-get install iptables)";
        }
        if (why != null) {
            System.out.println("SKIPPED: a network-partition test: " + why);
        }
        Assumptions.assumeTrue(why == null, why);
        return new LoopbackFirewall();
    }

    /** Drops every packet sent to {@code host:port}: the node there hears nobody. */
    public void dropTo(String hostPort) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        run("-A", chain, "-d", hostPort.substring(0, colon), "-p", "tcp", "--dport", hostPort.substring(colon + 1),
                "-j", "DROP");
    }

    public void heal() throws IOException {
        run("-F", chain);
    }

    @Override
    public void close() throws IOException {
        run("-F", chain);
        run("-D", "INPUT", "-i", "lo", "-j", chain);
        run("-X", chain);
    }

    private static boolean canRun(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void run(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("iptables", "-w"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
