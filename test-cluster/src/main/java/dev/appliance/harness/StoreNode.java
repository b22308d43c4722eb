package dev.appliance.harness;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.store.RaftStore;
import dev.appliance.consensus.store.StoreConfig;
import dev.appliance.consensus.store.ViewStatus;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * One store node as its own process, for tests and benchmarks that need real process death (SIGKILL, SIGSTOP).
 * It renews its own session every 500 ms and prints one status line a tick ({@code STATUS role leader term
 * majority applied}). It exits 70 when the Raft server stops on its own, and when its parent's end of
 * stdin closes.
 *
 * <p>Arguments: {@code CLUSTER ID HOST:PORT DATA_DIR PEERS [SESSION_TTL_MS [CLOSE_THRESHOLD_MS]]}, where PEERS
 * is {@code n1=host:port,n2=host:port,...}.
 */
public final class StoreNode {
    public static final int EXIT_FATAL = 70;

    private StoreNode() {
    }

    public static void main(String[] args) throws IOException {
        LogManager.getLogManager().reset();
        Logger.getLogger("").setLevel(Level.WARNING);
        if (args.length < 5) {
            System.err.println("usage: StoreNode CLUSTER ID HOST:PORT DATA_DIR PEERS [SESSION_TTL_MS [CLOSE_THRESHOLD_MS]]");
            System.exit(2);
        }
        MemberId self = MemberId.of(args[1]);
        String[] hostPort = args[2].split(":");
        Map<MemberId, String> peers = new TreeMap<>();
        for (String p : args[4].split(",")) {
            String[] kv = p.split("=");
            peers.put(MemberId.of(kv[0]), kv[1]);
        }
        StoreConfig config = StoreConfig.of(args[0], self, hostPort[0], Integer.parseInt(hostPort[1]), peers, Path.of(args[3]));
        if (args.length > 5) {
            config = config.withSessionTtl(Duration.ofMillis(Long.parseLong(args[5])));
        }
        if (args.length > 6) {
            config = config.withCloseThreshold(Duration.ofMillis(Long.parseLong(args[6])));
        }
        RaftStore store;
        try {
            store = RaftStore.start(config);
        } catch (IOException e) {
            System.out.println("FATAL " + e.getMessage());
            System.exit(EXIT_FATAL);
            return;
        }
        store.onFatal(why -> {
            System.out.println("FATAL " + why);
            System.out.flush();
            Runtime.getRuntime().halt(EXIT_FATAL);
        });
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        timer.scheduleWithFixedDelay(() -> store.renew("pid " + ProcessHandle.current().pid()), 0, 500, TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(() -> {
            ViewStatus v = store.view();
            System.out.println("STATUS " + v.role() + " " + (v.leader() == null ? "-" : v.leader()) + " " + v.term() + " "
                    + v.majorityReachable() + " " + v.appliedIndex());
            System.out.flush();
        }, 0, 100, TimeUnit.MILLISECONDS);
        Thread parentWatch = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // only the end of the stream matters: the parent is gone
                }
            } catch (IOException ignored) {
                // treated like the end of the stream
            }
            Runtime.getRuntime().halt(EXIT_FATAL);
        }, "parent-watch");
        parentWatch.setDaemon(true);
        parentWatch.start();
    }
}
