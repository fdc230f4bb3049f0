package org.lparemu.bench.figures;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.jmh.InProcessDispatchBench;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Machine;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The per-call core cost of the in-process dispatch, with JMH ({@link InProcessDispatchBench}): full mode only.
 */
public final class InProcessDispatchCost implements Figure {
    /**
     * Five, not three: on the shared 2-core machine three 1 s warm-ups left C2 still compiling, so the first measured
     * iteration of every row ran 5-10x slower than the rest (seen in the runs for issue 13) and dominated the mean.
     */
    static final int WARMUP_ITERATIONS = 5;
    static final int ITERATIONS = 5;

    /** Issue 13: the daemon's per-call work at most 2x the floor's handler's. */
    static final double TARGET_DAEMON_VS_FLOOR = 2.0;

    static final List<Column> COLUMNS = List.of(new Column("ns_per_op", "ns/call", 1),
            new Column("ops_per_s", "calls/s", 0), new Column("error_ops_per_s", "± calls/s (99.9%)", 0),
            new Column("alloc_bytes_per_op", "B/call allocated", 0));

    @Override
    public String id() {
        return "D1";
    }

    @Override
    public String title() {
        return "in-process dispatch cost per hcall (JMH)";
    }

    @Override
    public boolean fullOnly() {
        return true;
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        Options opt = new OptionsBuilder()
                .include(InProcessDispatchBench.class.getName() + "\\.")
                .forks(1)
                .warmupIterations(WARMUP_ITERATIONS).warmupTime(TimeValue.seconds(1))
                .measurementIterations(ITERATIONS).measurementTime(TimeValue.seconds(1))
                .threads(1)
                .jvmArgs("-Xms1g", "-Xmx1g")
                .addProfiler(GCProfiler.class)
                .shouldFailOnError(true)
                .build();
        ctx.log("D1: JMH %s (1 fork, %d x 1 s warm-up, %d x 1 s measured)", InProcessDispatchBench.class.getSimpleName(),
                WARMUP_ITERATIONS, ITERATIONS);
        FigureResult f = new FigureResult(id(), title());
        ResultTable t = new ResultTable("D1 JMH, one thread", ctx.placement(), COLUMNS);
        for (RunResult rr : new Runner(opt).run()) {
            Result<?> p = rr.getPrimaryResult();
            String method = rr.getParams().getBenchmark();
            method = method.substring(method.lastIndexOf('.') + 1);
            List<Double> iterations = new ArrayList<>();
            List<Double> nsPerOp = new ArrayList<>();
            for (IterationResult it : rr.getBenchmarkResults().iterator().next().getIterationResults()) {
                double v = it.getPrimaryResult().getScore();
                iterations.add(v);
                nsPerOp.add(1e9 / v);
            }
            ResultRow row = new ResultRow(switch (method) {
                case "hcall" -> "InProcessPort.hcall (dispatch, fault check, trace, future)";
                case "hcallWithCodec" -> "daemon's per-call work: parse GuestFrame, dispatch, build and serialize HostFrame";
                case "floorEchoWithCodec" -> "floor's per-call work: parse GuestFrame, serialize the captured reply";
                default -> method;
            });
            row.put("ns_per_op", 1e9 / p.getScore(), nsPerOp);
            row.put("ops_per_s", p.getScore(), iterations);
            row.put("error_ops_per_s", p.getScoreError(), List.of(p.getScoreError()));
            Result<?> alloc = rr.getSecondaryResults().get("gc.alloc.rate.norm");
            if (alloc != null) {
                row.put("alloc_bytes_per_op", alloc.getScore(), List.of(alloc.getScore()));
            }
            t.rows.add(row);
        }
        f.method = "JMH " + Machine.jmhVersion()
                + ", throughput mode, 1 fork (-Xms1g -Xmx1g), " + WARMUP_ITERATIONS + " x 1 s warm-up, " + ITERATIONS
                + " x 1 s measured, one thread. Each cell is JMH's score (the mean over the measured iterations, with "
                + "its 99.9% confidence half-width); the JSON has every iteration. Same workload as B1/B2, on a "
                + "Platform with the default configuration and no socket. B/call allocated is JMH's GC profiler "
                + "(-prof gc) gc.alloc.rate.norm: heap bytes allocated per call.";
        f.tables.add(t);
        ResultRow daemon = t.row("daemon's per-call work: parse GuestFrame, dispatch, build and serialize HostFrame");
        ResultRow floor = t.row("floor's per-call work: parse GuestFrame, serialize the captured reply");
        f.ratios.add(Ratio.atMost("ns/call daemon's per-call work / floor's",
                daemon.get("ns_per_op") / floor.get("ns_per_op"), TARGET_DAEMON_VS_FLOOR, ctx.placement()));
        f.notes.add(String.format(Locale.ROOT, "The emulator adds %.0f ns of CPU per call over the floor's "
                + "handler (the difference of the two codec rows), all of it on the daemon's one IO thread.",
                daemon.get("ns_per_op") - floor.get("ns_per_op")));
        return f;
    }
}
