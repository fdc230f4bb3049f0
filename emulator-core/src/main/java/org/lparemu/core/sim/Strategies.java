package org.lparemu.core.sim;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The search strategies. Each draws from one {@link SplittableRandom} seeded by the run's seed.
 * <ul>
 *   <li>{@code random}: a uniform choice among what can run, at every decision (a random walk).</li>
 *   <li>{@code pct}: Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010): tasks get distinct random
 *       priorities, the highest runnable one runs, and at {@code depth - 1} random steps the running task drops
 *       below all others; a bug of depth d is found with probability at least 1/(n k^(d-1)).</li>
 *   <li>{@code pos}: Partial Order Sampling (Yuan et al., CAV 2018), in the form Fray uses: every task has a random
 *       priority, the highest runnable one runs, and the one that ran draws a new priority.</li>
 *   <li>{@code guided}: replays recorded decisions and falls back to running on without preemption; used by
 *       {@code --replay} and by the shrinker.</li>
 * </ul>
 * Hypervisor work (the event queue) takes part like a task with a priority of its own.
 */
public final class Strategies {
    /** The names {@link #of} accepts. */
    public static final List<String> NAMES = List.of("random", "pct", "pos");

    private Strategies() {
    }

    /** A strategy by name, for one run. */
    public static Strategy of(String name, long seed, int depth, int expectedSteps) {
        return switch (name) {
            case "random" -> new RandomWalk(seed);
            case "pct" -> new Pct(seed, depth, expectedSteps);
            case "pos" -> new Pos(seed);
            default -> throw new IllegalArgumentException("unknown strategy '" + name + "' (one of " + NAMES + ")");
        };
    }

    /** Uniform at every decision. */
    static final class RandomWalk implements Strategy {
        private final SplittableRandom rnd;

        RandomWalk(long seed) {
            rnd = new SplittableRandom(seed);
        }

        @Override
        public int pick(List<SimScheduler.Task> candidates, boolean eventReady, SimScheduler.Task current,
                        SimScheduler s) {
            return rnd.nextInt(candidates.size() + (eventReady ? 1 : 0));
        }

        @Override
        public String name() {
            return "random";
        }
    }

    /** Partial order sampling: highest priority runs, the one that ran redraws. */
    static final class Pos implements Strategy {
        private final SplittableRandom rnd;
        private double eventPriority;

        Pos(long seed) {
            rnd = new SplittableRandom(seed);
            eventPriority = rnd.nextDouble();
        }

        @Override
        public void onSpawn(SimScheduler.Task t, SimScheduler s) {
            t.priority = rnd.nextDouble();
        }

        @Override
        public int pick(List<SimScheduler.Task> candidates, boolean eventReady, SimScheduler.Task current,
                        SimScheduler s) {
            int best = -1;
            double bestPriority = -1;
            for (int i = 0; i < candidates.size(); i++) {
                if (candidates.get(i).priority > bestPriority) {
                    bestPriority = candidates.get(i).priority;
                    best = i;
                }
            }
            if (eventReady && eventPriority > bestPriority) {
                eventPriority = rnd.nextDouble();
                return candidates.size();
            }
            candidates.get(best).priority = rnd.nextDouble();
            return best;
        }

        @Override
        public String name() {
            return "pos";
        }
    }

    /** PCT with {@code depth - 1} priority change points over an expected {@code k} steps. */
    static final class Pct implements Strategy {
        private final SplittableRandom rnd;
        private final int depth;
        private final TreeSet<Integer> changePoints = new TreeSet<>();
        private double eventPriority;
        private int lowered;

        Pct(long seed, int depth, int expectedSteps) {
            if (depth < 1) {
                throw new IllegalArgumentException("PCT depth must be at least 1, got " + depth);
            }
            rnd = new SplittableRandom(seed);
            this.depth = depth;
            int k = Math.max(1, expectedSteps);
            while (changePoints.size() < Math.min(depth - 1, k)) {
                changePoints.add(1 + rnd.nextInt(k));
            }
            eventPriority = depth + rnd.nextDouble();
        }

        @Override
        public void onSpawn(SimScheduler.Task t, SimScheduler s) {
            // Initial priorities above every change-point priority (1 .. depth-1).
            t.priority = depth + rnd.nextDouble();
        }

        @Override
        public int pick(List<SimScheduler.Task> candidates, boolean eventReady, SimScheduler.Task current,
                        SimScheduler s) {
            int best = highest(candidates);
            if (best >= 0 && changePoints.contains((int) s.steps())) {
                // The task about to run drops below every other (later change points rank lower still).
                candidates.get(best).priority = depth - 1 - lowered++ + rnd.nextDouble() * 1e-3;
                best = highest(candidates);
            }
            if (eventReady && (best < 0 || eventPriority > candidates.get(best).priority)) {
                return candidates.size();
            }
            return best;
        }

        private static int highest(List<SimScheduler.Task> candidates) {
            int best = -1;
            double bestPriority = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < candidates.size(); i++) {
                if (candidates.get(i).priority > bestPriority) {
                    bestPriority = candidates.get(i).priority;
                    best = i;
                }
            }
            return best;
        }

        @Override
        public String name() {
            return "pct";
        }
    }

    /**
     * Replays decisions: at decision i, the task recorded for i if it can run (by creation id, which a replayed
     * prefix reproduces), else the fallback: the current task if it can go on, else queued hypervisor work, else
     * the runnable task created first.
     */
    public static final class Guided implements Strategy {
        /** The event queue's id in a guide. */
        public static final int EVENT = -1;
        private final Map<Integer, Integer> forced;
        private int followed;
        private int missed;

        /** @param forced decision index -> task id ({@link #EVENT} for the event queue) */
        public Guided(Map<Integer, Integer> forced) {
            this.forced = new HashMap<>(forced);
        }

        /** Every decision of a recorded schedule. */
        public static Guided replaying(List<ScheduleLog.Decision> decisions) {
            Map<Integer, Integer> m = new HashMap<>();
            for (ScheduleLog.Decision d : decisions) {
                m.put(d.index(), d.taskId());
            }
            return new Guided(m);
        }

        @Override
        public int pick(List<SimScheduler.Task> candidates, boolean eventReady, SimScheduler.Task current,
                        SimScheduler s) {
            Integer want = forced.get(s.log().decisions().size());
            if (want != null) {
                if (want == EVENT && eventReady) {
                    followed++;
                    return candidates.size();
                }
                for (int i = 0; i < candidates.size(); i++) {
                    if (candidates.get(i).id == want) {
                        followed++;
                        return i;
                    }
                }
                missed++;
            }
            if (current != null) {
                return candidates.indexOf(current);
            }
            return eventReady ? candidates.size() : 0;
        }

        /** Forced decisions that could be followed / could not (the task could not run at that decision). */
        public int followed() {
            return followed;
        }

        public int missed() {
            return missed;
        }

        @Override
        public String name() {
            return "guided";
        }
    }
}
