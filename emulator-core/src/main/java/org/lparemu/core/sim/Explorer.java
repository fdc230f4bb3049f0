package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;

/**
 * Runs a scenario under many schedules and reports what it found: the outcomes by frequency, the failing runs,
 * and for the first failure its seed, its schedule and a shrunk schedule that still fails. Every run is a function
 * of (scenario, policies, strategy, depth, run seed): {@link #replaySeed} and {@link #replay} reproduce one exactly.
 *
 * <p>Not thread-safe: one exploration at a time per explorer (its carrier threads are reused across runs).
 */
public final class Explorer implements AutoCloseable {
    /** Decisions after which a run is a livelock. */
    public static final long DEFAULT_MAX_STEPS = 50_000;
    /** Virtual time after which no timer fires (ten minutes: every guest back-off and platform timeout fits). */
    public static final long TIME_LIMIT_NANOS = 600_000_000_000L;
    /** Replays the shrinker may spend on one failure. */
    public static final int DEFAULT_SHRINK_BUDGET = 400;

    private final CarrierPool carriers = new CarrierPool();
    private final long maxSteps;

    public Explorer() {
        this(DEFAULT_MAX_STEPS);
    }

    public Explorer(long maxSteps) {
        this.maxSteps = maxSteps;
    }

    /** What to explore: the policies, the strategy and how many runs. */
    public record Campaign(SimScenario scenario, VasPolicy vasPolicy, PrrnPolicy prrnPolicy, String strategy,
                           int depth, long schedules, long timeBudgetMillis, long seed, int shard, int shards,
                           boolean shrink) {
        public Campaign {
            if (shards < 1 || shard < 0 || shard >= shards) {
                throw new IllegalArgumentException("shard " + shard + "/" + shards + " is not one of 0.." + (shards - 1));
            }
            if (depth < 1) {
                throw new IllegalArgumentException("depth must be at least 1");
            }
            Strategies.of(strategy, 0, depth, 1);
        }

        /** A campaign of {@code schedules} runs from {@code seed} with the scenario's axis policy. */
        public static Campaign of(SimScenario s, VasPolicy v, PrrnPolicy p, String strategy, long schedules, long seed) {
            return new Campaign(s, v, p, strategy, 3, schedules, 0, seed, 0, 1, true);
        }

        /** The seed of run {@code i} of a campaign seeded with {@code base}. */
        public static long runSeed(long base, long i) {
            return new SplittableRandom(base ^ (i * 0x9E3779B97F4A7C15L)).nextLong();
        }
    }

    /** A live view of a campaign, for a progress line. */
    public record Progress(long runs, long failures, int distinctOutcomes, long elapsedNanos) {
        public double runsPerSecond() {
            return elapsedNanos == 0 ? 0 : runs * 1e9 / elapsedNanos;
        }
    }

    /**
     * What a campaign found.
     *
     * @param outcomes     outcome line (or failure name) -> runs, most frequent first
     * @param failuresByName failure name -> runs
     * @param firstFailure the first failing run, or null
     * @param shrunk       the first failure shrunk (fewest forced decisions that still fail the same way), or null
     */
    public record Report(Campaign campaign, long runs, long failures, Map<String, Long> outcomes,
                         Map<String, Long> failuresByName, RunResult firstFailure, RunResult shrunk,
                         int expectedSteps, long elapsedNanos) {
        public boolean clean() {
            return failures == 0;
        }
    }

    /** One run with a strategy of the campaign's kind seeded by {@code runSeed}. */
    public RunResult replaySeed(Campaign c, long runSeed) {
        int k = expectedSteps(c.scenario(), c.vasPolicy(), c.prrnPolicy());
        return run(c.scenario(), c.vasPolicy(), c.prrnPolicy(), Strategies.of(c.strategy(), runSeed, c.depth(), k),
                runSeed);
    }

    /** Replays recorded decisions (a schedule file's, or a shrunk schedule's). */
    public RunResult replay(SimScenario s, VasPolicy v, PrrnPolicy p, Map<Integer, Integer> forced) {
        return run(s, v, p, new Strategies.Guided(forced), -1);
    }

    /** One run of {@code s} under {@code strategy}. */
    public RunResult run(SimScenario s, VasPolicy v, PrrnPolicy p, Strategy strategy, long seed) {
        SimWorld w = new SimWorld(s, v, p, strategy, carriers, maxSteps, TIME_LIMIT_NANOS);
        SimScheduler.Verdict verdict = w.run();
        SimScheduler sched = w.scheduler();
        String detail = sched.verdictDetail();
        if (sched.failure() != null) {
            detail = detail + " " + stackTop(sched.failure());
        }
        return new RunResult(seed, strategy.name(), verdict, detail, w.findings(), w.outcome(), sched.steps(),
                sched.now(), sched.log(), w.trace(), sched.failure());
    }

    private static String stackTop(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        return st.length == 0 ? "" : "at " + st[0];
    }

    /**
     * The steps of the run with no preemption at all (each task runs until it blocks): PCT's estimate of a run's
     * length, a function of the scenario and policies alone so that a seed replays without the campaign.
     */
    public int expectedSteps(SimScenario s, VasPolicy v, PrrnPolicy p) {
        RunResult r = run(s, v, p, new Strategies.Guided(Map.of()), -1);
        return (int) Math.max(10, r.steps());
    }

    /** Runs a campaign; {@code progress} is called after every run. */
    public Report explore(Campaign c, Consumer<Progress> progress) {
        return explore(c, progress, false);
    }

    /**
     * Runs a campaign, stopping after the first failing run when {@code stopAtFirst} (then {@link Report#runs} is
     * the number of executions the strategy needed to find it).
     */
    public Report explore(Campaign c, Consumer<Progress> progress, boolean stopAtFirst) {
        long start = System.nanoTime();
        long deadline = c.timeBudgetMillis() > 0 ? start + c.timeBudgetMillis() * 1_000_000L : Long.MAX_VALUE;
        int k = expectedSteps(c.scenario(), c.vasPolicy(), c.prrnPolicy());
        Map<String, Long> outcomes = new LinkedHashMap<>();
        Map<String, Long> failures = new TreeMap<>();
        RunResult first = null;
        long runs = 0;
        long failed = 0;
        for (long i = 0; (c.schedules() <= 0 || i < c.schedules()) && System.nanoTime() < deadline; i++) {
            if (i % c.shards() != c.shard()) {
                continue;
            }
            long seed = Campaign.runSeed(c.seed(), i);
            RunResult r = run(c.scenario(), c.vasPolicy(), c.prrnPolicy(),
                    Strategies.of(c.strategy(), seed, c.depth(), k), seed);
            runs++;
            String key = r.failed() ? "VIOLATION " + r.failureName() : r.outcome();
            outcomes.merge(key, 1L, Long::sum);
            if (r.failed()) {
                failed++;
                failures.merge(r.failureName(), 1L, Long::sum);
                if (first == null) {
                    first = r;
                }
            }
            progress.accept(new Progress(runs, failed, outcomes.size(), System.nanoTime() - start));
            if (stopAtFirst && first != null) {
                break;
            }
        }
        RunResult shrunk = first != null && c.shrink()
                ? shrink(c.scenario(), c.vasPolicy(), c.prrnPolicy(), first, DEFAULT_SHRINK_BUDGET) : null;
        return new Report(c, runs, failed, sortByCount(outcomes), failures, first, shrunk, k,
                System.nanoTime() - start);
    }

    private static Map<String, Long> sortByCount(Map<String, Long> m) {
        List<Map.Entry<String, Long>> es = new ArrayList<>(m.entrySet());
        es.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        Map<String, Long> out = new LinkedHashMap<>();
        es.forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * Shrinks a failing run: removes forced decisions (chunks, then single ones, as delta debugging does) while the
     * replay still fails with the same failure name, so that what remains are the preemptions the failure needs.
     * Returns the smallest failing replay found within {@code budget} replays (the input when none is smaller).
     */
    public RunResult shrink(SimScenario s, VasPolicy v, PrrnPolicy p, RunResult failing, int budget) {
        String name = failing.failureName();
        RunResult best = replay(s, v, p, failing.log().forced());
        if (!best.failureName().equals(name)) {
            return failing;
        }
        List<Map.Entry<Integer, Integer>> entries = new ArrayList<>(best.log().forced().entrySet());
        int chunk = Math.max(1, entries.size() / 2);
        int left = budget;
        while (chunk >= 1 && left > 0 && !entries.isEmpty()) {
            boolean smaller = false;
            for (int startAt = 0; startAt < entries.size() && left > 0; startAt += chunk) {
                Map<Integer, Integer> candidate = new TreeMap<>();
                for (int i = 0; i < entries.size(); i++) {
                    if (i < startAt || i >= startAt + chunk) {
                        candidate.put(entries.get(i).getKey(), entries.get(i).getValue());
                    }
                }
                RunResult r = replay(s, v, p, candidate);
                left--;
                if (r.failureName().equals(name) && r.log().forced().size() < entries.size()) {
                    best = r;
                    entries = new ArrayList<>(r.log().forced().entrySet());
                    smaller = true;
                    break;
                }
            }
            if (!smaller) {
                if (chunk == 1) {
                    break;
                }
                chunk = Math.max(1, chunk / 2);
            } else {
                chunk = Math.max(1, Math.min(chunk, entries.size() / 2));
            }
        }
        return best;
    }

    @Override
    public void close() {
        carriers.close();
    }
}
