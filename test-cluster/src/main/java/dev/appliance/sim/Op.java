package dev.appliance.sim;

import dev.appliance.consensus.state.Freeze;
import dev.appliance.consensus.state.MemberId;
import dev.appliance.consensus.state.SwitchoverRequest;

/** One thing that happens to the cluster: a fault, a repair or an operator's request. */
public sealed interface Op {

    void apply(World w);

    /** The op in the scenario text form, e.g. {@code kill n1}. */
    String text();

    /** SIGKILL of the node's daemon and its postgres. */
    record KillNode(String node) implements Op {
        public void apply(World w) {
            SimNode n = w.node(MemberId.of(node));
            n.killDaemon();
            n.crashPostgres();
        }
        public String text() { return "kill " + node; }
    }

    /** SIGKILL of the daemon alone; postgres keeps running unsupervised. */
    record KillDaemon(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).killDaemon(); }
        public String text() { return "kill-daemon " + node; }
    }

    /** postgres crashes; the daemon notices and decides. */
    record KillPostgres(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).crashPostgres(); }
        public String text() { return "kill-pg " + node; }
    }

    /** postgres crashes and cannot start again until the node is restarted. */
    record BreakPostgres(String node) implements Op {
        public void apply(World w) {
            SimNode n = w.node(MemberId.of(node));
            n.pg.broken = true;
            n.crashPostgres();
        }
        public String text() { return "break-pg " + node; }
    }

    /** Starts a stopped daemon (with empty memory), resumes a paused one, and repairs a broken postgres. */
    record RestartNode(String node) implements Op {
        public void apply(World w) {
            SimNode n = w.node(MemberId.of(node));
            n.pg.broken = false;
            n.startDaemon();
        }
        public String text() { return "restart " + node; }
    }

    /** The node reaches nobody: neither the Raft majority nor any postgres. */
    record Isolate(String node) implements Op {
        public void apply(World w) { w.net.isolate(MemberId.of(node), w.now()); }
        public String text() { return "isolate " + node; }
    }

    /** The node loses the Raft majority but its replication connections still work. */
    record CutRaft(String node) implements Op {
        public void apply(World w) { w.net.cutRaft(MemberId.of(node), w.now()); }
        public String text() { return "cut-raft " + node; }
    }

    record Heal(String node) implements Op {
        public void apply(World w) { w.net.heal(MemberId.of(node)); }
        public String text() { return "heal " + node; }
    }

    /** The node's WAL receiver stays connected but receives nothing. */
    record StallReplication(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).pg.replicationStalled = true; }
        public String text() { return "stall " + node; }
    }

    /** The node's WAL receiver gets one record per tick at most. */
    record SlowReplication(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).pg.replicationSlow = true; }
        public String text() { return "slow " + node; }
    }

    /** The node replays nothing more, while it keeps receiving and flushing WAL. */
    record StallReplay(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).pg.replayStalled = true; }
        public String text() { return "stall-replay " + node; }
    }

    record ResumeReplication(String node) implements Op {
        public void apply(World w) {
            SimPostgres pg = w.node(MemberId.of(node)).pg;
            pg.replicationStalled = false;
            pg.replicationSlow = false;
            pg.replayStalled = false;
        }
        public String text() { return "resume " + node; }
    }

    /** SIGSTOP of the daemon for a while (a long GC pause); it resumes with its memory. */
    record PauseDaemon(String node, long ms) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).pause(ms); }
        public String text() { return "pause " + node + " " + ms; }
    }

    record FailNextRewind(String node) implements Op {
        public void apply(World w) { w.node(MemberId.of(node)).pg.failNextRewind = true; }
        public String text() { return "fail-rewind " + node; }
    }

    record FreezeCluster() implements Op {
        public void apply(World w) {
            w.store.operatorWrite(s -> s.isFrozen() ? s
                    : s.toBuilder().frozen(new Freeze("simulated maintenance", w.instant(w.now()))).switchover(null).build(),
                    "freeze");
        }
        public String text() { return "freeze"; }
    }

    record Unfreeze() implements Op {
        public void apply(World w) {
            w.store.operatorWrite(s -> s.toBuilder().frozen(null).build(), "unfreeze");
        }
        public String text() { return "unfreeze"; }
    }

    /** An operator asks for a planned switchover, to {@code node} or (when null) to any caught-up replica. */
    record Switchover(String node) implements Op {
        public void apply(World w) {
            w.store.operatorWrite(s -> s.isFrozen() || s.switchover() != null ? s
                    : s.toBuilder().switchover(new SwitchoverRequest(node == null ? null : MemberId.of(node),
                            w.instant(w.now()), "simulated operator")).build(),
                    "switchover request to " + (node == null ? "any replica" : node));
        }
        public String text() { return "switchover " + (node == null ? "any" : node); }
    }

    /** The Raft leader changes: every live session is granted a full ttl again. */
    record LeaderChange() implements Op {
        public void apply(World w) { w.store.leaderChange(); }
        public String text() { return "leader-change"; }
    }

    /** Every node's configuration stops saying singleton, so the primary may leave singleton mode. */
    record LeaveSingleton() implements Op {
        public void apply(World w) {
            for (SimNode n : w.nodes()) {
                n.settings = n.settings.withSingleton(false);
            }
        }
        public String text() { return "leave-singleton"; }
    }

    static Op parse(String text) {
        String[] p = text.trim().split("\\s+");
        String arg = p.length > 1 ? p[1] : null;
        switch (p[0]) {
            case "kill": return new KillNode(arg);
            case "kill-daemon": return new KillDaemon(arg);
            case "kill-pg": return new KillPostgres(arg);
            case "break-pg": return new BreakPostgres(arg);
            case "restart": return new RestartNode(arg);
            case "isolate": return new Isolate(arg);
            case "cut-raft": return new CutRaft(arg);
            case "heal": return new Heal(arg);
            case "stall": return new StallReplication(arg);
            case "slow": return new SlowReplication(arg);
            case "stall-replay": return new StallReplay(arg);
            case "resume": return new ResumeReplication(arg);
            case "pause": return new PauseDaemon(arg, Long.parseLong(p[2]));
            case "fail-rewind": return new FailNextRewind(arg);
            case "freeze": return new FreezeCluster();
            case "unfreeze": return new Unfreeze();
            case "switchover": return new Switchover("any".equals(arg) ? null : arg);
            case "leader-change": return new LeaderChange();
            case "leave-singleton": return new LeaveSingleton();
            default: throw new IllegalArgumentException("unknown op '" + text + "'");
        }
    }
}
