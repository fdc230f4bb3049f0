package org.lparemu.fraybench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.lparemu.core.guest.VasPolicy;

/**
 * Fray beside lparemu's explorer: runs every {@link FrayCampaign} in its own child JVM under Fray (each bounded in
 * wall time, so that a livelocked campaign is killed and reported, not waited for), runs naive stress on plain
 * threads here, and writes one JSON file that benchmark figures B7 and B8 read.
 *
 * <pre>
 * FrayBench --out FILE --java FRAY_JAVA --agent AGENT_JAR --jvmti LIBJVMTI_SO --classpath CP [--quick]
 * </pre>
 *
 * <h2>The results file (schema 1)</h2>
 *
 * <pre>
 * {
 *   "schema": 1, "fray_version": "0.9.2", "java": FRAY_JAVA's version line, "quick": bool,
 *   "detection": [ {                        PRE_FIX, iterations to the first failure, one entry per scenario x strategy
 *       "scenario": "simple" | "end-to-end", "strategy": "pos" | "pct" | "random", "policy": "PRE_FIX",
 *       "seeds": N, "found": seeds that failed within the cap, "max_iterations": the cap per seed,
 *       "iterations": [per seed, in seed order: iterations to and including the failing one, or the cap],
 *       "median": of iterations (a seed that found nothing counts as the cap), "min", "max",
 *       "ms_median": wall time per seed inside the Fray JVM (the first seed pays Fray's instrumentation),
 *       "replay_attempted", "replay_reproduced": Fray's recording of each failure replayed once,
 *       "verdict": "ok" | "timeout: ..." | "crash: ..." } ],
 *   "throughput": [ {                       UPSTREAM, a fixed budget: must stay clean
 *       "scenario", "strategy", "policy": "UPSTREAM", "budget": iterations asked for,
 *       "iterations": done, "seconds", "per_s", "failures": 0 or 1 (Fray stops at the first),
 *       "verdict": "clean" | "failed: ..." | "livelock: ..." (killed after the wall bound; iterations = last
 *                  progress line) | "crash: ..." } ],
 *   "stress": [ {                           plain threads, no Fray, the same world and failure test
 *       "scenario", "policy", "repetitions", "seconds", "per_s", "hits", "hit_pct" } ],
 *   "limits": [ "what Fray could not do here, in words" ]
 * }
 * </pre>
 */
public final class FrayBench {
    static final int SCHEMA = 1;
    static final String VERSION = "0.9.2";
    static final List<String> STRATEGIES = List.of("pos", "pct", "random");
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
            .create();

    private final Map<String, String> opts;
    private final boolean quick;
    private final Path logs;

    private FrayBench(Map<String, String> opts) {
        this.opts = opts;
        this.quick = opts.containsKey("quick");
        this.logs = Path.of(opts.get("out")).toAbsolutePath().getParent().resolve("fray-logs");
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String k = args[i].replaceFirst("^--", "");
            if (k.equals("quick")) {
                o.put(k, "true");
            } else {
                o.put(k, args[++i]);
            }
        }
        for (String k : List.of("out", "java", "agent", "jvmti", "classpath")) {
            if (!o.containsKey(k)) {
                throw new IllegalArgumentException("missing --" + k);
            }
        }
        new FrayBench(o).run();
    }

    private void run() throws Exception {
        Files.createDirectories(logs);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("schema", SCHEMA);
        out.put("fray_version", VERSION);
        out.put("java", javaVersion());
        out.put("quick", quick);
        List<Object> detection = new ArrayList<>();
        List<Object> throughput = new ArrayList<>();
        List<String> limits = new ArrayList<>();
        int seeds = quick ? 3 : 20;
        for (World.Scenario sc : World.Scenario.values()) {
            for (String st : STRATEGIES) {
                detection.add(detect(sc, st, seeds));
            }
        }
        for (World.Scenario sc : World.Scenario.values()) {
            for (String st : STRATEGIES) {
                throughput.add(throughput(sc, st));
            }
        }
        out.put("detection", detection);
        out.put("throughput", throughput);
        out.put("stress", stress());
        limits.add("prepare-fray (the Maven plugin) cannot build Fray's JDK here: Fray 0.9.2 instruments only a JDK 25 "
                + "(it downloads Corretto 25 unless given one), and its jlink call wants that JDK's jmods/, which the "
                + "Temurin 25 here lacks; fray-bench/run links it by hand from Temurin 25's run-time image (JEP 493).");
        for (Object t : throughput) {
            String v = String.valueOf(((Map<?, ?>) t).get("verdict"));
            if (v.startsWith("livelock")) {
                limits.add(((Map<?, ?>) t).get("strategy") + " on " + ((Map<?, ?>) t).get("scenario") + " under UPSTREAM: "
                        + v);
            }
        }
        out.put("limits", limits);
        Path file = Path.of(opts.get("out"));
        Files.writeString(file, GSON.toJson(out) + "\n");
        System.err.println("fray-bench: wrote " + file);
    }

    private Map<String, Object> detect(World.Scenario sc, String strategy, int seeds) throws Exception {
        int cap = quick ? 100 : strategy.equals("random") ? (sc == World.Scenario.SIMPLE ? 500 : 300) : 200;
        int seedTimeoutS = quick ? 30 : 60;
        long wallS = (long) seeds * seedTimeoutS + 60;
        Child c = child(sc.id() + "-" + strategy + "-detect", wallS, "detect", sc.id(), "PRE_FIX", strategy, "1",
                String.valueOf(seeds), String.valueOf(cap), String.valueOf(seedTimeoutS));
        List<Double> its = new ArrayList<>();
        List<Double> ms = new ArrayList<>();
        int found = 0;
        int attempted = 0;
        int reproduced = 0;
        for (JsonObject r : c.results) {
            boolean f = r.get("found").getAsBoolean();
            found += f ? 1 : 0;
            its.add(f ? r.get("iterations").getAsDouble() : cap);
            ms.add(r.get("ms").getAsDouble());
            if (r.has("replay")) {
                attempted++;
                reproduced += r.get("replay").getAsString().equals("reproduced") ? 1 : 0;
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", sc.id());
        m.put("strategy", strategy);
        m.put("policy", "PRE_FIX");
        m.put("seeds", c.results.size());
        m.put("found", found);
        m.put("max_iterations", cap);
        m.put("iterations", its);
        m.put("median", its.isEmpty() ? Double.NaN : median(its));
        m.put("min", its.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN));
        m.put("max", its.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN));
        m.put("ms_median", ms.isEmpty() ? Double.NaN : median(ms));
        m.put("replay_attempted", attempted);
        m.put("replay_reproduced", reproduced);
        m.put("verdict", c.results.size() == seeds ? "ok" : c.verdict);
        System.err.printf("fray-bench: detect %-10s %-6s %d/%d found, iterations %s, replay %d/%d%n", sc.id(),
                strategy, found, c.results.size(), its, reproduced, attempted);
        return m;
    }

    private Map<String, Object> throughput(World.Scenario sc, String strategy) throws Exception {
        int budget = quick ? 50 : (sc == World.Scenario.SIMPLE ? 2_000 : 1_000);
        int timeoutS = quick ? 20 : 30;
        Child c = child(sc.id() + "-" + strategy + "-throughput", timeoutS + 60L, "throughput", sc.id(), "UPSTREAM",
                strategy, "1", String.valueOf(budget), String.valueOf(timeoutS));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("scenario", sc.id());
        m.put("strategy", strategy);
        m.put("policy", "UPSTREAM");
        m.put("budget", budget);
        if (c.results.isEmpty()) {
            m.put("iterations", c.progress);
            m.put("seconds", Double.NaN);
            m.put("per_s", Double.NaN);
            m.put("failures", 0);
            m.put("verdict", c.verdict);
        } else {
            JsonObject r = c.results.get(0);
            boolean f = r.get("found").getAsBoolean();
            m.put("iterations", r.get("iterations").getAsInt());
            m.put("seconds", r.get("seconds").getAsDouble());
            m.put("per_s", r.get("per_s").getAsDouble());
            m.put("failures", f ? 1 : 0);
            m.put("verdict", f ? "failed: " + r.get("failure").getAsString() : "clean");
        }
        System.err.printf("fray-bench: throughput %-10s %-6s %s%n", sc.id(), strategy, m);
        return m;
    }

    private List<Object> stress() throws Exception {
        List<Object> rows = new ArrayList<>();
        long budget = TimeUnit.SECONDS.toNanos(quick ? 1 : 6);
        for (World.Scenario sc : World.Scenario.values()) {
            for (VasPolicy p : List.of(VasPolicy.PRE_FIX, VasPolicy.UPSTREAM)) {
                long reps = 0;
                long hits = 0;
                long t0 = System.nanoTime();
                while (System.nanoTime() - t0 < budget) {
                    reps++;
                    hits += sc.once(p) != null ? 1 : 0;
                }
                double s = (System.nanoTime() - t0) / 1e9;
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("scenario", sc.id());
                m.put("policy", p.name());
                m.put("repetitions", reps);
                m.put("seconds", s);
                m.put("per_s", reps / s);
                m.put("hits", hits);
                m.put("hit_pct", 100.0 * hits / reps);
                System.err.printf("fray-bench: stress %s%n", m);
                rows.add(m);
            }
        }
        return rows;
    }

    /** What one child JVM printed: its result lines, its last progress count, and how it ended. */
    private static final class Child {
        final List<JsonObject> results = new ArrayList<>();
        volatile int progress;
        volatile String verdict = "ok";
    }

    private Child child(String name, long wallS, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(opts.get("java"), "-javaagent:" + opts.get("agent"),
                "-agentpath:" + opts.get("jvmti"), "-Dfray.workDir=" + logs.resolve(name + "-report"),
                "-Dlogback.configurationFile=none", "-cp", opts.get("classpath"), FrayCampaign.class.getName()));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Child c = new Child();
        Thread reader = new Thread(() -> read(p, c, logs.resolve(name + ".log")), "fray-bench-" + name);
        reader.start();
        if (!p.waitFor(wallS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            reader.join(TimeUnit.SECONDS.toMillis(10));
            c.verdict = "livelock: killed after " + wallS + " s of wall time with no result (" + c.progress
                    + " iterations had started; Fray has no step bound, so a schedule that never ends runs until killed)";
            return c;
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
        if (p.exitValue() != 0) {
            c.verdict = "crash: exit status " + p.exitValue() + " (see " + logs.resolve(name + ".log") + ")";
        }
        return c;
    }

    private static void read(Process p, Child c, Path log) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                w.println(line);
                if (line.startsWith(FrayCampaign.RESULT)) {
                    synchronized (c) {
                        c.results.add(JsonParser.parseString(line.substring(FrayCampaign.RESULT.length()))
                                .getAsJsonObject());
                    }
                } else if (line.startsWith(FrayCampaign.PROGRESS)) {
                    c.progress = Integer.parseInt(line.substring(FrayCampaign.PROGRESS.length()).trim());
                }
            }
        } catch (IOException e) {
            c.verdict = "crash: " + e;
        }
    }

    private String javaVersion() throws Exception {
        Process p = new ProcessBuilder(opts.get("java"), "-version").redirectErrorStream(true).start();
        String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst()
                .orElse("?");
        p.waitFor();
        return first;
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }
}
