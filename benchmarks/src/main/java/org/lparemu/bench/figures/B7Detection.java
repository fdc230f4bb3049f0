package org.lparemu.bench.figures;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.sim.Explorer;
import org.lparemu.core.sim.SimScenario;
import org.lparemu.core.sim.SimScenarios;

/**
 * B7: how fast the explorer finds each race from a fresh seed (executions to the first failure, and the time that
 * took in-JVM including the baseline run), against naive stress on the same world.
 */
public final class B7Detection implements Figure {
    static final int MAX_EXECUTIONS = 2_000;
    static final String E2E_POS = "ours POS: 2023 race end to end (vas-open-vs-migration, PRE_FIX)";
    static final String PRRN_POS = "ours POS: LPM vs PRRN staleness (prrn-vs-migration, UNSERIALIZED)";
    static final String DEPTH_POS = "ours POS: open + migrate + DLPAR, three actors (open-migrate-dlpar, PRE_FIX)";
    static final String SIMPLE_POS = "ours POS: simple race (vas-open-vs-suspend, PRE_FIX)";
    static final String STRESS_E2E = "naive stress: 2023 race end to end (PRE_FIX)";
    static final String STRESS_SIMPLE = "naive stress: simple race (PRE_FIX)";

    static final List<Column> OURS = List.of(new Column("exec_median", "executions p50", 1),
            new Column("exec_max", "executions max", 0), new Column("ms_median", "ms p50", 1),
            new Column("ms_max", "ms max", 1), new Column("within_1s", "seeds within 1 s", 0, true),
            new Column("seeds", "seeds", 0));
    static final List<Column> STRESS = List.of(new Column("hit_pct", "failing repetitions %", 3, true),
            new Column("exec_expected", "expected executions to a failure", 0, true),
            new Column("reps_per_s", "repetitions/s", 0), new Column("repetitions", "repetitions", 0));
    static final List<Column> FRAY = List.of(new Column("exec_median", "iterations p50", 1),
            new Column("exec_min", "iterations min", 0), new Column("exec_max", "iterations max", 0),
            new Column("found", "seeds that found it", 0, true), new Column("seeds", "seeds", 0),
            new Column("ms_median", "ms p50 (Fray JVM)", 1),
            new Column("replay_reproduced", "replays that reproduced", 0, true),
            new Column("replay_attempted", "replays tried", 0, true));
    /** Fray's scenario ids and strategies, and the row labels they get here. */
    static final List<String> FRAY_SCENARIOS = List.of("end-to-end", "simple");
    static final List<String> FRAY_STRATEGIES = List.of("pos", "pct", "random");

    @Override
    public String id() {
        return "B7";
    }

    @Override
    public String title() {
        return "Detection: executions and time to the first failure from a fresh seed, explorer vs naive stress";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        boolean full = ctx.sizes().full();
        int seeds = full ? 20 : 3;
        String pl = ctx.placement();
        ResultTable ours = new ResultTable("B7 explorer, " + seeds + " campaign seeds each", pl, OURS);
        ours.rowHeader = "search";
        try (Explorer explorer = new Explorer()) {
            ours.rows.add(hunt(ctx, explorer, E2E_POS, SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX,
                    PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pos", seeds));
            ours.rows.add(hunt(ctx, explorer, "ours PCT: 2023 race end to end (PRE_FIX)",
                    SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pct", seeds));
            ours.rows.add(hunt(ctx, explorer, "ours random: 2023 race end to end (PRE_FIX)",
                    SimScenarios.vasOpenVsMigration(), VasPolicy.PRE_FIX, PrrnPolicy.DRAIN_BEFORE_SUSPEND, "random",
                    seeds));
            ours.rows.add(hunt(ctx, explorer, SIMPLE_POS, SimScenarios.vasOpenVsSuspend(), VasPolicy.PRE_FIX,
                    PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pos", seeds));
            ours.rows.add(hunt(ctx, explorer, PRRN_POS, SimScenarios.prrnVsMigration(), VasPolicy.UPSTREAM,
                    PrrnPolicy.UNSERIALIZED, "pos", seeds));
            ours.rows.add(hunt(ctx, explorer, DEPTH_POS, SimScenarios.openMigrateDlpar(), VasPolicy.PRE_FIX,
                    PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pos", seeds));
        }
        ResultTable stress = new ResultTable("B7 naive stress on the same world (fresh world per repetition)", pl,
                STRESS);
        long budget = TimeUnit.MILLISECONDS.toNanos(full ? 8_000 : 200);
        stress.rows.add(stress(ctx, STRESS_E2E, SimStress.Shape.END_TO_END, budget));
        stress.rows.add(stress(ctx, STRESS_SIMPLE, SimStress.Shape.SIMPLE, budget));

        FigureResult f = new FigureResult(id(), title());
        f.tables.add(ours);
        f.tables.add(stress);
        FrayResults fray = FrayResults.load(ctx, f.notes);
        if (fray != null) {
            addFray(f, fray, ours, pl);
        }
        for (String row : List.of(E2E_POS, PRRN_POS)) {
            ResultRow r = ours.row(row);
            String what = row.substring("ours POS: ".length(), row.indexOf(" ("));
            f.ratios.add(Ratio.absoluteAtMost(what + ": median executions to the failure", r.get("exec_median"), 3, "",
                    pl));
            f.ratios.add(Ratio.absoluteAtMost(what + ": median time to the failure", r.get("ms_median"), 100, "ms",
                    pl));
            f.ratios.add(Ratio.absoluteAtLeast(what + ": seeds that found it within 1 s", r.get("within_1s"), seeds,
                    "", pl));
        }
        ResultRow depth = ours.row(DEPTH_POS);
        f.ratios.add(Ratio.absoluteAtMost("three actors: median executions to the failure", depth.get("exec_median"),
                100, "", pl));
        double stressExpected = stress.row(STRESS_E2E).get("exec_expected");
        f.ratios.add(Ratio.info("end to end: stress's expected executions / ours POS median", stressExpected
                / Math.max(1, ours.row(E2E_POS).get("exec_median")), pl));
        f.method = "Explorer: for each campaign seed 1.." + seeds + ", a fresh Explorer.explore(stopAtFirst) of the "
                + "scenario under the policy; executions are the strategy's runs up to and including the first failing "
                + "one (max " + MAX_EXECUTIONS + "); the time includes the unmeasured baseline run PCT and POS use to "
                + "size a run. Every run is a fresh simulated world (Platform, InProcessPort, GuestKernel on a "
                + "SimMachine) under the seeded scheduler, virtual time. Stress: the same world on real threads "
                + "(ThreadMachine, virtual guest clock), a fresh Platform + InProcessPort + GuestKernel per repetition, "
                + "the two racing tasks started together, for a fixed time; its expected executions to a failure are "
                + "100 / failing %.";
        f.notes.add("The three-actor row is open-migrate-dlpar: its only violation under PRE_FIX is the 2023 race "
                + "(the DLPAR removal does not add one); UPSTREAM and HOLD_MUTEX stay clean under every strategy "
                + "(docs/exploration.md has the counts).");
        return f;
    }

    /** Fray label for a scenario and strategy, e.g. "Fray POS: 2023 race end to end (PRE_FIX)". */
    static String frayLabel(String scenario, String strategy) {
        return "Fray " + (strategy.equals("random") ? "random" : strategy.toUpperCase(Locale.ROOT)) + ": "
                + (scenario.equals("simple") ? "simple race" : "2023 race end to end") + " (PRE_FIX)";
    }

    private static void addFray(FigureResult f, FrayResults fray, ResultTable ours, String pl) {
        ResultTable t = new ResultTable("B7 Fray 0.9.2 on the same world (own JVM: " + fray.javaVersion()
                + "), iterations to the first failure per seed", pl, FRAY);
        t.rowHeader = "search";
        for (String sc : FRAY_SCENARIOS) {
            for (String st : FRAY_STRATEGIES) {
                JsonObject d = fray.detection(sc, st);
                if (d == null) {
                    continue;
                }
                List<Double> its = FrayResults.doubles(d.getAsJsonArray("iterations"));
                ResultRow r = new ResultRow(frayLabel(sc, st));
                r.put("exec_median", d.get("median").getAsDouble(), its);
                r.put("exec_min", d.get("min").getAsDouble(), its);
                r.put("exec_max", d.get("max").getAsDouble(), its);
                r.put("found", List.of(d.get("found").getAsDouble()));
                r.put("seeds", List.of(d.get("seeds").getAsDouble()));
                r.put("ms_median", List.of(d.get("ms_median").getAsDouble()));
                r.put("replay_reproduced", List.of(d.get("replay_reproduced").getAsDouble()));
                r.put("replay_attempted", List.of(d.get("replay_attempted").getAsDouble()));
                t.rows.add(r);
                if (!d.get("verdict").getAsString().equals("ok")) {
                    f.notes.add(r.label + ": " + d.get("verdict").getAsString());
                }
                if (d.get("found").getAsInt() < d.get("seeds").getAsInt()) {
                    f.notes.add(r.label + ": " + (d.get("seeds").getAsInt() - d.get("found").getAsInt()) + " seed(s) "
                            + "found nothing within " + d.get("max_iterations").getAsInt() + " iterations; they count as "
                            + "that cap in the median, min and max.");
                }
            }
        }
        f.tables.add(t);
        for (String[] pair : List.of(new String[] {"end-to-end", E2E_POS}, new String[] {"simple", SIMPLE_POS})) {
            JsonObject d = fray.detection(pair[0], "pos");
            if (d != null && d.get("median").getAsDouble() > 0) {
                f.ratios.add(Ratio.info((pair[0].equals("simple") ? "simple race" : "end to end")
                        + ": executions to the failure, ours POS / Fray POS (medians)",
                        ours.row(pair[1]).get("exec_median") / d.get("median").getAsDouble(), pl));
            }
        }
        f.notes.add("Fray rows: Fray 0.9.2's own schedulers (POSScheduler, PCTScheduler at its default depth, "
                + "RandomScheduler) driven through FrayInTestLauncher.launchFray, seeded per campaign seed, each iteration "
                + "a fresh Platform + InProcessPort + GuestKernel (ThreadMachine, VirtualGuestClock) with the same failure "
                + "tests as the stress rows; run by fray-bench/run in the same ./benchmarks/run, before this JVM started. "
                + "Replays: Fray's recording of each failure replayed once with launchFrayReplay.");
        for (String l : fray.limits()) {
            f.notes.add("Fray limit: " + l);
        }
    }

    private static ResultRow hunt(BenchContext ctx, Explorer explorer, String label, SimScenario s, VasPolicy v,
                                  PrrnPolicy p, String strategy, int seeds) {
        List<Double> exec = new ArrayList<>();
        List<Double> ms = new ArrayList<>();
        int within = 0;
        for (int seed = 1; seed <= seeds; seed++) {
            long t0 = System.nanoTime();
            Explorer.Report r = explorer.explore(new Explorer.Campaign(s, v, p, strategy, 3, MAX_EXECUTIONS, 0, seed,
                    0, 1, false), x -> { }, true);
            double millis = (System.nanoTime() - t0) / 1e6;
            if (r.firstFailure() == null) {
                throw new IllegalStateException(label + ": seed " + seed + " found nothing in " + MAX_EXECUTIONS);
            }
            exec.add((double) r.runs());
            ms.add(millis);
            within += millis <= 1000 ? 1 : 0;
        }
        ctx.log("B7 %-80s executions %s", label, exec);
        ResultRow row = new ResultRow(label);
        row.put("exec_median", exec);
        row.put("exec_max", exec.stream().mapToDouble(Double::doubleValue).max().orElse(0), exec);
        row.put("ms_median", ms);
        row.put("ms_max", ms.stream().mapToDouble(Double::doubleValue).max().orElse(0), ms);
        row.put("within_1s", within, List.of((double) within));
        row.put("seeds", seeds, List.of((double) seeds));
        return row;
    }

    private static ResultRow stress(BenchContext ctx, String label, SimStress.Shape shape, long budgetNanos)
            throws Exception {
        double[] r = SimStress.run(shape, VasPolicy.PRE_FIX, budgetNanos);
        double pct = 100.0 * r[1] / Math.max(1, r[0]);
        ctx.log("B7 %-80s %.0f repetitions, %.0f failing", label, r[0], r[1]);
        ResultRow row = new ResultRow(label);
        row.put("hit_pct", List.of(pct));
        row.put("exec_expected", List.of(r[1] == 0 ? r[0] : 100.0 / pct));
        row.put("reps_per_s", List.of(r[0] / r[2]));
        row.put("repetitions", List.of(r[0]));
        return row;
    }
}
