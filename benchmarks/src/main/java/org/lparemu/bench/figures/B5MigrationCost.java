package org.lparemu.bench.figures;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.bench.BenchContext;
import org.lparemu.bench.Figure;
import org.lparemu.bench.Interleaved;
import org.lparemu.bench.Sizes;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.MigrateResult;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.server.EmbeddedDaemon;

/**
 * B5: the cost of one live migration as the number of open VAS windows grows (1 / 16 / 64 / 256): an
 * UPSTREAM guest kernel over a socket, the operator's Migrate on the control port, zero configured delays.
 */
public final class B5MigrationCost implements Figure {
    /** 16 cores x 20 credits per core: room for 256 one-credit windows on both systems. */
    static final int CORES = 16;
    static final int TARGET_WINDOWS = 64;
    static final double TARGET_MS = 50;
    static final Duration WAIT = Duration.ofSeconds(60);

    static final List<Column> COLUMNS = List.of(new Column("complete_ms", "Migrate → COMPLETED ms", 1),
            new Column("daemon_ms", "daemon's duration ms", 1), new Column("hcalls_to_complete", "hcalls to COMPLETED", 0),
            new Column("guest_done_ms", "Migrate → guest done ms", 1), new Column("hcalls_total", "hcalls in all", 0));

    @Override
    public String id() {
        return "B5";
    }

    @Override
    public String title() {
        return "migration cost by open-window count";
    }

    @Override
    public FigureResult run(BenchContext ctx) throws Exception {
        Sizes s = ctx.sizes();
        PlatformConfig.HypervisorOptions o = PlatformConfig.defaults().hypervisor();
        if (o.orchestratorReadyMs() != 0 || o.blackoutMs() != 0 || o.transferMs() != 0) {
            throw new IllegalStateException("B5 expects zero configured migration delays, the defaults have " + o);
        }
        ResultTable t = new ResultTable("B5 one migration, UPSTREAM guest over a socket", ctx.placement(), COLUMNS);
        t.rowHeader = "open windows";
        try (EmbeddedDaemon daemon = EmbeddedDaemon.start(PlatformConfig.defaults().withPartitions(List.of()));
             ControlClient control = daemon.control()) {
            List<Migrations> cs = new ArrayList<>();
            try {
                for (int n : s.migrationWindows()) {
                    cs.add(new Migrations(daemon, control, n, s.migrationsPerRun()));
                }
                t.rows.addAll(Interleaved.run(id(), cs, s.runs(), ctx));
            } finally {
                for (Migrations c : cs) {
                    c.close();
                }
            }
        }
        FigureResult f = new FigureResult(id(), title());
        f.tables.add(t);
        String pl = ctx.placement();
        ResultRow first = t.rows.get(0);
        ResultRow last = t.rows.get(t.rows.size() - 1);
        for (ResultRow r : t.rows) {
            if (r.label.equals(label(TARGET_WINDOWS))) {
                f.ratios.add(Ratio.absoluteAtMost("Migrate → COMPLETED with " + TARGET_WINDOWS + " open windows",
                        r.get("complete_ms"), TARGET_MS, "ms", pl));
            }
        }
        f.ratios.add(Ratio.info("Migrate → COMPLETED, " + last.label + " / " + first.label + " windows",
                last.get("complete_ms") / first.get("complete_ms"), pl));
        f.ratios.add(Ratio.info("hcalls to COMPLETED, " + last.label + " / " + first.label + " windows",
                last.get("hcalls_to_complete") / first.get("hcalls_to_complete"), pl));
        f.ratios.add(Ratio.info("hcalls in all, " + last.label + " / " + first.label + " windows",
                last.get("hcalls_total") / first.get("hcalls_total"), pl));
        f.method = "One daemon (EmbeddedDaemon, default hypervisor options: orchestrator ready, blackout and transfer "
                + "all 0 ms) holds one partition per window count (" + CORES + " cores, so the Default credits cover "
                + "256 windows on both systems). Each has an UPSTREAM guest kernel (GuestKernel over a GuestConnection, "
                + "real clock) that opened that many windows with allocateWindow. One migration: ControlClient.migrate to "
                + "the other system, then AwaitMigration (COMPLETED, success checked), then AwaitEvent for the guest's "
                + "ack of the MigrationRequest (the guest finished: windows reopened on the destination, checked). "
                + "Migrations alternate between the two systems; each run does " + s.migrationsPerRun()
                + " per window count and keeps their median; window counts are interleaved. 'daemon's duration' and "
                + "'hcalls to COMPLETED' are the daemon's own MigrationOutcome.duration_nanos and hcalls; 'hcalls in "
                + "all' counts every call the platform dispatched until the guest's ack.";
        f.notes.add("'Migrate → guest done' adds what the guest does after the daemon reports COMPLETED: its "
                + "H_VASI_STATE poll sees COMPLETED, then it reopens every window closed for the migration (an "
                + "allocate and a modify each, one at a time over the socket) and acks the event.");
        return f;
    }

    static String label(int windows) {
        return Integer.toString(windows);
    }

    /** A partition with its guest kernel and windows, migrated back and forth. */
    private static final class Migrations implements Interleaved.Contender {
        private final EmbeddedDaemon daemon;
        private final ControlClient control;
        private final int windows;
        private final int perRun;
        private final String partition;
        private final GuestConnection connection;
        private final GuestKernel kernel;
        private String current = "source";

        Migrations(EmbeddedDaemon daemon, ControlClient control, int windows, int perRun) throws Exception {
            this.daemon = daemon;
            this.control = control;
            this.windows = windows;
            this.perRun = perRun;
            this.partition = "mig" + windows;
            control.createPartition(PartitionSpec.newBuilder().setName(partition).setCores(CORES).setSystem("source")
                    .build());
            connection = GuestConnection.connect("127.0.0.1", daemon.guestPort(), partition, "bench-b5", true,
                    Duration.ofSeconds(10), WAIT);
            kernel = GuestKernel.boot(connection, GuestConfig.upstream("bench-b5-" + windows));
            for (int i = 0; i < windows; i++) {
                kernel.vas().allocateWindow(0, 0, 2000 + i);
            }
            checkWindows();
        }

        private void checkWindows() {
            int active = kernel.vas().snapshot(Vas.WIN_TYPE_DEFAULT).windowsActive();
            if (active != windows) {
                throw new IllegalStateException(partition + ": " + active + " windows active, expected " + windows);
            }
        }

        @Override
        public String label() {
            return B5MigrationCost.label(windows);
        }

        @Override
        public Map<String, Double> measure(boolean warmup) throws Exception {
            Map<String, List<Double>> all = new LinkedHashMap<>();
            for (int i = 0; i < perRun; i++) {
                migrateOnce().forEach((k, v) -> all.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
            }
            Map<String, Double> m = new LinkedHashMap<>();
            all.forEach((k, v) -> m.put(k, ResultRow.median(v)));
            return m;
        }

        private Map<String, Double> migrateOnce() {
            String destination = current.equals("source") ? "destination" : "source";
            long calls0 = daemon.platform().callCount();
            long t0 = System.nanoTime();
            MigrateResult r = control.migrate(partition, destination);
            MigrationOutcome o = control.awaitMigration(partition, WAIT);
            long t1 = System.nanoTime();
            if (!o.getSuccess()) {
                throw new IllegalStateException(partition + " migration to " + destination + " failed: " + o);
            }
            EventAck ack = control.awaitEvent(r.getEventId(), WAIT);
            long t2 = System.nanoTime();
            long calls = daemon.platform().callCount() - calls0;
            if (ack.getStatus() != 0) {
                throw new IllegalStateException(partition + ": the guest acked the migration with " + ack);
            }
            checkWindows();
            current = destination;
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("complete_ms", (t1 - t0) / 1e6);
            m.put("daemon_ms", o.getDurationNanos() / 1e6);
            m.put("hcalls_to_complete", (double) o.getHcalls());
            m.put("guest_done_ms", (t2 - t0) / 1e6);
            m.put("hcalls_total", (double) calls);
            return m;
        }

        @Override
        public void close() {
            kernel.close();
            connection.close();
        }
    }
}
