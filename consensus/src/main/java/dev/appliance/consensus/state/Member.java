package dev.appliance.consensus.state;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A registered member: where its daemon, postgres and proxy listen. The registry is agreed like the
 * cluster state, so every node resolves a member id to the same addresses.
 */
public record Member(
        MemberId id,
        String host,
        int raftPort,
        int pgPort,
        int proxyPort,
        int apiPort,
        String zone,
        Map<String, String> tags) {

    public Member {
        Objects.requireNonNull(id, "member id");
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("member " + id + " needs a host address");
        }
        checkPort(id, "raftPort", raftPort);
        checkPort(id, "pgPort", pgPort);
        checkPort(id, "proxyPort", proxyPort);
        checkPort(id, "apiPort", apiPort);
        zone = zone == null ? "" : zone;
        tags = tags == null ? Map.of() : Map.copyOf(new TreeMap<>(tags));
    }

    private static void checkPort(MemberId id, String name, int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("member " + id + ": " + name + " must be 1-65535, got " + port);
        }
    }
}
