package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.PortException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One guest kernel bound to one partition through an {@link HcallPort}: boots (device tree copy, VAS init),
 * then handles the platform's events on its own worker threads, never on the port's thread:
 * <ul>
 *   <li>{@code drmgr}: migrations ({@link PseriesMobility}), one at a time;</li>
 *   <li>{@code rtasd}: PRRN events ({@link PrrnWorker}, which owns that thread), pushed or, when the firmware
 *       offers event-scan, found by {@link RtasEventScan} as RTAS event logs;</li>
 *   <li>{@code dlpar}: processor DLPAR and QoS credit changes ({@link PseriesDlpar});</li>
 *   <li>{@code kreport}: report requests, so that a slow migration or DLPAR does not delay them;</li>
 *   <li>{@code irq/vas-fault}: the threaded half of VAS fault interrupts (the hard half runs on arrival).</li>
 * </ul>
 * Every event is acknowledged once handled (0 or a negative errno, with a line of detail). User-space access
 * goes through {@link #nxGzip()}; {@link Workload} drives it with task threads.
 *
 * <p>The port belongs to the caller: {@link #close()} stops the workers but leaves the port open.
 */
public final class GuestKernel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GuestKernel.class);

    private record Outcome(int status, String detail) {
    }

    // --- Immutable after construction.

    private final HcallPort port;
    private final GuestConfig config;
    private final BootInfo bootInfo;
    private final ErrorCounters errors = new ErrorCounters();
    private final GuestDeviceTree deviceTree;
    private final DeviceTreeUpdate dtUpdate;
    private final PseriesVas vas;
    private final NxGzipDevice nxGzip;
    private final PrrnWorker prrn;
    private final PseriesMobility mobility;
    private final PseriesDlpar dlpar;
    private final NumaTopology numa;
    private final Machine machine;
    private final KernelCalls calls;
    private final Machine.Workqueue drmgr;
    private final Machine.Workqueue dlparWorker;
    private final Machine.Workqueue kreport;
    /**
     * The threaded half of the VAS fault interrupts ({@code irq/<n>-vas-win} in the kernel), started by the first
     * fault interrupt: a guest that never sees one has no such task, so the schedules a simulation explores are
     * those of the tasks the scenario needs.
     */
    @GuardedBy("this")
    private Machine.Workqueue irqThread;

    /** rtasd's event scan, when the firmware offers event-scan (PRRNs then arrive as event logs too); else null. */
    private volatile RtasEventScan eventScan;

    private final AtomicLong reportSeq = new AtomicLong();
    private final AtomicLong eventsHandled = new AtomicLong();
    private volatile boolean closed;

    private GuestKernel(HcallPort port, GuestConfig config) {
        this.port = Objects.requireNonNull(port, "port");
        this.config = Objects.requireNonNull(config, "config");
        this.bootInfo = port.bootInfo();
        this.machine = config.machineFactory().create(CpuTopology.onlineCpus(bootInfo), port::tracepoint);
        this.calls = new KernelCalls(port, machine);
        this.drmgr = machine.workqueue("drmgr");
        this.dlparWorker = machine.workqueue("dlpar");
        this.kreport = machine.workqueue("kreport");
        this.deviceTree = new GuestDeviceTree(bootInfo.deviceTree());
        this.dtUpdate = new DeviceTreeUpdate(calls, deviceTree);
        this.vas = new PseriesVas(calls, config.vasPolicy(), errors);
        this.nxGzip = new NxGzipDevice(vas, calls, errors);
        this.prrn = new PrrnWorker(machine, config.prrnPolicy(), config.topologyPolicy(), dtUpdate, this::ack, errors);
        this.numa = new NumaTopology(config.topologyPolicy(), calls, deviceTree);
        this.mobility = new PseriesMobility(calls, vas, prrn, numa, errors);
        this.dlpar = new PseriesDlpar(calls, dtUpdate, vas, numa);
    }

    /**
     * Boots a guest: copies the firmware device tree, initialises VAS (registering the processor-DLPAR notifier
     * when copy/paste is available, as the kernel does), then starts taking platform events.
     */
    public static GuestKernel boot(HcallPort port, GuestConfig config) {
        GuestKernel k = new GuestKernel(port, config);
        int rc = k.vas.pseriesVasInit();
        if (k.vas.copypasteFeat()) {
            k.deviceTree.addReconfigNotifier(k.vas::pseriesVasNotifier);
        }
        k.numa.start(k.dlpar::dlparCpuReadd);
        LOG.info("guest {} booted on {} ({} vCPUs, {}): VAS {} (init rc {}), policies {}/{}/{}", config.name(),
                k.bootInfo.partition(), k.bootInfo.vcpus(), k.bootInfo.sharedProcessor() ? "shared" : "dedicated",
                k.vas.copypasteFeat() ? "available" : "not available", rc, config.vasPolicy(), config.prrnPolicy(),
                config.topologyPolicy());
        port.setEventListener(k::onEvent);
        k.eventScan = RtasEventScan.startIfOffered(k.calls, k.deviceTree, k.prrn);
        return k;
    }

    /** Called on the port's thread: hand the event to its worker and return. */
    private void onEvent(PlatformEvent e) {
        if (closed) {
            LOG.debug("guest closed; event {} not handled", e);
            return;
        }
        if (e instanceof PlatformEvent.MigrationRequest m) {
            submit(drmgr, e, () -> {
                int rc = mobility.migratePartition(m.streamId());
                return new Outcome(rc, rc == 0 ? "migration of stream " + m.streamId() + " complete"
                        : "migration of stream " + m.streamId() + " failed: " + errnoName(rc));
            });
        } else if (e instanceof PlatformEvent.PrrnEvent p) {
            prrn.onPrrnEvent(p);
        } else if (e instanceof PlatformEvent.DlparCpu d) {
            submit(dlparWorker, e, () -> {
                int rc = d.add() ? dlpar.dlparCpuAdd(d.drcIndex()) : dlpar.dlparCpuRemove(d.drcIndex());
                errors.errno(rc);
                return new Outcome(rc, (d.add() ? "cpu add" : "cpu remove") + " drc 0x" + Integer.toHexString(d.drcIndex())
                        + (rc == 0 ? " done" : " failed: " + errnoName(rc)));
            });
        } else if (e instanceof PlatformEvent.QosCredits q) {
            submit(dlparWorker, e, () -> {
                int rc = dlpar.updateTotalCredits(q.credits());
                errors.errno(rc);
                return new Outcome(rc, "QoS credits " + q.credits() + (rc == 0 ? " set" : " failed: " + errnoName(rc)));
            });
        } else if (e instanceof PlatformEvent.Interrupt i) {
            // The hard-IRQ half runs here, at once; the threaded half on the IRQ thread, which acks when done.
            VasWindow w = vas.pseriesVasIrqHandler(i.irq());
            if (w == null) {
                LOG.warn("spurious interrupt {}: no handler installed", i.irq());
                ack(e.eventId(), Errno.ENOENT.negative(), "no handler for irq " + i.irq());
                return;
            }
            Machine.Workqueue irq = irqThread();
            if (irq == null) {
                LOG.debug("guest closed; event {} dropped", e);
                return;
            }
            submit(irq, e, () -> new Outcome(0, "irq " + i.irq() + ": "
                    + vas.pseriesVasFaultThreadFn(w) + " fault(s) of window " + w.winId() + " processed"));
        } else if (e instanceof PlatformEvent.ReportRequest r) {
            submit(kreport, e, () -> {
                port.report(report(r.eventId()));
                return new Outcome(0, "report sent");
            });
        } else {
            LOG.warn("unknown platform event {}", e);
            ack(e.eventId(), Errno.EINVAL.negative(), "unknown event " + e.kind());
        }
    }

    private void submit(Machine.Workqueue worker, PlatformEvent e, Supplier<Outcome> work) {
        boolean queued = worker.queue(() -> {
            Outcome o;
            try {
                o = work.get();
            } catch (RuntimeException ex) {
                LOG.error("handling {} failed", e, ex);
                errors.errno(Errno.EIO.negative());
                o = new Outcome(Errno.EIO.negative(), e.kind() + " failed: " + ex);
            }
            eventsHandled.incrementAndGet();
            ack(e.eventId(), o.status(), o.detail());
        });
        if (!queued) {
            LOG.debug("guest closed; event {} dropped", e);
        }
    }

    private void ack(long eventId, int status, String detail) {
        if (eventId == 0 || !port.isOpen()) {
            return; // 0: an event that came as an RTAS event log, with nothing to acknowledge
        }
        try {
            port.ackEvent(eventId, status, detail);
        } catch (PortException e) {
            LOG.warn("ack of event {} lost: {}", eventId, e.getMessage());
        }
    }

    /** A report not tied to any event. */
    public GuestReport report() {
        return report(0);
    }

    /**
     * The guest's own view. Per credit type: total, used, listed (open), listed-and-closed, and as
     * {@code windowsInProgress} the windows an unfinished open has allocated in the hypervisor (for every
     * policy; under UPSTREAM this is what nr_open_wins_progress counts). Windows are the listed ones with their
     * status bits; the device tree is a copy. {@code busyTasks} counts the tasks inside a VAS path, plus a migration,
     * device-tree update or PRRN under way (the tree and the CPU map lag the platform then), while the
     * snapshot was taken: when it is not zero, the counters may legitimately disagree with the lists.
     */
    public GuestReport report(long inReplyToEvent) {
        // Exits before entries: equal means no task was inside a VAS path when the snapshot began.
        long exits = vas.pathExits();
        long entries = vas.pathEntries();
        List<GuestReport.Credits> credits = new ArrayList<>();
        List<GuestReport.Window> windows = new ArrayList<>();
        for (PseriesVas.CapsSnapshot s : vas.snapshots()) {
            credits.add(new GuestReport.Credits(s.type(), s.creditsTotal(), s.creditsUsed(), s.windowsOpen(),
                    s.windowsClosed(), vas.windowsHalfOpen(s.type())));
            for (PseriesVas.WindowSnapshot w : s.windows()) {
                windows.add(new GuestReport.Window(w.winId(), w.winType(), w.status(), w.pasteAddress(), w.pid(), w.task()));
            }
        }
        // Lagging the platform on purpose: a migration, a device-tree update or a PRRN still to handle. Read before
        // the tree and the map, so that one finishing during the snapshot is still counted.
        long laggingBefore = (long) mobility.inProgress() + dtUpdate.inFlight() + prrn.pending();
        DeviceTree tree = deviceTree.snapshot();
        GuestReport.Topology topology = new GuestReport.Topology(numa.policy().name(), numa.policy().reassignsCpus(),
                numa.cpuNodes());
        long lagging = Math.max(laggingBefore, (long) mobility.inProgress() + dtUpdate.inFlight() + prrn.pending());
        // Inside at the start, plus entered during the snapshot.
        long busy = (entries - exits) + (vas.pathEntries() - entries) + lagging;
        return new GuestReport(reportSeq.incrementAndGet(), credits, mobility.migrationsOk(), mobility.migrationsFailed(),
                errors.snapshot(), windows, tree, inReplyToEvent, config.vasPolicy().name(),
                config.prrnPolicy().name(), nxGzip.pastesOk(), nxGzip.pastesFailed(), prrn.handled(), prrn.failed(),
                (int) Math.min(Integer.MAX_VALUE, busy), topology);
    }

    /**
     * The guest-side invariants (papr-notes 4.10 for VAS, plus: every window held by a device handle is listed).
     * Meant for quiescent moments; returns the violations and throws nothing.
     */
    public List<String> checkInvariants() {
        List<String> v = new ArrayList<>(vas.checkInvariants());
        Set<Long> listed = new HashSet<>();
        for (PseriesVas.CapsSnapshot s : vas.snapshots()) {
            for (PseriesVas.WindowSnapshot w : s.windows()) {
                listed.add(w.serial());
            }
        }
        for (VasWindow w : nxGzip.windows()) {
            if (!listed.contains(w.serial())) {
                v.add("window " + w + " is held by a device handle but not listed");
            }
        }
        if (prrn.outstanding() < 0) {
            v.add("PRRN outstanding count is negative: " + prrn.outstanding());
        }
        return v;
    }

    public GuestConfig config() {
        return config;
    }

    /** The guest's processors and scheduler. */
    public Machine machine() {
        return machine;
    }

    /** How the kernel's code reaches the hypervisor. */
    public KernelCalls calls() {
        return calls;
    }

    public BootInfo bootInfo() {
        return bootInfo;
    }

    public HcallPort port() {
        return port;
    }

    public PseriesVas vas() {
        return vas;
    }

    public NxGzipDevice nxGzip() {
        return nxGzip;
    }

    public PseriesMobility mobility() {
        return mobility;
    }

    public PrrnWorker prrn() {
        return prrn;
    }

    /** rtasd's event scan, or null when the firmware does not offer event-scan. */
    public RtasEventScan eventScan() {
        return eventScan;
    }

    public PseriesDlpar dlpar() {
        return dlpar;
    }

    /** numa.c's CPU side: the CPU-to-node map and the topology update switch. */
    public NumaTopology numa() {
        return numa;
    }

    public GuestDeviceTree deviceTree() {
        return deviceTree;
    }

    public ErrorCounters errors() {
        return errors;
    }

    /** Events handled by the drmgr, dlpar and kreport workers (PRRNs are counted by {@link #prrn()}). */
    public long eventsHandled() {
        return eventsHandled.get();
    }

    /**
     * Stops taking events and stops the workers (interrupting them; a worker blocked inside an hcall finishes
     * that call first). Waits a bounded time for them. The port stays open.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        port.setEventListener(e -> LOG.debug("guest {} closed; event {} ignored", config.name(), e));
        RtasEventScan scan = eventScan;
        if (scan != null) {
            scan.close();
        }
        for (Machine.Workqueue wq : List.of(drmgr, dlparWorker, kreport)) {
            wq.shutdown();
        }
        synchronized (this) {
            if (irqThread != null) {
                irqThread.shutdown();
            }
        }
        prrn.close();
        machine.close();
    }

    /** The IRQ thread, started on first use; null once the guest is closed. */
    private synchronized Machine.Workqueue irqThread() {
        if (irqThread == null && !closed) {
            irqThread = machine.workqueue("irq/vas-fault");
        }
        return closed ? null : irqThread;
    }

    private static String errnoName(int rc) {
        return VasException.errorName(rc, false);
    }

    @Override
    public String toString() {
        return "GuestKernel[" + config.name() + " on " + bootInfo.partition() + ", " + config.vasPolicy() + "/"
                + config.prrnPolicy() + "/" + config.topologyPolicy() + "]";
    }
}
