package org.lparemu.fraybench;

import com.google.gson.Gson;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import kotlin.Unit;
import org.lparemu.core.guest.VasPolicy;
import org.pastalab.fray.core.command.Configuration;
import org.pastalab.fray.core.observers.TimelineCoverageType;
import org.pastalab.fray.core.randomness.Randomness;
import org.pastalab.fray.core.scheduler.PCTScheduler;
import org.pastalab.fray.core.scheduler.POSScheduler;
import org.pastalab.fray.core.scheduler.RandomScheduler;
import org.pastalab.fray.core.scheduler.Scheduler;
import org.pastalab.fray.junit.plain.FrayInTestLauncher;

/**
 * One Fray campaign, in a JVM that Fray controls (the instrumented JDK, Fray's agent and JVMTI library; see
 * {@link FrayBench}): one scenario under one policy and one Fray scheduler, for a list of seeds.
 *
 * <pre>
 * FrayCampaign detect     SCENARIO POLICY STRATEGY FIRST_SEED LAST_SEED MAX_ITERATIONS TIMEOUT_S
 * FrayCampaign throughput SCENARIO POLICY STRATEGY SEED       ITERATIONS TIMEOUT_S
 * </pre>
 *
 * <p>SCENARIO is {@code simple} or {@code end-to-end}, POLICY a {@link VasPolicy}, STRATEGY {@code pos},
 * {@code pct} (Fray's default depth) or {@code random}. Results are printed one JSON object per line, each line
 * starting with {@value #RESULT}; progress with {@value #PROGRESS} every {@value #PROGRESS_EVERY} iterations, so
 * that a parent that had to kill a stuck campaign still knows how far it went. Everything else on stdout is Fray's.
 *
 * <p>detect, for each seed: Fray runs up to MAX_ITERATIONS iterations (or TIMEOUT_S seconds), stopping at the first
 * failure; the line has {@code seed}, {@code iterations} (to and including the failing one; the iterations run when
 * none failed), {@code found}, {@code ms}, {@code failure}. After a failure Fray's recording is replayed once
 * ({@code launchFrayReplay}): {@code replay} is {@code reproduced} (the same failure), {@code clean} (the replay
 * passed) or {@code other: ...}.
 *
 * <p>throughput: three warm-up iterations, then ITERATIONS (or TIMEOUT_S seconds); the line has {@code iterations},
 * {@code seconds}, {@code per_s}, {@code found} and {@code failure}.
 */
public final class FrayCampaign {
    static final String RESULT = "FRAY-RESULT ";
    static final String PROGRESS = "FRAY-PROGRESS ";
    static final int PROGRESS_EVERY = 1;
    private static final Gson GSON = new Gson();

    private final World.Scenario scenario;
    private final VasPolicy policy;
    private final String strategy;
    private int iterations;

    private FrayCampaign(World.Scenario scenario, VasPolicy policy, String strategy) {
        this.scenario = scenario;
        this.policy = policy;
        this.strategy = strategy;
    }

    public static void main(String[] args) {
        World.Scenario sc = scenario(args[1]);
        FrayCampaign c = new FrayCampaign(sc, VasPolicy.valueOf(args[2]), args[3]);
        if (args[0].equals("detect")) {
            for (long seed = Long.parseLong(args[4]); seed <= Long.parseLong(args[5]); seed++) {
                c.detect(seed, Integer.parseInt(args[6]), Integer.parseInt(args[7]));
            }
        } else {
            c.throughput(Long.parseLong(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
        }
        System.out.flush();
        // Fray's own threads (its progress display) must not keep the JVM alive.
        System.exit(0);
    }

    static World.Scenario scenario(String id) {
        for (World.Scenario s : World.Scenario.values()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no scenario " + id);
    }

    static Scheduler scheduler(String strategy, Randomness r) {
        return switch (strategy.toLowerCase(Locale.ROOT)) {
            case "pos" -> new POSScheduler(r);
            case "pct" -> new PCTScheduler(r);
            case "random" -> new RandomScheduler(r);
            default -> throw new IllegalArgumentException("strategy must be pos, pct or random, not " + strategy);
        };
    }

    /** The body Fray runs each iteration: one execution in a fresh world; a failure is an AssertionError. */
    private void body() {
        iterations++;
        if (iterations % PROGRESS_EVERY == 0) {
            System.out.println(PROGRESS + iterations);
        }
        String failure;
        try {
            failure = scenario.once(policy);
        } catch (Exception e) {
            throw new IllegalStateException("execution ended in an exception", e);
        }
        if (failure != null) {
            throw new AssertionError(failure);
        }
    }

    /** Runs Fray; returns the failure it stopped at, or null. */
    private Throwable launch(long seed, int maxIterations, int timeoutS, AtomicReference<Configuration> cfg) {
        SeededRandomness provider = new SeededRandomness(seed);
        try {
            FrayInTestLauncher.INSTANCE.launchFray(this::body, scheduler(strategy, provider.getRandomness()),
                    provider, maxIterations, timeoutS, false, TimelineCoverageType.NONE, c -> {
                        cfg.set(c);
                        return Unit.INSTANCE;
                    });
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private void detect(long seed, int maxIterations, int timeoutS) {
        iterations = 0;
        AtomicReference<Configuration> cfg = new AtomicReference<>();
        long t0 = System.nanoTime();
        Throwable failure = launch(seed, maxIterations, timeoutS, cfg);
        double ms = (System.nanoTime() - t0) / 1e6;
        Map<String, Object> m = head(seed);
        m.put("iterations", iterations);
        m.put("found", failure != null);
        m.put("ms", ms);
        m.put("failure", describe(failure));
        if (failure != null && cfg.get() != null) {
            m.put("replay", replay(cfg.get().getReport().resolve("recording"), failure));
        }
        print(m);
    }

    private String replay(Path recording, Throwable original) {
        iterations = 0;
        try {
            FrayInTestLauncher.INSTANCE.launchFrayReplay(this::body, recording.toString());
            return "clean";
        } catch (Throwable t) {
            if (same(t, original)) {
                return "reproduced";
            }
            return "other: " + describe(t);
        }
    }

    private static boolean same(Throwable a, Throwable b) {
        String x = root(a).getMessage();
        String y = root(b).getMessage();
        // The failure's kind is the message up to its first detail (window counts and statuses may differ).
        return x != null && y != null && kind(x).equals(kind(y));
    }

    private static String kind(String message) {
        int i = message.indexOf(" (");
        return i < 0 ? message : message.substring(0, i);
    }

    private void throughput(long seed, int budget, int timeoutS) {
        launch(seed + 1_000_000, 3, timeoutS, new AtomicReference<>());
        iterations = 0;
        long t0 = System.nanoTime();
        Throwable failure = launch(seed, budget, timeoutS, new AtomicReference<>());
        double s = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> m = head(seed);
        m.put("iterations", iterations);
        m.put("seconds", s);
        m.put("per_s", iterations / s);
        m.put("found", failure != null);
        m.put("failure", describe(failure));
        print(m);
    }

    private Map<String, Object> head(long seed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", scenario.id());
        m.put("policy", policy.name());
        m.put("strategy", strategy);
        m.put("seed", seed);
        return m;
    }

    private static Throwable root(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }

    private static String describe(Throwable t) {
        if (t == null) {
            return null;
        }
        Throwable r = root(t);
        return r.getClass().getSimpleName() + ": " + r.getMessage();
    }

    private static void print(Map<String, Object> m) {
        System.out.println(RESULT + GSON.toJson(m));
        System.out.flush();
    }
}
