package dev.appliance.sim;

import dev.appliance.peer.DecisionFunction;
import dev.appliance.peer.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Explores many seeded random schedules against a decision function, on every core, and reports the first
 * failures shrunk, with the one-line scenario that replays each.
 */
public final class Explorer {

    /**
     * @param schedules  how many schedules ran
     * @param steps      events processed over all of them
     * @param decisions  engine decisions over all of them
     * @param acknowledged commits acknowledged over all of them
     * @param violations schedules that broke an invariant
     * @param failures   the first failing schedules, shrunk and traced
     * @param elapsed    wall time
     */
    public record Report(long baseSeed, int schedules, long steps, long decisions, long acknowledged, int violations,
            Map<String, Long> events, List<Failure> failures, Duration elapsed) {

        public String summary() {
            return "explored " + schedules + " schedules, " + steps + " steps, " + violations + " violations";
        }

        /** What the schedules made happen, e.g. {@code write-takeover=1234 rewind=567 ...}. */
        public String coverage() {
            StringBuilder b = new StringBuilder();
            events.forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
            return b.toString();
        }
    }

    /** A failing schedule: its seed, the scenario as generated, shrunk, and the traced run of the shrunk one. */
    public record Failure(long seed, Scenario original, Scenario shrunk, Outcome outcome) {

        public String describe() {
            StringBuilder b = new StringBuilder();
            b.append("VIOLATION ").append(outcome.violations().get(0)).append('\n');
            b.append("  schedule seed ").append(seed).append(" (").append(original.ops().size()).append(" ops, shrunk to ")
                    .append(shrunk.ops().size()).append(")\n");
            b.append("  replay the shrunk schedule: bin/appliance simulate --replay '").append(shrunk.format()).append("'\n");
            b.append("  replay the original:        bin/appliance simulate --replay ").append(seed).append('\n');
            b.append("  in a test:                  Simulation.run(Scenario.parse(\"").append(shrunk.format()).append("\"))\n");
            b.append("  trace of the shrunk schedule:\n");
            for (String line : outcome.trace()) {
                b.append("    ").append(line).append('\n');
            }
            return b.toString();
        }
    }

    private Explorer() {
    }

    /** The seed of schedule {@code i} of a run from {@code baseSeed} (SplitMix64, so neighbours differ). */
    public static long scheduleSeed(long baseSeed, int i) {
        long z = baseSeed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static Report explore(long baseSeed, int schedules) {
        return explore(baseSeed, schedules, new Engine(), 1, i -> { });
    }

    /**
     * @param maxFailures how many failing schedules to shrink and trace
     * @param progress    called with the number of schedules done, now and then
     */
    public static Report explore(long baseSeed, int schedules, DecisionFunction engine, int maxFailures,
            IntConsumer progress) {
        long start = System.nanoTime();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "sim");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Outcome>> futures = new ArrayList<>(schedules);
            for (int i = 0; i < schedules; i++) {
                long seed = scheduleSeed(baseSeed, i);
                futures.add(pool.submit(() -> Simulation.run(Scenario.generate(seed), engine, false)));
            }
            long steps = 0;
            long decisions = 0;
            Map<String, Long> events = new TreeMap<>();
            long acked = 0;
            int violations = 0;
            List<Outcome> failed = new ArrayList<>();
            for (int i = 0; i < schedules; i++) {
                Outcome o = futures.get(i).get();
                steps += o.steps();
                decisions += o.decisions();
                acked += o.acknowledged();
                o.events().forEach((k, v) -> events.merge(k, v, Long::sum));
                if (o.failed()) {
                    violations++;
                    if (failed.size() < maxFailures) {
                        failed.add(o);
                    }
                }
                if ((i + 1) % 1000 == 0) {
                    progress.accept(i + 1);
                }
            }
            List<Failure> failures = new ArrayList<>();
            for (Outcome o : failed) {
                Scenario shrunk = Shrinker.shrink(o.scenario(), engine);
                failures.add(new Failure(o.scenario().seed(), o.scenario(), shrunk, Simulation.run(shrunk, engine, true)));
            }
            return new Report(baseSeed, schedules, steps, decisions, acked, violations, events, failures,
                    Duration.ofNanos(System.nanoTime() - start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("simulation interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a simulated schedule crashed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
