package org.lparemu.bench.figures;

import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.Interleaved;
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
import org.lparemu.core.sim.Strategies;

/**
 * B8: executions per second, the explorer against naive stress in the same world, interleaved in rounds; and a sweep
 * of every strategy over every scenario and policy that must end no run in a livelock.
 */
public final class B8Throughput implements Figure {
    static final String OURS_E2E = "ours POS: end to end (vas-open-vs-migration, UPSTREAM)";
    static final String OURS_SIMPLE = "ours POS: simple race (vas-open-vs-suspend, UPSTREAM)";
    static final String STRESS_E2E = "naive stress: end to end (UPSTREAM)";
    static final String STRESS_SIMPLE = "naive stress: simple race (UPSTREAM)";

    static final List<Column> COLUMNS = List.of(new Column("exec_per_s", "executions/s", 0),
            new Column("executions", "executions", 0), new Column("failures", "failures", 0, true),
            new Column("livelocks", "livelocks", 0, true));
    static final List<Column> FRAY = List.of(new Column("exec_per_s", "iterations/s", 0, true),
            new Column("executions", "iterations", 0, true), new Column("failures", "failures", 0, true),
            new Column("livelocks", "livelocks (killed)", 0, true));
    static final List<Column> SWEEP = List.of(new Column("runs", "runs", 0),
            new Column("livelocks", "livelocks", 0, true), new Column("violations", "violations", 0, true));

    @Override
    public String id() {
        return "B8";
    }

    @Override
    public String title() {
        return "Throughput: executions/s of the explorer and of naive stress; no livelock under any strategy";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        boolean full = ctx.sizes().full();
        long budgetMs = full ? 2_500 : 60;
        String pl = ctx.placement();
        List<Interleaved.Contender> cs = new ArrayList<>();
        List<ResultRow> rows;
        try {
            cs.add(new Ours(OURS_E2E, SimScenarios.vasOpenVsMigration(), budgetMs));
            cs.add(new Ours(OURS_SIMPLE, SimScenarios.vasOpenVsSuspend(), budgetMs));
            cs.add(new Stress(STRESS_E2E, SimStress.Shape.END_TO_END, budgetMs));
            cs.add(new Stress(STRESS_SIMPLE, SimStress.Shape.SIMPLE, budgetMs));
            rows = Interleaved.run(id(), cs, ctx.sizes().runs(), ctx);
        } finally {
            cs.forEach(Interleaved.Contender::close);
        }
        ResultTable t = new ResultTable("B8 executions/s, " + budgetMs + " ms per contender and round", pl, COLUMNS);
        t.rows.addAll(rows);
        ResultTable sweep = sweep(ctx, full ? 150 : 4);

        FigureResult f = new FigureResult(id(), title());
        f.tables.add(t);
        f.tables.add(sweep);
        f.ratios.add(Ratio.absoluteAtLeast("end to end: explorer executions/s", t.row(OURS_E2E).get("exec_per_s"), 430,
                "/s", pl));
        f.ratios.add(Ratio.absoluteAtLeast("simple race: explorer executions/s", t.row(OURS_SIMPLE).get("exec_per_s"),
                2000, "/s", pl));
        f.ratios.add(Ratio.info("end to end: explorer / naive stress executions/s", t.row(OURS_E2E).get("exec_per_s")
                / t.row(STRESS_E2E).get("exec_per_s"), pl));
        f.ratios.add(Ratio.info("simple race: explorer / naive stress executions/s",
                t.row(OURS_SIMPLE).get("exec_per_s") / t.row(STRESS_SIMPLE).get("exec_per_s"), pl));
        FrayResults fray = FrayResults.load(ctx, f.notes);
        if (fray != null) {
            addFray(f, fray, t, pl);
        }
        double livelocks = sweep.rows.stream().mapToDouble(r -> r.get("livelocks")).sum();
        f.ratios.add(Ratio.absoluteAtMost("livelocks over the whole sweep", livelocks, 0, "", pl));
        f.method = "Explorer rows: Explorer.explore of the scenario under UPSTREAM with POS for a fixed time "
                + "(--time), each execution a fresh simulated world (Platform, InProcessPort, GuestKernel on a "
                + "SimMachine, virtual time), live oracles after every step and all oracles at quiescence. Stress rows: "
                + "the same world on real threads, a fresh Platform + InProcessPort + GuestKernel per repetition "
                + "(the two racing tasks, the migration's drmgr, H_JOIN threads and timers for end to end). Rounds "
                + "interleave the contenders. The sweep runs every strategy (random, pct, pos) over every built-in "
                + "scenario under every policy of its axis with a step bound of " + Explorer.DEFAULT_MAX_STEPS
                + " decisions; a run over the bound ends in a typed livelock verdict.";
        return f;
    }

    private static void addFray(FigureResult f, FrayResults fray, ResultTable ours, String pl) {
        ResultTable t = new ResultTable("B8 Fray 0.9.2 iterations/s under UPSTREAM (own JVM: " + fray.javaVersion()
                + "), a fixed budget each", pl, FRAY);
        t.rowHeader = "search";
        for (String sc : List.of("end-to-end", "simple")) {
            for (String st : List.of("pos", "pct", "random")) {
                JsonObject d = fray.throughput(sc, st);
                if (d == null) {
                    continue;
                }
                String verdict = d.get("verdict").getAsString();
                double perS = d.get("per_s").getAsDouble();
                ResultRow r = new ResultRow("Fray " + (st.equals("random") ? "random" : st.toUpperCase(Locale.ROOT)) + ": "
                        + (sc.equals("simple") ? "simple race" : "end to end") + " (UPSTREAM)");
                r.put("exec_per_s", List.of(Double.isFinite(perS) ? perS : 0));
                r.put("executions", List.of(d.get("iterations").getAsDouble()));
                r.put("failures", List.of(d.get("failures").getAsDouble()));
                r.put("livelocks", List.of(verdict.startsWith("livelock") ? 1.0 : 0.0));
                t.rows.add(r);
                if (!verdict.equals("clean")) {
                    f.notes.add(r.label + ": " + verdict);
                }
            }
        }
        f.tables.add(t);
        JsonObject e2e = fray.throughput("end-to-end", "pos");
        if (e2e != null && e2e.get("per_s").getAsDouble() > 0) {
            f.ratios.add(Ratio.atLeast("end to end: executions/s, ours POS / Fray POS", ours.row(OURS_E2E).get("exec_per_s")
                    / e2e.get("per_s").getAsDouble(), 10, pl));
        }
        JsonObject simple = fray.throughput("simple", "pos");
        if (simple != null && simple.get("per_s").getAsDouble() > 0) {
            f.ratios.add(Ratio.info("simple race: executions/s, ours POS / Fray POS", ours.row(OURS_SIMPLE)
                    .get("exec_per_s") / simple.get("per_s").getAsDouble(), pl));
        }
        f.notes.add("Fray rows: Fray 0.9.2 (FrayInTestLauncher.launchFray with its POS, PCT and random schedulers) on the "
                + "same world under UPSTREAM, each iteration a fresh Platform + InProcessPort + GuestKernel on real "
                + "threads; three warm-up iterations, then a fixed iteration budget or time; each campaign in its own "
                + "Fray JVM, killed after a wall bound (Fray has no step bound: a schedule that never ends is a "
                + "livelock here). Measured by fray-bench/run in the same ./benchmarks/run.");
    }

    private static ResultTable sweep(BenchContext ctx, int runs) {
        ResultTable t = new ResultTable("B8 sweep: every strategy x scenario x policy, " + runs + " runs each",
                ctx.placement(), SWEEP);
        t.rowHeader = "strategy";
        try (Explorer explorer = new Explorer()) {
            for (String strategy : Strategies.NAMES) {
                long total = 0;
                long livelocks = 0;
                long violations = 0;
                for (SimScenario s : SimScenarios.all()) {
                    List<VasPolicy> vas = s.axis() == SimScenario.Axis.VAS ? List.of(VasPolicy.values())
                            : List.of(VasPolicy.UPSTREAM);
                    List<PrrnPolicy> prrn = s.axis() == SimScenario.Axis.PRRN ? List.of(PrrnPolicy.values())
                            : List.of(PrrnPolicy.DRAIN_BEFORE_SUSPEND);
                    for (VasPolicy v : vas) {
                        for (PrrnPolicy p : prrn) {
                            Explorer.Report r = explorer.explore(Explorer.Campaign.of(s, v, p, strategy, runs, 8),
                                    x -> { });
                            total += r.runs();
                            livelocks += r.failuresByName().getOrDefault("livelock", 0L);
                            violations += r.failures();
                        }
                    }
                }
                ctx.log("B8 sweep %s: %d runs, %d livelocks, %d violations", strategy, total, livelocks, violations);
                ResultRow row = new ResultRow(strategy);
                row.put("runs", List.of((double) total));
                row.put("livelocks", List.of((double) livelocks));
                row.put("violations", List.of((double) violations));
                t.rows.add(row);
            }
        }
        return t;
    }

    private static final class Ours implements Interleaved.Contender {
        private final String label;
        private final SimScenario scenario;
        private final long budgetMs;
        private final Explorer explorer = new Explorer();
        private long seed;

        Ours(String label, SimScenario scenario, long budgetMs) {
            this.label = label;
            this.scenario = scenario;
            this.budgetMs = budgetMs;
        }

        @Override
        public String label() {
            return label;
        }

        @Override
        public Map<String, Double> measure(boolean warmup) {
            Explorer.Report r = explorer.explore(new Explorer.Campaign(scenario, VasPolicy.UPSTREAM,
                    PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pos", 3, 0, warmup ? Math.max(20, budgetMs / 2) : budgetMs,
                    ++seed, 0, 1, false), x -> { });
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("exec_per_s", r.runs() * 1e9 / r.elapsedNanos());
            m.put("executions", (double) r.runs());
            m.put("failures", (double) r.failures());
            m.put("livelocks", (double) r.failuresByName().getOrDefault("livelock", 0L));
            return m;
        }

        @Override
        public void close() {
            explorer.close();
        }
    }

    private static final class Stress implements Interleaved.Contender {
        private final String label;
        private final SimStress.Shape shape;
        private final long budgetMs;

        Stress(String label, SimStress.Shape shape, long budgetMs) {
            this.label = label;
            this.shape = shape;
            this.budgetMs = budgetMs;
        }

        @Override
        public String label() {
            return label;
        }

        @Override
        public Map<String, Double> measure(boolean warmup) throws Exception {
            double[] r = SimStress.run(shape, VasPolicy.UPSTREAM,
                    TimeUnit.MILLISECONDS.toNanos(warmup ? Math.max(20, budgetMs / 2) : budgetMs));
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("exec_per_s", r[0] / r[2]);
            m.put("executions", r[0]);
            m.put("failures", r[1]);
            m.put("livelocks", 0.0);
            return m;
        }
    }
}
