package dev.appliance.postgres;

import dev.appliance.consensus.state.MemberId;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What the supervisor needs to know about its node.
 *
 * @param self               this member; also the application_name of its standby connections
 * @param host               the address postgres listens on
 * @param port               its port
 * @param osUser             the operating-system user postgres runs as when the daemon is root (never root)
 * @param memoryBytes        the memory postgres may plan for (tuning derives from it)
 * @param cpus               the CPUs it may use
 * @param overrides          settings the operator sets, which win over the derived ones
 * @param maxSlotWalKeepMb   WAL a replication slot may hold for a member that stopped consuming
 * @param peerHosts          where the other members connect from (replication and pg_rewind are allowed from there)
 * @param clientCidr         where clients may connect from when the node serves them
 */
public record PgNodeSettings(
        MemberId self,
        String host,
        int port,
        String osUser,
        long memoryBytes,
        int cpus,
        Map<String, String> overrides,
        long maxSlotWalKeepMb,
        List<String> peerHosts,
        String clientCidr) {

    private static final Pattern SETTING = Pattern.compile("[a-z_][a-z0-9_.]*");

    public PgNodeSettings {
        Objects.requireNonNull(self, "self");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("postgres needs an address to listen on");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("the postgres port must be 1-65535, got " + port);
        }
        if ("root".equals(osUser)) {
            throw new IllegalArgumentException("postgres must not run as root; name another user (e.g. postgres)");
        }
        if (memoryBytes < 64L << 20) {
            throw new IllegalArgumentException("give postgres at least 64 MiB of memory, got " + (memoryBytes >> 20) + " MiB");
        }
        if (cpus < 1) {
            throw new IllegalArgumentException("cpus must be at least 1");
        }
        overrides = Map.copyOf(new TreeMap<>(overrides == null ? Map.of() : overrides));
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (!SETTING.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("'" + e.getKey() + "' is not a postgres setting name");
            }
            if (e.getValue().contains("\n") || e.getValue().contains("\r")) {
                throw new IllegalArgumentException("the value of postgres setting " + e.getKey() + " spans lines");
            }
        }
        peerHosts = List.copyOf(peerHosts == null ? List.of() : peerHosts);
        clientCidr = clientCidr == null ? "0.0.0.0/0" : clientCidr;
    }

    /** The same settings with pg_hba.conf's member hosts replaced (a member was added or removed). */
    public PgNodeSettings withPeerHosts(List<String> hosts) {
        return new PgNodeSettings(self, host, port, osUser, memoryBytes, cpus, overrides, maxSlotWalKeepMb, List.copyOf(hosts),
                clientCidr);
    }
}
