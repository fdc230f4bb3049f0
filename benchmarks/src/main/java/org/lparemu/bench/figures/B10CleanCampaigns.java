package org.lparemu.bench.figures;

import java.util.List;
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
import org.lparemu.core.sim.Strategies;

/**
 * B10: the fixes stay clean over a large search. For each fixed policy, {@value #FULL_SCHEDULES} schedules of its
 * race's end-to-end scenario, split evenly over the three strategies; every one must end without a violation.
 */
public final class B10CleanCampaigns implements Figure {
    static final int FULL_SCHEDULES = 100_002;
    static final List<Column> COLUMNS = List.of(new Column("schedules", "schedules", 0),
            new Column("violations", "violations", 0, true), new Column("outcomes", "distinct outcomes", 0),
            new Column("seconds", "seconds", 1), new Column("per_s", "schedules/s", 0));

    @Override
    public String id() {
        return "B10";
    }

    @Override
    public String title() {
        return "Clean under the fixes: at least 100,000 schedules per fixed policy, no violation";
    }

    @Override
    public FigureResult run(BenchContext ctx) {
        int schedules = ctx.sizes().full() ? FULL_SCHEDULES : 30;
        String pl = ctx.placement();
        ResultTable t = new ResultTable("B10 campaigns of " + schedules + " schedules (a third per strategy)", pl,
                COLUMNS);
        t.rowHeader = "policy and scenario";
        try (Explorer explorer = new Explorer()) {
            for (VasPolicy v : List.of(VasPolicy.UPSTREAM, VasPolicy.V1_PATCH, VasPolicy.HOLD_MUTEX)) {
                t.rows.add(campaign(ctx, explorer, v.name() + ": vas-open-vs-migration",
                        SimScenarios.vasOpenVsMigration(), v, PrrnPolicy.DRAIN_BEFORE_SUSPEND, schedules));
            }
            t.rows.add(campaign(ctx, explorer, "DRAIN_BEFORE_SUSPEND: prrn-vs-migration",
                    SimScenarios.prrnVsMigration(), VasPolicy.UPSTREAM, PrrnPolicy.DRAIN_BEFORE_SUSPEND, schedules));
        }
        FigureResult f = new FigureResult(id(), title());
        f.tables.add(t);
        for (ResultRow r : t.rows) {
            f.ratios.add(Ratio.absoluteAtMost(r.label + ": violations", r.get("violations"), 0, "", pl));
            f.ratios.add(Ratio.absoluteAtLeast(r.label + ": schedules explored", r.get("schedules"),
                    ctx.sizes().full() ? 100_000 : schedules, "", pl));
        }
        f.method = "Explorer.explore with campaign seed 2026, one campaign per strategy (random, pct depth 3, pos), "
                + "each a third of the schedules; every schedule a fresh simulated world with the live oracles after "
                + "every step and all oracles at quiescence.";
        return f;
    }

    private static ResultRow campaign(BenchContext ctx, Explorer explorer, String label, SimScenario s, VasPolicy v,
                                      PrrnPolicy p, int schedules) {
        long runs = 0;
        long violations = 0;
        long outcomes = 0;
        long t0 = System.nanoTime();
        for (String strategy : Strategies.NAMES) {
            Explorer.Report r = explorer.explore(new Explorer.Campaign(s, v, p, strategy, 3,
                    schedules / Strategies.NAMES.size(), 0, 2026, 0, 1, false), x -> { });
            runs += r.runs();
            violations += r.failures();
            outcomes += r.outcomes().size();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        ctx.log("B10 %s: %d schedules, %d violations in %.1f s", label, runs, violations, seconds);
        ResultRow row = new ResultRow(label);
        row.put("schedules", List.of((double) runs));
        row.put("violations", List.of((double) violations));
        row.put("outcomes", List.of((double) outcomes));
        row.put("seconds", List.of(seconds));
        row.put("per_s", List.of(runs / seconds));
        return row;
    }
}
