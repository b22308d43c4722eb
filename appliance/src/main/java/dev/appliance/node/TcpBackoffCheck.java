package dev.appliance.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Checks the kernel's ceiling on TCP's retransmission back-off. During a partition TCP doubles the wait between
 * retransmissions (0.2 s, 0.4 s, ... up to 120 s by default), and an established connection stays silent until
 * its next retransmission even after the network is back: measured here, 5.4 s after an 8 s partition and
 * 11.8 s after a 15 s one. The store replaces its own silent Raft connections (SilentLinks), but postgres's
 * replication connections and the proxies' connections wait it out. Linux 6.15 and later let the ceiling be
 * lowered ({@code net.ipv4.tcp_rto_max_ms}).
 */
public final class TcpBackoffCheck {
    /** The ceiling we recommend: a healed link carries traffic again within about a second. */
    public static final long RECOMMENDED_MS = 1000;
    static final long ACCEPTABLE_MS = 2000;
    public static final Path SETTING = Path.of("/proc/sys/net/ipv4/tcp_rto_max_ms");

    private TcpBackoffCheck() {
    }

    /** The ceiling in effect in this network namespace, if the kernel has the setting. */
    public static Optional<Long> ceilingMillis(Path setting) {
        try {
            // One large read: a sysctl file answers a read at a non-zero offset with end-of-file, and
            // Files.readString of a file reporting size 0 reads one byte first (it returned "1" for "120000").
            return Optional.of(Long.parseLong(Files.readAllLines(setting).get(0).trim()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();    // an older kernel (no such file), or a /proc we may not read
        }
    }

    /** Whether the advice names something the operator can change (the setting exists, and is high). */
    public static boolean actionable(Path setting) {
        return ceilingMillis(setting).map(ms -> ms > ACCEPTABLE_MS).orElse(false);
    }

    /** What an operator should know, or empty when the ceiling is low enough. */
    public static Optional<String> advice(Path setting) {
        Optional<Long> ceiling = ceilingMillis(setting);
        if (ceiling.isEmpty()) {
            return Optional.of("this kernel has no net.ipv4.tcp_rto_max_ms (it came in Linux 6.15): after a network "
                    + "partition heals, TCP's retransmission back-off can keep replication and client connections "
                    + "silent for about as long as the partition lasted (up to 2 minutes); the Raft links are replaced "
                    + "sooner. See docs/operations.md, 'Partitions and TCP back-off'");
        }
        if (ceiling.get() <= ACCEPTABLE_MS) {
            return Optional.empty();
        }
        return Optional.of("net.ipv4.tcp_rto_max_ms is " + ceiling.get() + " ms: after a network partition heals, "
                + "replication and client connections can stay silent for about as long as the partition lasted (up "
                + "to " + ceiling.get() / 1000 + " s). Set it to " + RECOMMENDED_MS + " (sysctl -w "
                + "net.ipv4.tcp_rto_max_ms=" + RECOMMENDED_MS + ", and a file in /etc/sysctl.d/ to keep it; "
                + "deploy/systemd/90-appliance.conf); see docs/operations.md, 'Partitions and TCP back-off'");
    }

    /** The advice for this host's network namespace. */
    public static Optional<String> advice() {
        return advice(SETTING);
    }
}
