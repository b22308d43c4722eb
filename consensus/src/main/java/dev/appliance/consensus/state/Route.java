package dev.appliance.consensus.state;

import java.util.regex.Pattern;

/**
 * A TCP route, agreed like the cluster state: every member's proxy listens on {@code port} on its own address.
 * A leader route forwards each connection to the primary of the current generation.
 *
 * @param id      a short name, unique in the cluster ({@code pg-leader-6432} style)
 * @param service what it routes to; {@code postgres} is the only service today
 * @param leader  forward to the primary only (the only kind of route today)
 * @param port    the port every member's proxy listens on for this route
 */
public record Route(String id, String service, boolean leader, int port) {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    public static final String POSTGRES = "postgres";

    public Route {
        if (id == null || !NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("route id '" + id + "' must be 1-63 of a-z, 0-9, '-', '_', starting "
                    + "with a letter or digit");
        }
        if (!POSTGRES.equals(service)) {
            throw new IllegalArgumentException("route " + id + ": the only service is '" + POSTGRES + "', not '"
                    + service + "'");
        }
        if (!leader) {
            throw new IllegalArgumentException("route " + id + ": only leader routes (to the primary) exist today");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("route " + id + ": port must be 1-65535, got " + port);
        }
    }
}
