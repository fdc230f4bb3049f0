package org.lparemu.bench.figures;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.Interleaved;
import org.lparemu.bench.SyncContender;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.lparemu.bench.wire.EchoFloorServer;
import org.lparemu.bench.wire.GrpcBaseline;
import org.lparemu.bench.wire.ReplyTemplate;
import org.lparemu.bench.wire.SocketCaller;
import org.lparemu.bench.wire.Workload;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.server.EmbeddedDaemon;

/**
 * B1: one small hcall, one blocking client, one call at a time, through the real daemon (EmbeddedDaemon: frame
 * decoder, protobuf decode, session handler, dispatch table, trace, encode), against the raw Netty echo floor
 * and gRPC-java blocking unary calls carrying the same messages. p50 / p99 from HdrHistogram.
 */
public final class B1SyncRoundTrip implements Figure {
    public static final String DAEMON_SOCKET = "daemon, socket client";
    public static final String DAEMON_GUEST_CONNECTION = "daemon, GuestConnection.hcall";
    public static final String FLOOR = "floor: raw Netty echo, socket client";
    public static final String GRPC_DEFAULT = "gRPC blocking unary, default executors";
    public static final String GRPC_DIRECT = "gRPC blocking unary, directExecutor";

    /** Issue 13: the daemon's p50 round trip within 1.05x of the raw Netty floor's. */
    static final double TARGET_VS_FLOOR = 1.05;

    static final List<Column> COLUMNS = List.of(new Column("p50_us", "p50 µs", 1), new Column("p99_us", "p99 µs", 1),
            new Column("calls_per_s", "calls/s", 0));

    @Override
    public String id() {
        return "B1";
    }

    @Override
    public String title() {
        return "sync round trip of a small hcall, one blocking client";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        FigureResult f = new FigureResult(id(), title());
        ResultTable table = new ResultTable("B1 one call at a time", ctx.placement(), COLUMNS);
        Workload w;
        long expected;
        String sizes;
        try (EmbeddedDaemon daemon = EmbeddedDaemon.start();
             GuestConnection setup = daemon.guest(Workload.PARTITION)) {
            Workload.armNonMatchingFaultRule(daemon.platform());
            w = Workload.prepare(setup);
            ReplyTemplate template = ReplyTemplate.capture(daemon.guestPort(), w);
            expected = template.status();
            sizes = template.sizes(w);
            try (EchoFloorServer floor = EchoFloorServer.start(template);
                 GrpcBaseline grpcDefault = GrpcBaseline.start(template, false);
                 GrpcBaseline grpcDirect = GrpcBaseline.start(template, true)) {
                List<SyncContender> cs = new ArrayList<>();
                try {
                    cs.add(socket(DAEMON_SOCKET, daemon.guestPort(), w, expected, ctx));
                    GuestConnection gc = GuestConnection.connect("127.0.0.1", daemon.guestPort(), Workload.PARTITION,
                            "bench-b1", false, Duration.ofSeconds(10), Duration.ofSeconds(30));
                    cs.add(new SyncContender(DAEMON_GUEST_CONNECTION, id -> {
                        HcallResult r = gc.hcall(0, w.opcode, w.args, null);
                        if (r.status() != expected) {
                            throw new IllegalStateException("GuestConnection call answered " + r);
                        }
                    }, gc, ctx.sizes()));
                    cs.add(socket(FLOOR, floor.port(), w, expected, ctx));
                    cs.add(grpc(GRPC_DEFAULT, grpcDefault, w, expected, ctx));
                    cs.add(grpc(GRPC_DIRECT, grpcDirect, w, expected, ctx));
                    table.rows.addAll(Interleaved.run(id(), cs, ctx.sizes().runs(), ctx));
                } finally {
                    for (SyncContender c : cs) {
                        c.close();
                    }
                }
            }
        }
        f.method = "The call: " + w.description + " (expected status " + HStatus.name(expected) + "; " + sizes + "); "
                + Workload.FAULT_RULE_NOTE + ". Each contender "
                + "makes one call at a time on one connection for " + ctx.sizes().syncMeasure().toMillis()
                + " ms per run (warm-up " + ctx.sizes().syncWarmup().toMillis() + " ms). The floor is a raw Netty "
                + "protobuf echo with the daemon's framing, transport and flush policy that answers with the daemon's "
                + "captured reply, so request and reply bytes are identical for all contenders; gRPC-java (grpc-netty-"
                + "shaded, plaintext) carries the same GuestFrame / HostFrame messages in one unary method. The socket "
                + "client is java.net.Socket with writeDelimitedTo / parseDelimitedFrom; GuestConnection is the "
                + "product's Netty client (blocking hcall = async call + future.get).";
        f.tables.add(table);
        f.ratios.addAll(ratios(table));
        if (!ctx.isChild()) {
            Optional<FigureResult> pinned = ctx.runPinned(id(), 0);
            if (pinned.isPresent()) {
                f.tables.addAll(pinned.get().tables);
                f.ratios.addAll(pinned.get().ratios);
            } else {
                f.notes.add("Only the unpinned placement was measured (taskset unavailable or --no-pin).");
            }
        }
        f.notes.add("Latency on 2 vCPUs depends on placement: a wake-up across vCPUs costs far more than on one "
                + "(the VM halts idle vCPUs), so the same contender is measured unpinned and pinned to one vCPU, "
                + "each side by side with its floor and gRPC.");
        return f;
    }

    static List<Ratio> ratios(ResultTable t) {
        String pl = t.placement;
        ResultRow daemon = t.row(DAEMON_SOCKET);
        ResultRow gc = t.row(DAEMON_GUEST_CONNECTION);
        ResultRow floor = t.row(FLOOR);
        ResultRow gd = t.row(GRPC_DEFAULT);
        ResultRow gx = t.row(GRPC_DIRECT);
        List<Ratio> out = new ArrayList<>();
        out.add(Ratio.atMost("p50 daemon (socket client) / floor", daemon.get("p50_us") / floor.get("p50_us"), TARGET_VS_FLOOR,
                pl));
        out.add(Ratio.atMost("p50 daemon (socket client) / gRPC blocking (default)",
                daemon.get("p50_us") / gd.get("p50_us"), 0.5, pl));
        out.add(Ratio.info("p50 daemon (socket client) / gRPC blocking (directExecutor)",
                daemon.get("p50_us") / gx.get("p50_us"), pl));
        out.add(Ratio.info("p99 daemon (socket client) / floor", daemon.get("p99_us") / floor.get("p99_us"), pl));
        out.add(Ratio.info("p50 daemon (GuestConnection) / floor (socket client)", gc.get("p50_us") / floor.get("p50_us"),
                pl));
        out.add(Ratio.info("p50 daemon (GuestConnection) / gRPC blocking (default)", gc.get("p50_us") / gd.get("p50_us"),
                pl));
        return out;
    }

    private static SyncContender socket(String label, int port, Workload w, long expected, BenchContext ctx)
            throws IOException {
        SocketCaller c = SocketCaller.connect(port, w, "bench-b1");
        return new SyncContender(label, id -> {
            HostFrame r = c.roundTrip(id);
            if (r.getHcall().getStatus() != expected) {
                throw new IllegalStateException(label + " answered " + r);
            }
        }, c, ctx.sizes());
    }

    private static SyncContender grpc(String label, GrpcBaseline server, Workload w, long expected, BenchContext ctx) {
        ManagedChannel ch = server.channel();
        return new SyncContender(label, id -> {
            HostFrame r = GrpcBaseline.blockingCall(ch, w.frame(id));
            if (r.getHcall().getCallId() != id || r.getHcall().getStatus() != expected) {
                throw new IllegalStateException(label + " answered " + r);
            }
        }, () -> GrpcBaseline.shutdown(ch), ctx.sizes());
    }
}
