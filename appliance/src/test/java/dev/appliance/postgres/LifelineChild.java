package dev.appliance.postgres;

import dev.appliance.consensus.state.MemberId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A stand-in daemon for {@link PostgresLifelineTest}: starts postgres, prints its pid, and waits to be killed. */
public final class LifelineChild {
    private LifelineChild() {
    }

    public static void main(String[] args) throws Exception {
        Path nodeDir = Path.of(args[0]);
        String host = args[1];
        int port = Integer.parseInt(args[2]);
        PgNodeSettings settings = new PgNodeSettings(MemberId.of("lifeline"), host, port, PgTestNodes.OS_USER, 128L << 20, 1,
                Map.of("fsync", "off"), 64, List.of(host), "127.0.0.0/8");
        PostgresSupervisor pg = new PostgresSupervisor(PgBinaries.discover(), new PgLayout(nodeDir), settings,
                PgCredentials.generate(), Duration.ofSeconds(60));
        pg.initialize();
        pg.startAsPrimary(Set.of(), false);
        System.out.println("POSTMASTER " + pg.pid().orElseThrow());
        System.out.flush();
        Thread.sleep(120_000);
        pg.close();
    }
}
