package org.lparemu.bench.figures;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.Interleaved;
import org.lparemu.bench.PipelinedContender;
import org.lparemu.bench.Sizes;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.lparemu.bench.wire.EchoFloorServer;
import org.lparemu.bench.wire.GrpcAsyncLoad;
import org.lparemu.bench.wire.GrpcBaseline;
import org.lparemu.bench.wire.GuestConnectionLoad;
import org.lparemu.bench.wire.PipelinedNettyClient;
import org.lparemu.bench.wire.ReplyTemplate;
import org.lparemu.bench.wire.Workload;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.server.EmbeddedDaemon;

/**
 * B2: pipelined throughput, N connections x D calls in flight (16 x 64 in full mode), closed loop, through the
 * real daemon, against the raw Netty echo floor and gRPC-java's async stub (default executors and
 * directExecutor), same messages.
 */
public final class B2PipelinedThroughput implements Figure {
    public static final String DAEMON = "daemon, pipelined Netty client";
    public static final String DAEMON_GUEST_CONNECTION = "daemon, GuestConnection.hcallAsync";
    public static final String FLOOR = "floor: raw Netty echo, pipelined Netty client";
    public static final String GRPC_DEFAULT = "gRPC async stub, default executors";
    public static final String GRPC_DIRECT = "gRPC async stub, directExecutor";
    /** Diagnostic: the same daemon with a small trace ring, to show what the default ring's retention costs. */
    public static final String DAEMON_SMALL_TRACE = "daemon, trace ring of " + Diagnostics.SMALL_TRACE
            + " records (diagnostic), pipelined Netty client";

    /** Issue 13: at least 0.9x the raw Netty floor's calls/s (and at least 5x gRPC, below), in every full run. */
    static final double TARGET_VS_FLOOR = 0.9;

    static final List<Column> COLUMNS = List.of(new Column("calls_per_s", "calls/s", 0),
            new Column("p50_us", "p50 µs", 0), new Column("p99_us", "p99 µs", 0));

    @Override
    public String id() {
        return "B2";
    }

    @Override
    public String title() {
        return "pipelined throughput";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        Sizes s = ctx.sizes();
        int n = s.connections();
        int d = s.depth();
        FigureResult f = new FigureResult(id(), title());
        ResultTable table = new ResultTable("B2 " + n + " connections x " + d + " calls in flight", ctx.placement(),
                COLUMNS);
        Workload w;
        long expected;
        String sizes;
        try (EmbeddedDaemon daemon = EmbeddedDaemon.start();
             GuestConnection setup = daemon.guest(Workload.PARTITION);
             EmbeddedDaemon smallTrace = EmbeddedDaemon.start(Diagnostics.smallTraceConfig());
             GuestConnection smallSetup = smallTrace.guest(Workload.PARTITION)) {
            Workload.armNonMatchingFaultRule(daemon.platform());
            w = Workload.prepare(setup);
            Workload.armNonMatchingFaultRule(smallTrace.platform());
            Workload ws = Workload.prepare(smallSetup);
            ReplyTemplate template = ReplyTemplate.capture(daemon.guestPort(), w);
            expected = template.status();
            sizes = template.sizes(w);
            try (EchoFloorServer floor = EchoFloorServer.start(template);
                 GrpcBaseline grpcDefault = GrpcBaseline.start(template, false);
                 GrpcBaseline grpcDirect = GrpcBaseline.start(template, true)) {
                List<PipelinedContender> cs = new ArrayList<>();
                try {
                    cs.add(new PipelinedContender(DAEMON,
                            new PipelinedNettyClient(daemon.guestPort(), w, expected, n, d), s));
                    cs.add(new PipelinedContender(DAEMON_GUEST_CONNECTION,
                            new GuestConnectionLoad(daemon.guestPort(), w, n, d), s));
                    cs.add(new PipelinedContender(FLOOR, new PipelinedNettyClient(floor.port(), w, expected, n, d), s));
                    cs.add(new PipelinedContender(DAEMON_SMALL_TRACE,
                            new PipelinedNettyClient(smallTrace.guestPort(), ws, expected, n, d), s));
                    cs.add(new PipelinedContender(GRPC_DEFAULT, new GrpcAsyncLoad(grpcDefault, w, expected, n, d), s));
                    cs.add(new PipelinedContender(GRPC_DIRECT, new GrpcAsyncLoad(grpcDirect, w, expected, n, d), s));
                    table.rows.addAll(Interleaved.run(id(), cs, s.runs(), ctx));
                } finally {
                    cs.forEach(PipelinedContender::close);
                }
            }
        }
        f.method = "The call: " + w.description + " (expected status " + HStatus.name(expected) + "; " + sizes + "); "
                + Workload.FAULT_RULE_NOTE + ". Closed loop: "
                + n + " connections each keep " + d + " calls in flight, every reply immediately carries the next "
                + "call; completions are counted over " + s.pipeMeasure().toMillis() + " ms per run after a "
                + s.pipeRamp().toMillis() + " ms ramp (warm-up " + s.pipeWarmup().toMillis() + " ms). The daemon "
                + "and the floor are driven by the same Netty client (one IO thread for all connections, write per "
                + "call, one flush per read batch); GuestConnection is the product's client library (one IO thread "
                + "per connection); gRPC-java uses one channel per connection and ClientCalls.asyncUnaryCall (the "
                + "async stub), with default executors on both sides or directExecutor on both sides. Latency "
                + "percentiles here are queueing under the deep window (in flight / rate), not service time.";
        f.tables.add(table);
        f.ratios.addAll(ratios(table));
        f.notes.add("The diagnostic row runs a second daemon, identical except for a trace ring of "
                + Diagnostics.SMALL_TRACE + " records instead of the default " + Diagnostics.defaultTraceCapacity()
                + ", to show what the ring's size costs under load (the ring used to keep one TraceRecord object "
                + "per record reachable; it now stores records in primitive arrays). Its ratios are informational.");
        f.notes.add("Client and server share the same " + Runtime.getRuntime().availableProcessors() + " vCPUs: the "
                + "client's cost is in every row, which is why the ratios, not the absolute rates, are the figures.");
        return f;
    }

    static List<Ratio> ratios(ResultTable t) {
        String pl = t.placement;
        ResultRow daemon = t.row(DAEMON);
        ResultRow floor = t.row(FLOOR);
        ResultRow gd = t.row(GRPC_DEFAULT);
        ResultRow gx = t.row(GRPC_DIRECT);
        ResultRow gc = t.row(DAEMON_GUEST_CONNECTION);
        ResultRow small = t.row(DAEMON_SMALL_TRACE);
        List<Ratio> out = new ArrayList<>();
        out.add(Ratio.atLeast("calls/s daemon / floor", daemon.get("calls_per_s") / floor.get("calls_per_s"), TARGET_VS_FLOOR,
                pl));
        out.add(Ratio.atLeast("calls/s daemon / gRPC async (default executors)",
                daemon.get("calls_per_s") / gd.get("calls_per_s"), 5, pl));
        out.add(Ratio.atLeast("calls/s daemon / gRPC async (directExecutor)",
                daemon.get("calls_per_s") / gx.get("calls_per_s"), 5, pl));
        out.add(Ratio.info("calls/s daemon with a " + Diagnostics.SMALL_TRACE + "-record trace ring / floor",
                small.get("calls_per_s") / floor.get("calls_per_s"), pl));
        out.add(Ratio.info("p99 daemon / daemon with a " + Diagnostics.SMALL_TRACE + "-record trace ring",
                daemon.get("p99_us") / small.get("p99_us"), pl));
        out.add(Ratio.info("calls/s daemon via GuestConnection / floor",
                gc.get("calls_per_s") / floor.get("calls_per_s"), pl));
        out.add(Ratio.info("calls/s daemon via GuestConnection / gRPC async (default executors)",
                gc.get("calls_per_s") / gd.get("calls_per_s"), pl));
        return out;
    }
}
