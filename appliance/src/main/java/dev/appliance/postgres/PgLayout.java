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

    public Path socketDir() {
        return pgDir().resolve("run");
    }

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
