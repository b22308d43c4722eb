package dev.appliance.postgres;

import dev.appliance.consensus.state.MemberId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The configuration files the appliance owns: {@code postgresql.conf} (which only includes {@code conf.d}),
 * separate files for the base, tuning, replication, logging and role-specific settings, the operator's
 * overrides last, and {@code pg_hba.conf}. Each is rewritten only when its content changes; the caller then
 * reloads, and restarts when postgres reports a setting pending a restart.
 */
final class PgConfigFiles {
    /** Milliseconds a connection may leave data unacknowledged before the kernel ends it (tcp_user_timeout). */
    static final long SILENT_PEER_MS = 5000;

    /**
     * The libpq options that end a connection to another member once it goes silent (a partition, a frozen
     * host): keepalives while nothing is sent, tcp_user_timeout while something is. Without them a blocked read
     * waits until TCP gives up, about 15 minutes. For every libpq program the daemon points at a peer: the WAL
     * receiver, pg_rewind, pg_basebackup.
     */
    static String silentPeerOptions() {
        return "keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 tcp_user_timeout=" + SILENT_PEER_MS;
    }

    /** Whether clients other than the daemon and replication may connect at all. */
    enum ClientAccess { OPEN, CLOSED }

    /** The role-specific part: as primary (the standbys that must flush each commit) or as standby (of whom). */
    sealed interface RoleSettings {
        record AsPrimary(Set<MemberId> syncRequired, boolean readOnly) implements RoleSettings {
        }

        /** {@code upstreamHost} null: a standby that receives from nobody (a sync detached before a takeover). */
        record AsStandby(String upstreamHost, int upstreamPort, MemberId upstream) implements RoleSettings {
        }
    }

    private PgConfigFiles() {
    }

    /** Writes every file; returns whether any content changed. */
    static boolean write(PgLayout layout, PgNodeSettings s, RoleSettings role, ClientAccess access) throws IOException {
        Files.createDirectories(layout.confD());
        Files.createDirectories(layout.socketDir());
        boolean changed = false;
        changed |= writeIfChanged(layout.configFile(), "# Managed by the appliance daemon; it rewrites this file.\n"
                + "# Operator settings belong in the node's configuration (postgres overrides).\n"
                + "hba_file = " + quote(layout.hbaFile().toString()) + "\n"
                + "ident_file = " + quote(layout.identFile().toString()) + "\n"
                + "include_dir = " + quote(layout.confD().toString()) + "\n");
        changed |= writeIfChanged(layout.identFile(), "# Managed by the appliance daemon.\n");
        changed |= writeIfChanged(layout.confD().resolve("00-base.conf"), render("base", base(layout, s)));
        changed |= writeIfChanged(layout.confD().resolve("10-tuning.conf"), render("tuning for "
                + (s.memoryBytes() >> 20) + " MiB and " + s.cpus() + " CPUs", PgTuning.derive(s.memoryBytes(), s.cpus())));
        changed |= writeIfChanged(layout.confD().resolve("20-replication.conf"), render("replication", replication(s)));
        changed |= writeIfChanged(layout.confD().resolve("30-logging.conf"), render("logging to stderr", logging()));
        changed |= writeIfChanged(layout.confD().resolve("90-role.conf"), render("this node's role", role(layout, s, role)));
        changed |= writeIfChanged(layout.confD().resolve("99-overrides.conf"), render("operator overrides", s.overrides()));
        changed |= writeIfChanged(layout.hbaFile(), hba(s, access));
        return changed;
    }

    private static Map<String, String> base(PgLayout layout, PgNodeSettings s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("listen_addresses", quote(s.host()));
        m.put("port", Integer.toString(s.port()));
        m.put("unix_socket_directories", quote(layout.socketDir().toString()));
        m.put("password_encryption", "scram-sha-256");
        m.put("timezone", quote("UTC"));
        m.put("log_timezone", quote("UTC"));
        m.put("datestyle", quote("iso, mdy"));
        m.put("lc_messages", quote("C.UTF-8"));
        m.put("cluster_name", quote(s.self().value()));
        m.put("idle_in_transaction_session_timeout", "0");
        return m;
    }

    private static Map<String, String> replication(PgNodeSettings s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("wal_level", "replica");
        m.put("max_wal_senders", "16");
        m.put("max_replication_slots", "16");
        m.put("max_slot_wal_keep_size", s.maxSlotWalKeepMb() + "MB");
        m.put("hot_standby", "on");
        m.put("hot_standby_feedback", "on");
        m.put("synchronous_commit", "on");
        m.put("full_page_writes", "on");
        m.put("wal_log_hints", "on");
        m.put("wal_receiver_status_interval", "1s");
        m.put("wal_receiver_timeout", "10s");
        m.put("wal_sender_timeout", "10s");
        // A replication or client connection whose peer went silent (a partition) ends after 5 s, so a fresh
        // one is made after the heal instead of waiting out TCP's retransmission back-off on the old one.
        m.put("tcp_user_timeout", Long.toString(SILENT_PEER_MS));
        // A standby whose upstream changes, restarts or is promoted reconnects within 200 ms, not the default 5 s.
        m.put("wal_retrieve_retry_interval", "200ms");
        m.put("recovery_target_timeline", quote("latest"));
        return m;
    }

    private static Map<String, String> logging() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("log_destination", quote("stderr"));
        m.put("logging_collector", "off");
        m.put("log_line_prefix", quote("%m [%p] %q%u@%d "));
        m.put("log_min_messages", "warning");
        m.put("log_checkpoints", "off");
        m.put("log_replication_commands", "off");
        return m;
    }

    private static Map<String, String> role(PgLayout layout, PgNodeSettings s, RoleSettings role) {
        Map<String, String> m = new LinkedHashMap<>();
        if (role instanceof RoleSettings.AsPrimary p) {
            m.put("synchronous_standby_names", quote(syncNames(p.syncRequired())));
            m.put("default_transaction_read_only", p.readOnly() ? "on" : "off");
            m.put("primary_conninfo", quote(""));
            m.put("primary_slot_name", quote(""));
        } else if (role instanceof RoleSettings.AsStandby sb) {
            m.put("synchronous_standby_names", quote(""));
            m.put("default_transaction_read_only", "off");
            if (sb.upstreamHost() == null) {
                m.put("primary_conninfo", quote(""));
                m.put("primary_slot_name", quote(""));
            } else {
                m.put("primary_conninfo", quote("host=" + sb.upstreamHost() + " port=" + sb.upstreamPort()
                        + " user=" + PgCredentials.REPLICATION + " passfile=" + layout.passfile()
                        + " application_name=" + s.self() + " connect_timeout=2 " + silentPeerOptions()));
                m.put("primary_slot_name", quote(slotName(s.self())));
            }
        }
        return m;
    }

    /** {@code FIRST n ("a", "b")}: every named standby must flush a commit before it is acknowledged. */
    static String syncNames(Set<MemberId> required) {
        if (required.isEmpty()) {
            return "";
        }
        return "FIRST " + required.size() + " (" + new TreeSet<>(required).stream().map(m -> "\"" + m + "\"")
                .collect(Collectors.joining(", ")) + ")";
    }

    /** The replication slot an upstream keeps for {@code member}. */
    static String slotName(MemberId member) {
        return "appliance_" + member.value().replace('-', '_');
    }

    private static String hba(PgNodeSettings s, ClientAccess access) {
        StringBuilder b = new StringBuilder("# Managed by the appliance daemon; it rewrites this file.\n"
                + "# TYPE  DATABASE     USER                    ADDRESS           METHOD\n");
        Set<String> peers = new TreeSet<>();
        s.peerHosts().forEach(h -> peers.add(hbaAddress(h)));
        peers.add(hbaAddress(s.host()));
        b.append("local   all          ").append(pad(PgCredentials.SUPERUSER)).append("                  scram-sha-256\n");
        for (String peer : peers) {
            // The daemon superuser from the members too: a member's proxy carries out cancel requests for
            // backends on the primary (GuardedCancel), which needs the right to signal them.
            b.append("host    all          ").append(pad(PgCredentials.SUPERUSER)).append(pad(peer)).append("scram-sha-256\n");
            b.append("host    replication  ").append(pad(PgCredentials.REPLICATION)).append(pad(peer)).append("scram-sha-256\n");
            b.append("host    all          ").append(pad(PgCredentials.REPLICATION)).append(pad(peer)).append("scram-sha-256\n");
        }
        if (access == ClientAccess.OPEN) {
            b.append("host    all          all                     ").append(pad(s.clientCidr())).append("scram-sha-256\n");
        } else {
            b.append("# clients are shut out: this node does not serve them right now\n");
            b.append("host    all          all                     0.0.0.0/0         reject\n");
        }
        return b.toString();
    }

    /**
     * How pg_hba.conf names connections from {@code host}: an address as a single-host CIDR, a name as is. A
     * loopback address stands for the whole loopback network, since connections between loopback addresses
     * come from 127.0.0.1 whatever address they were sent to.
     */
    static String hbaAddress(String host) {
        if (host.startsWith("127.")) {
            return "127.0.0.0/8";
        }
        if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return host + "/32";
        }
        if (host.contains(":")) {
            return host + "/128";
        }
        return host;
    }

    private static String pad(String s) {
        StringBuilder b = new StringBuilder(s);
        while (b.length() < 24) {
            b.append(' ');
        }
        return b.append(' ').toString();
    }

    private static String render(String title, Map<String, String> settings) {
        StringBuilder b = new StringBuilder("# Managed by the appliance daemon: " + title + ".\n");
        settings.forEach((k, v) -> b.append(k).append(" = ").append(v).append('\n'));
        return b.toString();
    }

    static String quote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    static boolean writeIfChanged(Path file, String content) throws IOException {
        if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).equals(content)) {
            return false;
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return true;
    }

}
