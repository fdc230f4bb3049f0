package org.lparemu.bench.figures;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.Sizes;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.lparemu.bench.wire.SocketCaller;
import org.lparemu.bench.wire.Workload;
import org.lparemu.client.ControlClient;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.server.EmbeddedDaemon;

/**
 * B4: one daemon holding many partitions, each with a guest connection and W open windows (1,000 x 64 in full
 * mode): the JVM's heap after GC, the connect time of the guest connections (TCP connect + Hello + Welcome),
 * and GetState latency on the control port as the partition count grows (10 / 100 / 1,000). Each run builds
 * the whole population from an empty daemon; the figures are medians over the runs.
 */
public final class B4Scale implements Figure {
    /** Cores per partition: the Default credit target is cores x 20, enough for 64 windows of one credit. */
    static final int CORES = 4;
    /** Flatness, made a number: GetState p99 at the largest count within this factor of the smallest's. */
    static final double FLAT = 1.5;
    static final double HEAP_TARGET_MIB = 512;

    static final List<Column> GET_STATE = List.of(new Column("p50_us", "p50 µs", 1), new Column("p99_us", "p99 µs", 1),
            new Column("calls_per_s", "calls/s", 0));
    static final List<Column> FOOTPRINT = List.of(new Column("heap_after_gc_mib", "heap after GC MiB", 1),
            new Column("heap_delta_mib", "heap added MiB", 1), new Column("connect_total_ms", "connect all ms", 0),
            new Column("connect_p50_us", "connect p50 µs", 0), new Column("connect_p99_us", "connect p99 µs", 0),
            new Column("build_s", "build s", 1));

    @Override
    public String id() {
        return "B4";
    }

    @Override
    public String title() {
        return "scale: many partitions with open windows in one daemon";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        Sizes s = ctx.sizes();
        List<Integer> scales = s.scalePartitions();
        int max = scales.get(scales.size() - 1);
        int windows = s.scaleWindows();
        Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
        String footprintLabel = String.format(Locale.ROOT, "%,d partitions x %d windows, %,d guest connections", max,
                windows, max);
        for (int run = 1; run <= s.runs(); run++) {
            Map<String, Map<String, Double>> r = buildAndMeasure(ctx, scales, windows, s.scaleGetStates(),
                    footprintLabel, run);
            r.forEach((row, m) -> m.forEach((k, v) -> values.computeIfAbsent(row, x -> new LinkedHashMap<>())
                    .computeIfAbsent(k, x -> new ArrayList<>()).add(v)));
            ctx.log("B4 run %d/%d: %s", run, s.runs(), r);
        }

        FigureResult f = new FigureResult(id(), title());
        ResultTable getState = new ResultTable("B4 GetState latency as partitions grow", ctx.placement(), GET_STATE);
        getState.rowHeader = "daemon holding";
        ResultTable footprint = new ResultTable("B4 footprint and connect time", ctx.placement(), FOOTPRINT);
        footprint.rowHeader = "daemon holding";
        values.forEach((label, m) -> {
            ResultRow row = new ResultRow(label);
            m.forEach(row::put);
            (label.equals(footprintLabel) ? footprint : getState).rows.add(row);
        });
        f.tables.add(getState);
        f.tables.add(footprint);

        ResultRow first = getState.rows.get(0);
        ResultRow last = getState.rows.get(getState.rows.size() - 1);
        String pl = ctx.placement();
        f.ratios.add(Ratio.absoluteAtMost("heap after GC with " + footprintLabel,
                footprint.row(footprintLabel).get("heap_after_gc_mib"), HEAP_TARGET_MIB, "MiB", pl));
        f.ratios.add(Ratio.atMost("GetState p99 " + last.label + " / " + first.label,
                last.get("p99_us") / first.get("p99_us"), FLAT, pl));
        f.ratios.add(Ratio.info("GetState p50 " + last.label + " / " + first.label,
                last.get("p50_us") / first.get("p50_us"), pl));

        f.method = String.format(Locale.ROOT, "Each of %d runs starts an empty daemon (EmbeddedDaemon, default "
                + "configuration without partitions) and grows it to %s partitions (%d cores of %d threads, so the "
                + "Default credit target covers the windows). Each partition is created on the control port "
                + "(ControlClient.createPartition), gets one guest connection (a plain socket: TCP connect, Hello, "
                + "Welcome with the partition's device tree; that is the connect time) and %d windows opened with "
                + "H_ALLOCATE_VAS_WINDOW then H_MODIFY_VAS_WINDOW (pipelined in one batch per partition). At each of "
                + "%s partitions, %d GetState requests (ControlClient, one at a time, on partitions picked at random "
                + "with a fixed seed; each answer carries the partition's %d windows and device tree) follow as many "
                + "unmeasured warm-up requests. Heap after GC: used heap of this whole JVM (daemon, clients and the "
                + "harness) after System.gc() with all %s partitions, windows and connections live; heap added: the "
                + "same minus the used heap after GC before the first partition. Connections stay open to the end.",
                ctx.sizes().runs(), String.format(Locale.ROOT, "%,d", max),
                CORES, PlatformConfig.PartitionDefaults.DEFAULT.vcpus() / PlatformConfig.PartitionDefaults.DEFAULT.cores(),
                windows, scales, s.scaleGetStates(),
                windows, String.format(Locale.ROOT, "%,d", max));
        f.notes.add("Flatness is judged as GetState p99 at the largest count within " + FLAT + "x of the smallest "
                + "(a threshold chosen here, above the run-to-run noise of this machine; the issue asks for 'flat').");
        long hcalls = 2L * max * windows;
        f.notes.add(String.format(Locale.ROOT, "The heap includes the daemon's trace ring (%,d records by default, two "
                + "per call): building the population makes %,d hcalls, so the ring holds %,d records here.",
                Diagnostics.defaultTraceCapacity(), hcalls, Math.min(2 * hcalls, Diagnostics.defaultTraceCapacity())));
        return f;
    }

    private Map<String, Map<String, Double>> buildAndMeasure(BenchContext ctx, List<Integer> scales, int windows,
                                                             int getStates, String footprintLabel, int run)
            throws Exception {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        List<SocketCaller> guests = new ArrayList<>();
        Histogram connect = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
        long connectTotal = 0;
        Random random = new Random(42 + run);
        double heapBefore = heapAfterGcMib();
        long buildStart = System.nanoTime();
        long buildNanos = 0;
        try (EmbeddedDaemon daemon = EmbeddedDaemon.start(PlatformConfig.defaults().withPartitions(List.of()));
             ControlClient control = daemon.control()) {
            int have = 0;
            for (int n : scales) {
                long t0 = System.nanoTime();
                for (; have < n; have++) {
                    String name = name(have);
                    control.createPartition(PartitionSpec.newBuilder().setName(name).setCores(CORES).build());
                    long c0 = System.nanoTime();
                    SocketCaller g = SocketCaller.connect(daemon.guestPort(), null, name, "bench-b4", 512);
                    long c = System.nanoTime() - c0;
                    guests.add(g);
                    connect.recordValue(c);
                    connectTotal += c;
                    openWindows(g, windows);
                }
                buildNanos += System.nanoTime() - t0;
                PartitionState check = control.getState(name(n - 1));
                if (check.getWindowsCount() != windows) {
                    throw new IllegalStateException(name(n - 1) + " has " + check.getWindowsCount() + " windows, expected "
                            + windows);
                }
                String label = String.format(Locale.ROOT, "%,d partitions", n);
                ctx.log("B4 run %d: %s built (%d windows each), measuring GetState", run, label, windows);
                getStates(control, n, getStates, random, null);
                Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
                long m0 = System.nanoTime();
                getStates(control, n, getStates, random, h);
                double seconds = (System.nanoTime() - m0) / 1e9;
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("p50_us", h.getValueAtPercentile(50) / 1000.0);
                m.put("p99_us", h.getValueAtPercentile(99) / 1000.0);
                m.put("calls_per_s", getStates / seconds);
                out.put(label, m);
            }
            double heap = heapAfterGcMib();
            Map<String, Double> fp = new LinkedHashMap<>();
            fp.put("heap_after_gc_mib", heap);
            fp.put("heap_delta_mib", Math.max(heap - heapBefore, 0.001));
            fp.put("connect_total_ms", connectTotal / 1e6);
            fp.put("connect_p50_us", connect.getValueAtPercentile(50) / 1000.0);
            fp.put("connect_p99_us", connect.getValueAtPercentile(99) / 1000.0);
            fp.put("build_s", buildNanos / 1e9);
            out.put(footprintLabel, fp);
            for (SocketCaller g : guests) {
                g.close();
            }
        } finally {
            for (SocketCaller g : guests) {
                g.close();
            }
        }
        ctx.log("B4 run %d took %.1f s", run, (System.nanoTime() - buildStart) / 1e9);
        return out;
    }

    private static String name(int i) {
        return String.format(Locale.ROOT, "p%04d", i);
    }

    /** Allocates then modifies {@code windows} windows in two pipelined batches, checking every status. */
    private static void openWindows(SocketCaller g, int windows) throws IOException {
        long d = Vas.DEFAULT_DOMAIN_ID;
        List<GuestFrame> alloc = new ArrayList<>(windows);
        for (int i = 0; i < windows; i++) {
            alloc.add(hcall(i + 1, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, Vas.DEF_WIN_CREDS, d, d, d, d, d,
                    d));
        }
        List<HostFrame> ids = g.batch(alloc);
        List<GuestFrame> modify = new ArrayList<>(windows);
        for (int i = 0; i < windows; i++) {
            var r = ids.get(i).getHcall();
            if (r.getStatus() != HStatus.H_SUCCESS) {
                throw new IllegalStateException("H_ALLOCATE_VAS_WINDOW answered " + HStatus.name(r.getStatus()));
            }
            modify.add(hcall(windows + i + 1, Hcall.H_MODIFY_VAS_WINDOW, r.getRets(0), 1, 0, Vas.MOD_WIN_FLAGS, 0));
        }
        for (HostFrame f : g.batch(modify)) {
            if (f.getHcall().getStatus() != HStatus.H_SUCCESS) {
                throw new IllegalStateException("H_MODIFY_VAS_WINDOW answered " + HStatus.name(f.getHcall().getStatus()));
            }
        }
    }

    private static GuestFrame hcall(long callId, long opcode, long... args) {
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(callId).setVcpu(0).setOpcode(opcode)
                .setTask(Workload.TASK);
        for (long a : args) {
            b.addArgs(a);
        }
        return GuestFrame.newBuilder().setHcall(b).build();
    }

    private static void getStates(ControlClient control, int partitions, int calls, Random random, Histogram h) {
        for (int i = 0; i < calls; i++) {
            String p = name(random.nextInt(partitions));
            long t0 = System.nanoTime();
            control.getState(p);
            long t = System.nanoTime() - t0;
            if (h != null) {
                h.recordValue(t);
            }
        }
    }

    /** Used heap after full collections, in MiB. */
    static double heapAfterGcMib() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0);
    }
}
