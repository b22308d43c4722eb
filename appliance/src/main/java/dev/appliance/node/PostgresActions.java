package dev.appliance.node;

import dev.appliance.consensus.state.MemberId;
import dev.appliance.peer.PostgresStep;
import dev.appliance.postgres.PgRebuilds;
import dev.appliance.postgres.PostgresSupervisor;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out work on this node's postgres, one piece at a time, on its own thread: the planner's steps,
 * opening and closing client access, and keeping replication slots. Long work (a clone takes minutes) never
 * holds up the node loop, which keeps renewing the session meanwhile. Each completion, or failure, is handed
 * back to the loop as data.
 */
final class PostgresActions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresActions.class);

    /** A piece of work on postgres. */
    sealed interface Work {
        /** A step towards the engine's target. */
        record Step(PostgresStep step) implements Work {
        }

        /** Open or close postgres to clients (closing terminates their sessions). */
        record Access(boolean open) implements Work {
        }

        /** Let exactly these members' hosts replicate (pg_hba.conf). */
        record PeerHosts(List<String> hosts) implements Work {
        }

        /** Keep one replication slot for each of these members. */
        record Slots(Set<MemberId> downstreams) implements Work {
        }
    }

    /** Resolves a member to where its postgres listens; empty when the member has not registered yet. */
    interface Addresses extends Function<MemberId, java.util.Optional<PostgresSupervisor.Upstream>> {
    }

    private final PostgresSupervisor pg;
    private final PgRebuilds rebuilds;
    private final int cloneMaxRateKb;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "postgres-actions");
        t.setDaemon(true);
        return t;
    });
    private volatile Work running;

    PostgresActions(PostgresSupervisor pg, long cloneMaxRateBytes) {
        this.pg = pg;
        this.rebuilds = new PgRebuilds(pg);
        this.cloneMaxRateKb = (int) Math.min(Integer.MAX_VALUE, cloneMaxRateBytes >> 10);
    }

    boolean busy() {
        return running != null;
    }

    Work running() {
        return running;
    }

    /**
     * Starts {@code work}. When it ends, {@code observe} runs first (while this is still busy, so nothing can
     * be planned from a reading taken before the work ended), then {@code done} gets the work back with its
     * failure, if any. Only while not busy.
     */
    void submit(Work work, Addresses addresses, Runnable observe, BiConsumer<Work, Exception> done) {
        if (running != null) {
            throw new IllegalStateException("postgres is busy with " + running);
        }
        running = work;
        worker.execute(() -> {
            Exception failure = null;
            long started = System.nanoTime();
            try {
                run(work, addresses);
            } catch (Exception e) {
                failure = e;
            }
            LOG.debug("{} {} in {} ms", work, failure == null ? "done" : "failed", (System.nanoTime() - started) / 1_000_000);
            try {
                observe.run();
            } finally {
                running = null;
            }
            done.accept(work, failure);
        });
    }

    private void run(Work work, Addresses addresses) throws IOException {
        if (work instanceof Work.Access a) {
            pg.setClientAccess(a.open());
            LOG.info("postgres {} to clients", a.open() ? "opened" : "closed");
            return;
        }
        if (work instanceof Work.Slots s) {
            pg.ensureSlots(s.downstreams());
            return;
        }
        if (work instanceof Work.PeerHosts h) {
            if (pg.peerHostsChanged(h.hosts())) {
                LOG.info("pg_hba.conf: members replicate from {}", h.hosts());
            }
            return;
        }
        PostgresStep step = ((Work.Step) work).step();
        LOG.info("postgres: {}", describe(step));
        if (step instanceof PostgresStep.Initialize) {
            pg.initialize();
        } else if (step instanceof PostgresStep.StartPrimary p) {
            if (pg.hasStandbyData()) {
                pg.startAsStandby(null);
            } else {
                pg.startAsPrimary(p.syncRequired(), !p.writable());
            }
        } else if (step instanceof PostgresStep.StartStandby s) {
            pg.startAsStandby(upstream(addresses, s.upstream()));
        } else if (step instanceof PostgresStep.Promote p) {
            pg.promote(p.syncRequired(), !p.writable());
        } else if (step instanceof PostgresStep.ReconfigurePrimary p) {
            if (pg.reconfigurePrimary(p.syncRequired(), !p.writable())) {
                LOG.warn("a postgres setting changed that takes effect only after a restart");
            }
        } else if (step instanceof PostgresStep.Follow f) {
            pg.reconfigureStandby(f.upstream() == null ? null : upstream(addresses, f.upstream()));
        } else if (step instanceof PostgresStep.Stop) {
            pg.stop();
        } else if (step instanceof PostgresStep.Rewind r) {
            if (pg.rebuiltFor(r.generation())) {
                LOG.info("already rebuilt for generation {}; no rewind", r.generation());
                return;
            }
            rebuilds.rewind(upstream(addresses, r.source()), r.generation());
        } else if (step instanceof PostgresStep.Clone c) {
            if (pg.rebuiltFor(c.generation())) {
                LOG.info("already rebuilt for generation {}; no clone", c.generation());
                return;
            }
            long[] reported = {0};
            rebuilds.clone(upstream(addresses, c.source()), c.generation(), cloneMaxRateKb, (doneKb, totalKb) -> {
                long now = System.nanoTime();
                if (now - reported[0] > TimeUnit.SECONDS.toNanos(5)) {
                    reported[0] = now;
                    LOG.info("cloning from {}: {} of {} MB{}", c.source(), doneKb >> 10, totalKb >> 10,
                            totalKb > 0 ? " (" + doneKb * 100 / totalKb + "%)" : "");
                }
            });
        }
    }

    private static PostgresSupervisor.Upstream upstream(Addresses addresses, MemberId member) throws IOException {
        return addresses.apply(member).orElseThrow(() -> new IOException(member + " has not registered its addresses yet"));
    }

    static String describe(PostgresStep step) {
        if (step instanceof PostgresStep.StartPrimary p) {
            return "start to become the primary (sync " + p.syncRequired() + (p.writable() ? "" : ", read-only") + ")";
        }
        if (step instanceof PostgresStep.StartStandby s) {
            return "start as a standby of " + s.upstream();
        }
        if (step instanceof PostgresStep.Promote p) {
            return "promote (sync " + p.syncRequired() + (p.writable() ? "" : ", read-only") + ")";
        }
        if (step instanceof PostgresStep.ReconfigurePrimary p) {
            return "reconfigure the primary (sync " + p.syncRequired() + (p.writable() ? "" : ", read-only") + ")";
        }
        if (step instanceof PostgresStep.Follow f) {
            return f.upstream() == null ? "detach from the upstream" : "follow " + f.upstream();
        }
        if (step instanceof PostgresStep.Stop s) {
            return s.clean() ? "stop cleanly" : "stop";
        }
        if (step instanceof PostgresStep.Rewind r) {
            return "rewind from " + r.source() + " for generation " + r.generation();
        }
        if (step instanceof PostgresStep.Clone c) {
            return "clone from " + c.source() + " for generation " + c.generation();
        }
        return "initialize a new database";
    }

    /** Interrupts the piece of work under way and waits (bounded) for it to end, so postgres can be stopped. */
    @Override
    public void close() {
        worker.shutdownNow();
        try {
            if (!worker.awaitTermination(15, TimeUnit.SECONDS)) {
                Work w = running;
                LOG.warn("{} did not end within 15 s of its interrupt; stopping postgres waits for it",
                        w instanceof Work.Step s ? describe(s.step()) : "postgres work");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
