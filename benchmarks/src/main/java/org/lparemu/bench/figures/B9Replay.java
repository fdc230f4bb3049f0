package org.lparemu.bench.figures;

import java.util.ArrayList;
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
import org.lparemu.core.sim.RunResult;
import org.lparemu.core.sim.SimScenario;
import org.lparemu.core.sim.SimScenarios;

/**
 * B9: failing seeds replay step for step. Each failing run of a campaign is replayed from its seed alone in another
 * explorer (fresh carrier threads), and its shrunk schedule from the decisions alone; both must give the same trace
 * hash (SHA-256 over every trace record, virtual timestamps included) and the same step count.
 */
public final class B9Replay implements Figure {
    static final List<Column> COLUMNS = List.of(new Column("failing", "failing seeds", 0),
            new Column("identical", "replayed identically", 0, true), new Column("pct", "identical %", 1, true),
            new Column("replay_ms", "replay ms p50", 2));

    @Override
    public String id() {
        return "B9";
    }

    @Override
    public String title() {
        return "Replay: failing seeds and shrunk schedules reproduce their run step for step (same trace hash)";
    }

    @Override
    public FigureResult run(BenchContext ctx) {
        int wanted = ctx.sizes().full() ? 100 : 5;
        String pl = ctx.placement();
        ResultTable t = new ResultTable("B9 replay, " + wanted + " failing seeds per row", pl, COLUMNS);
        t.rowHeader = "failures";
        t.rows.add(replaySeeds(ctx, "2023 race end to end (PRE_FIX), POS seeds", SimScenarios.vasOpenVsMigration(),
                VasPolicy.PRE_FIX, PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pos", wanted));
        t.rows.add(replaySeeds(ctx, "2023 race end to end (PRE_FIX), PCT seeds", SimScenarios.vasOpenVsMigration(),
                VasPolicy.PRE_FIX, PrrnPolicy.DRAIN_BEFORE_SUSPEND, "pct", wanted));
        t.rows.add(replaySeeds(ctx, "PRRN staleness (UNSERIALIZED), random seeds", SimScenarios.prrnVsMigration(),
                VasPolicy.UPSTREAM, PrrnPolicy.UNSERIALIZED, "random", wanted));
        FigureResult f = new FigureResult(id(), title());
        f.tables.add(t);
        for (ResultRow r : t.rows) {
            f.ratios.add(Ratio.absoluteAtLeast(r.label + ": replayed identically", r.get("pct"), 100, "%", pl));
        }
        f.method = "For each row, a campaign runs until it has " + wanted + " failing runs; each is replayed from its "
                + "run seed alone (Explorer.replaySeed in a second Explorer: its own carrier threads, the strategy "
                + "rebuilt from the seed) and compared by trace hash and step count; the first failure's shrunk "
                + "schedule is replayed from its forced decisions (Explorer.replay) the same way and counted in the row.";
        return f;
    }

    private static ResultRow replaySeeds(BenchContext ctx, String label, SimScenario s, VasPolicy v, PrrnPolicy p,
                                         String strategy, int wanted) {
        List<RunResult> failing = new ArrayList<>();
        Explorer.Campaign c = null;
        try (Explorer explorer = new Explorer(); Explorer other = new Explorer()) {
            for (long base = 1; failing.size() < wanted; base++) {
                c = new Explorer.Campaign(s, v, p, strategy, 3, 200, 0, base, 0, 1, false);
                for (long i = 0; i < c.schedules() && failing.size() < wanted; i++) {
                    RunResult r = explorer.replaySeed(c, Explorer.Campaign.runSeed(base, i));
                    if (r.failed()) {
                        failing.add(r);
                    }
                }
            }
            int identical = 0;
            List<Double> ms = new ArrayList<>();
            for (RunResult r : failing) {
                long t0 = System.nanoTime();
                RunResult again = other.replaySeed(c, r.seed());
                ms.add((System.nanoTime() - t0) / 1e6);
                if (again.traceHash().equals(r.traceHash()) && again.steps() == r.steps()) {
                    identical++;
                }
            }
            RunResult shrunk = explorer.shrink(s, v, p, failing.get(0), Explorer.DEFAULT_SHRINK_BUDGET);
            RunResult fromSchedule = other.replay(s, v, p, shrunk.log().forced());
            int total = failing.size() + 1;
            if (fromSchedule.traceHash().equals(shrunk.traceHash()) && fromSchedule.steps() == shrunk.steps()) {
                identical++;
            }
            ctx.log("B9 %s: %d of %d identical", label, identical, total);
            ResultRow row = new ResultRow(label);
            row.put("failing", List.of((double) total));
            row.put("identical", List.of((double) identical));
            row.put("pct", List.of(100.0 * identical / total));
            row.put("replay_ms", ms);
            return row;
        }
    }
}
