package dev.appliance.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Network partitions between nodes that all live on the loopback interface. A socket that is not bound leaves
 * from 127.0.0.1 whatever address it connects to, so each node's processes are put in a cgroup of their own
 * and everything they send is given their node's address (SNAT by cgroup); DROP rules between addresses then
 * cut both directions. The test driver (127.0.0.1, outside every cgroup) still reaches every node. All rules
 * live in chains of their own, removed by {@link #close()}. Needs root, iptables and a cgroup2 mount.
 */
public final class LoopbackPartitions implements AutoCloseable {
    /** The nemeses made of these partitions: runners whose nodes are not in the harness's cgroups cannot take them. */
    public static final List<String> NEMESES = List.of("partition-primary", "partition-sync", "partition-majority", "bridge");
    private final String filterChain;
    private final String natChain;
    private final Path cgroupRoot;
    private final Path group;

    private LoopbackPartitions(String tag, Path cgroupRoot) throws IOException {
        this.filterChain = "APX_PART_" + tag;
        this.natChain = "APX_SNAT_" + tag;
        this.cgroupRoot = cgroupRoot;
        this.group = cgroupRoot.resolve("apx-" + tag.toLowerCase());
        Files.createDirectories(group);
        iptables("-N", filterChain);
        iptables("-I", "INPUT", "1", "-i", "lo", "-j", filterChain);
        iptables("-I", "OUTPUT", "1", "-o", "lo", "-j", filterChain);
        iptables("-t", "nat", "-N", natChain);
        iptables("-t", "nat", "-I", "POSTROUTING", "1", "-o", "lo", "-j", natChain);
    }

    /** Why partitions cannot be made here, if they cannot. */
    public static Optional<String> unavailable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return Optional.of("it needs root to change iptables rules and cgroups");
        }
        if (!Commands.succeeds("iptables", "-w", "-L", "-n")) {
            return Optional.of("iptables is not installed or does not work here (Debian: apt-get install iptables)");
        }
        if (cgroup2Mount().isEmpty()) {
            return Optional.of("no cgroup2 file system is mounted");
        }
        return Optional.empty();
    }

    public static LoopbackPartitions create() throws IOException {
        Path root = cgroup2Mount().orElseThrow(() -> new IOException("no cgroup2 file system is mounted"));
        removeLeftovers();
        return new LoopbackPartitions(Long.toString(ProcessHandle.current().pid()), root);
    }

    /**
     * The cgroup for {@code node}'s processes: everything they send leaves from {@code host}. A process must
     * join it before it opens its connections (address translation applies to new connections only).
     */
    public Path cgroup(String node, String host) throws IOException {
        Path g = group.resolve(node);
        if (!Files.isDirectory(g)) {
            Files.createDirectories(g);
            iptables("-t", "nat", "-A", natChain, "-m", "cgroup", "--path", cgroupRoot.relativize(g).toString(),
                    "-j", "SNAT", "--to-source", host);
        }
        return g;
    }

    /** Cuts {@code host} off from each of {@code others}, both ways. */
    public void isolate(String host, Collection<String> others) throws IOException {
        for (String other : others) {
            iptables("-A", filterChain, "-s", host, "-d", other, "-j", "DROP");
            iptables("-A", filterChain, "-s", other, "-d", host, "-j", "DROP");
        }
    }

    public void heal() throws IOException {
        iptables("-F", filterChain);
    }

    @Override
    public void close() throws IOException {
        heal();
        iptables("-D", "INPUT", "-i", "lo", "-j", filterChain);
        iptables("-D", "OUTPUT", "-o", "lo", "-j", filterChain);
        iptables("-X", filterChain);
        iptables("-t", "nat", "-F", natChain);
        iptables("-t", "nat", "-D", "POSTROUTING", "-o", "lo", "-j", natChain);
        iptables("-t", "nat", "-X", natChain);
        try (Stream<Path> nodes = Files.list(group)) {
            for (Path g : nodes.filter(Files::isDirectory).toList()) {
                for (String pid : Files.readAllLines(g.resolve("cgroup.procs"))) {
                    if (!pid.isBlank()) {
                        Files.writeString(cgroupRoot.resolve("cgroup.procs"), pid.trim());
                    }
                }
                Files.delete(g);
            }
        }
        Files.delete(group);
    }

    /**
     * Removes the chains of runs whose process is gone (killed before it could clean up), so their rules can
     * never cut a later run's traffic. Chains are named after the pid that made them.
     */
    private static void removeLeftovers() throws IOException {
        for (String table : List.of("filter", "nat")) {
            Process p = new ProcessBuilder("iptables", "-w", "-t", table, "-S").redirectErrorStream(true).start();
            String rules = new String(p.getInputStream().readAllBytes());
            for (String line : rules.split("\n")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("^-N (APX_(PART|SNAT)_(\\d+))$").matcher(line);
                if (!m.matches() || ProcessHandle.of(Long.parseLong(m.group(3))).isPresent()) {
                    continue;
                }
                String chain = m.group(1);
                for (String hook : table.equals("nat") ? List.of("POSTROUTING -o lo") : List.of("INPUT -i lo", "OUTPUT -o lo")) {
                    List<String> args = new ArrayList<>(List.of("-t", table, "-D"));
                    args.addAll(List.of(hook.split(" ")));
                    args.addAll(List.of("-j", chain));
                    iptables(args.toArray(String[]::new));
                }
                iptables("-t", table, "-F", chain);
                iptables("-t", table, "-X", chain);
            }
        }
    }

    private static Optional<Path> cgroup2Mount() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                int dash = line.indexOf(" - ");
                if (dash > 0 && line.substring(dash + 3).startsWith("cgroup2 ")) {
                    return Optional.of(Path.of(line.split(" ")[4]));
                }
            }
        } catch (IOException ignored) {
            // no /proc: not Linux
        }
        return Optional.empty();
    }

    private static void iptables(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("iptables", "-w"));
        command.addAll(List.of(args));
        Commands.run(command);
    }
}
