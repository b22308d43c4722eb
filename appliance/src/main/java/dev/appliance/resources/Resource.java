package dev.appliance.resources;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A database handed to an application: its own database and login role (both named after the resource), with
 * a generated password. Resources are rows in the primary's {@code appliance.resources} table, so they replicate
 * and survive failover like any data.
 */
public record Resource(String id, String service, String database, String user, String password, Instant createdAt,
        String createdBy) {
    public static final String POSTGRES = "postgres";
    private static final Pattern ID = Pattern.compile("[a-z][a-z0-9_]{0,62}");

    public Resource {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(password, "password");
    }

    /** Why {@code id} cannot name a resource (it becomes a database and a role name), or null when it can. */
    public static String invalidId(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            return "a resource id is 1-63 of a-z, 0-9 and '_', starting with a letter";
        }
        if (id.startsWith("pg_") || id.startsWith("appliance") || id.equals("postgres") || id.startsWith("template")
                || id.equals("public")) {
            return "'" + id + "' is reserved (postgres, template*, pg_*, appliance*, public)";
        }
        return null;
    }

    @Override
    public String toString() {
        return "Resource[" + id + ", " + service + ", database " + database + ", user " + user + "]";
    }
}
