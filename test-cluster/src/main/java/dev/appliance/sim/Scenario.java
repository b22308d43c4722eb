package dev.appliance.sim;

import dev.appliance.peer.EngineSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * Everything that decides how one simulated run goes: the cluster's shape and settings, when each node's
 * heartbeat ticks, the ops and their times, and how the run ends. A run is a pure function of its scenario,
 * so a scenario (printed as one line by {@link #format()}) replays exactly.
 *
 * @param seed       the seed the scenario was generated from (0 when written by hand)
 * @param nodes      how many nodes, n1..nN
 * @param singleton  the nodes are configured singleton
 * @param twoNode    allowTwoNodeFailover
 * @param maxSyncLag maxSyncLag in bytes
 * @param phasesMs   per node, when its first heartbeat ticks
 * @param ops        what happens, in time order
 * @param ending     how the run ends
 */
public record Scenario(long seed, int nodes, boolean singleton, boolean twoNode, long maxSyncLag,
        List<Long> phasesMs, List<TimedOp> ops, Ending ending) {

    /** HEAL_ALL: every fault is repaired. HEAL_ALL_BUT_PRIMARY: the same, but the primary is killed for good. */
    public enum Ending { HEAL_ALL, HEAL_ALL_BUT_PRIMARY }

    public record TimedOp(long atMs, Op op) {
        @Override
        public String toString() {
            return atMs + " " + op.text();
        }
    }

    public Scenario {
        phasesMs = List.copyOf(phasesMs);
        ops = List.copyOf(ops);
        if (phasesMs.size() != nodes) {
            throw new IllegalArgumentException("one heartbeat phase per node");
        }
    }

    public EngineSettings settings() {
        EngineSettings d = EngineSettings.defaults();
        return new EngineSettings(d.heartbeat(), d.ttl(), d.fenceMargin(), maxSyncLag, d.syncDwell(),
                d.syncFailTimeout(), d.pgRestartTimeout(), Duration.ofSeconds(10), twoNode, singleton);
    }

    public Scenario withOps(List<TimedOp> newOps) {
        return new Scenario(seed, nodes, singleton, twoNode, maxSyncLag, phasesMs, newOps, ending);
    }

    public long lastOpAtMs() {
        return ops.isEmpty() ? 0 : ops.get(ops.size() - 1).atMs();
    }

    public String format() {
        return "seed=" + seed + ";nodes=" + nodes + ";singleton=" + singleton + ";twoNode=" + twoNode
                + ";maxSyncLag=" + maxSyncLag
                + ";phases=" + phasesMs.stream().map(String::valueOf).collect(Collectors.joining(","))
                + ";ending=" + ending
                + ";ops=" + ops.stream().map(TimedOp::toString).collect(Collectors.joining(","));
    }

    public static Scenario parse(String text) {
        long seed = 0;
        int nodes = 0;
        boolean singleton = false;
        boolean twoNode = false;
        long lag = EngineSettings.defaults().maxSyncLagBytes();
        List<Long> phases = List.of();
        Ending ending = Ending.HEAL_ALL;
        List<TimedOp> ops = new ArrayList<>();
        for (String field : text.trim().split(";")) {
            int eq = field.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("scenario field without '=': '" + field + "'");
            }
            String key = field.substring(0, eq).trim();
            String value = field.substring(eq + 1).trim();
            switch (key) {
                case "seed": seed = Long.parseLong(value); break;
                case "nodes": nodes = Integer.parseInt(value); break;
                case "singleton": singleton = Boolean.parseBoolean(value); break;
                case "twoNode": twoNode = Boolean.parseBoolean(value); break;
                case "maxSyncLag": lag = Long.parseLong(value); break;
                case "phases": phases = Arrays.stream(value.split(",")).map(String::trim).map(Long::parseLong).toList(); break;
                case "ending": ending = Ending.valueOf(value); break;
                case "ops":
                    if (!value.isEmpty()) {
                        for (String op : value.split(",")) {
                            String t = op.trim();
                            int space = t.indexOf(' ');
                            ops.add(new TimedOp(Long.parseLong(t.substring(0, space)), Op.parse(t.substring(space + 1))));
                        }
                    }
                    break;
                default: throw new IllegalArgumentException("unknown scenario field '" + key + "'");
            }
        }
        return new Scenario(seed, nodes, singleton, twoNode, lag, phases, ops, ending);
    }

    /** A random scenario, the same for the same seed. */
    public static Scenario generate(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int nodes = r.nextInt(10) == 0 ? 2 : 3 + r.nextInt(3);
        boolean singleton = r.nextInt(16) == 0;
        boolean twoNode = nodes == 2 ? r.nextInt(2) == 0 : r.nextInt(8) == 0;
        long lag = r.nextBoolean() ? EngineSettings.defaults().maxSyncLagBytes() : 16 * WalRecord.BYTES_PER_RECORD;
        List<Long> phases = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            phases.add((long) r.nextInt(500));
        }
        List<TimedOp> ops = new ArrayList<>();
        long t = 2500 + r.nextInt(4000);
        int count = 3 + r.nextInt(16);
        for (int i = 0; i < count; i++) {
            ops.add(new TimedOp(t, randomOp(r, nodes, singleton)));
            t += 50 + r.nextInt(r.nextInt(4) == 0 ? 8000 : 2500);
        }
        Ending ending = r.nextInt(3) == 0 ? Ending.HEAL_ALL_BUT_PRIMARY : Ending.HEAL_ALL;
        return new Scenario(seed, nodes, singleton, twoNode, lag, phases, ops, ending);
    }

    private static Op randomOp(SplittableRandom r, int nodes, boolean singleton) {
        String n = "n" + (1 + r.nextInt(nodes));
        int pick = r.nextInt(100);
        if (pick < 14) return new Op.KillNode(n);
        if (pick < 20) return new Op.KillDaemon(n);
        if (pick < 27) return new Op.KillPostgres(n);
        if (pick < 30) return new Op.BreakPostgres(n);
        if (pick < 44) return new Op.RestartNode(n);
        if (pick < 51) return new Op.Isolate(n);
        if (pick < 56) return new Op.CutRaft(n);
        if (pick < 66) return new Op.Heal(n);
        if (pick < 70) return new Op.StallReplication(n);
        if (pick < 73) return new Op.SlowReplication(n);
        if (pick < 76) return new Op.StallReplay(n);
        if (pick < 81) return new Op.ResumeReplication(n);
        if (pick < 84) return new Op.PauseDaemon(n, 500 + r.nextInt(6000));
        if (pick < 86) return new Op.FailNextRewind(n);
        if (pick < 89) return new Op.FreezeCluster();
        if (pick < 92) return new Op.Unfreeze();
        if (pick < 96) return new Op.Switchover(r.nextBoolean() ? null : n);
        if (pick < 98 || !singleton) return new Op.LeaderChange();
        return new Op.LeaveSingleton();
    }
}
