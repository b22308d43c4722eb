package dev.appliance.postgres;

import java.nio.file.Path;

/**
 * Where one node keeps its postgres files, under the node's data directory:
 * <pre>
 *   pgdata/                    the data directory (owned by the postgres user, 0700)
 *   pgdata.clone/              a clone in progress; it replaces pgdata only once complete
 *   pgdata.replaced/           the previous data directory after a clone, kept until the next one
 *   pg/postgresql.conf         the configuration postgres reads; it includes pg/conf.d/*.conf
 *   pg/pg_hba.conf             who may connect
 *   pg/pgpass                  replication credentials for the postgres user's programs (0600)
 *   pg/run/                    postgres' unix socket
 *   secrets/                   the daemon's credentials (0700, daemon only)
 *   forensics/&lt;generation&gt;/   WAL a rewind discarded, and a report of its transactions
 *   postgres-state.json        what the supervisor must remember across restarts
 * </pre>
 * The configuration lives outside the data directory so that pg_basebackup and pg_rewind, which copy files
 * from their source, never overwrite it.
 */
public record PgLayout(Path nodeDir) {
    public Path pgdata() {
        return nodeDir.resolve("pgdata");
    }

    public Path cloneTarget() {
        return nodeDir.resolve("pgdata.clone");
    }

    public Path replaced() {
        return nodeDir.resolve("pgdata.replaced");
    }

    public Path pgDir() {
        return nodeDir.resolve("pg");
    }

    public Path configFile() {
        return pgDir().resolve("postgresql.conf");
    }

    public Path confD() {
        return pgDir().resolve("conf.d");
    }

    public Path hbaFile() {
        return pgDir().resolve("pg_hba.conf");
    }

    public Path identFile() {
        return pgDir().resolve("pg_ident.conf");
    }

    public Path passfile() {
        return pgDir().resolve("pgpass");
    }

    /**
     * Where postgres puts its Unix socket: {@code pg/run}, unless that path is too long for a socket (107 bytes in
     * all on Linux, {@code .s.PGSQL.NNNN.lock} included), when it is a directory under /tmp named after this node's
     * directory. The daemon itself connects over TCP; the socket is for an operator's psql on the machine.
     */
    public Path socketDir() {
        Path run = pgDir().resolve("run");
        if (run.toAbsolutePath().toString().length() <= MAX_SOCKET_DIR) {
            return run;
        }
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(nodeDir.toAbsolutePath().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Path.of("/tmp", "appliance-pg-" + java.util.HexFormat.of().formatHex(h, 0, 6));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The longest socket directory that leaves room for {@code /.s.PGSQL.65535.lock} within a socket's 107 bytes. */
    static final int MAX_SOCKET_DIR = 107 - "/.s.PGSQL.65535.lock".length();

    public Path secretsDir() {
        return nodeDir.resolve("secrets");
    }

    public Path forensics(long generation) {
        return nodeDir.resolve("forensics").resolve(Long.toString(generation));
    }

    public Path stateFile() {
        return nodeDir.resolve("postgres-state.json");
    }

    public Path standbySignal() {
        return pgdata().resolve("standby.signal");
    }
}
