package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.check.Violation;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEventListener;
import org.lparemu.core.port.RtasResult;

/**
 * Every named invariant oracle fires on the state it exists for, built on the real {@link Platform} with a real
 * {@link GuestKernel}, and stays quiet on a neighbouring legal state. Each test expects exactly the one violation
 * name (the suite's power to notice, issue 12), not merely "some violation".
 *
 * <p>How each state is built, in order of preference: by calls a guest or operator can make (H_JOIN outside a
 * migration, a window opened or closed behind the kernel's back, an ignored PRRN, a failed capabilities query);
 * where no legal sequence reaches it (the hypervisor keeps that invariant itself) by planting under the partition
 * lock the state a regression of the hypervisor would leave; and for the guest's private counters, which no
 * platform action can disturb, by a guest whose report carries the counters a kernel bug would leave (the real
 * kernel runs; only its report is rewritten on the way out, as a buggy kernel - the C harness's, say - sends it).
 */
@Timeout(30)
// Every access to a guarded field runs inside plant() or putWindow(), under the partition's lock; Error Prone cannot
// see a lock held around a lambda.
@SuppressWarnings("GuardedBy")
class InvariantOracleTest {
    private static final long WAIT_MS = 10_000;

    private final Rig rig = new Rig(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 0, 60_000, 0, 600_000));
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        rig.close();
    }

    private InvariantReport check(String partition) {
        return Rig.await(InvariantChecker.check(rig.platform, partition, WAIT_MS));
    }

    private static List<String> names(InvariantReport r) {
        return r.violations().stream().map(Violation::name).toList();
    }

    private void assertExactly(String name, InvariantReport r) {
        assertEquals(List.of(name), names(r), r.violations().toString());
    }

    private void assertClean(InvariantReport r) {
        assertEquals(List.of(), r.violations(), "the neighbouring legal state");
    }

    /** Runs {@code planter} under the partition's lock: the state a hypervisor regression would leave. */
    private void plant(String partition, Consumer<Partition> planter) {
        Partition p = rig.platform.partition(partition);
        p.lock.lock();
        try {
            planter.accept(p);
        } finally {
            p.lock.unlock();
        }
    }

    /** A window object as H_ALLOCATE_VAS_WINDOW builds it, on {@code system}, holding {@code credits}. */
    private static VasWindow window(ManagedSystem system, int credits) {
        return new VasWindow(system.allocateWinId(), Vas.WIN_TYPE_DEFAULT, credits, system, system.allocateIrq(),
                system.allocateIrq(), new long[6], 0, "planted");
    }

    private static void putWindow(Partition p, VasWindow w) {
        p.lock.lock();
        try {
            p.windows.put(w.winId, w);
        } finally {
            p.lock.unlock();
        }
    }

    private GuestKernel boot(HcallPort port, PrrnPolicy prrn) {
        GuestKernel k = GuestKernel.boot(port, new GuestConfig(VasPolicy.UPSTREAM, prrn, new SystemGuestClock(0.001),
                "lpar1"));
        closing.add(k);
        return k;
    }

    private GuestKernel boot() {
        return boot(new InProcessPort(rig.platform, "lpar1"), PrrnPolicy.DRAIN_BEFORE_SUSPEND);
    }

    /** A connection that gets no events (so the check asks no report of it): calls as a guest makes them. */
    private Rig.Guest raw(String partition) {
        Rig.Guest g = new Rig.Guest(rig, new InProcessPort(rig.platform, partition, "no-events", false));
        closing.add(g.port);
        return g;
    }

    /** A second connection to lpar1: calls behind the kernel's back. */
    private Rig.Guest raw() {
        return raw("lpar1");
    }

    private static long openWindow(GuestKernel k) {
        NxGzipDevice.OpenResult r = k.nxGzip().open(false, 0);
        assertTrue(r.ok(), r.toString());
        return k.nxGzip().window(r.handle()).winId();
    }

    /** Brings lpar1's stream to SUSPENDING: the moment ibm,suspend-me may be called. */
    private OperatorResults.MigrateResult migrateToSuspending(String partition) {
        OperatorResults.MigrateResult m = rig.platform.migrate(partition, "");
        Rig.await(CompletableFuture.runAsync(() -> { }, rig.clock)); // the ready timer (0 ms) ran before this
        assertEquals(VasiState.SUSPENDING, rig.state(partition).migration().vasiState());
        return m;
    }

    private String cpuPath() {
        return rig.state("lpar1").deviceTree().children("/cpus").get(0).path();
    }

    // --- hypervisor oracle ------------------------------------------------------------------------------------

    @Test
    void creditsOverMaxFiresOneCreditBeyondMaxLparCredsAndNotAtIt() {
        int max = rig.platform.system("source").config().maxLparCredits();
        Partition p = rig.platform.partition("lpar2");
        VasWindow atMax = window(rig.platform.system("source"), max);
        putWindow(p, atMax);
        assertClean(check("lpar2"));

        plant("lpar2", x -> x.windows.remove(atMax.winId));
        putWindow(p, window(rig.platform.system("source"), max + 1));
        InvariantReport r = check("lpar2");
        assertExactly("credits-over-max", r);
        assertEquals("lpar2/credits default", r.violations().get(0).location());
    }

    @Test
    void windowOnForeignSystemFiresForADestinationWindowOnTheSource() {
        Partition p = rig.platform.partition("lpar2");
        putWindow(p, window(rig.platform.system("source"), 1));
        assertClean(check("lpar2"));

        VasWindow foreign = window(rig.platform.system("destination"), 1);
        putWindow(p, foreign);
        InvariantReport r = check("lpar2");
        assertExactly("window-on-foreign-system", r);
        assertEquals("lpar2/window " + foreign.winId, r.violations().get(0).location());
    }

    @Test
    void suspensionVsVasiFiresForASuspendedFlagWithoutASuspendedStream() {
        plant("lpar2", p -> p.suspended = true);
        // Both vCPUs run outside the rendezvous of a suspension nobody made: that too is reported, per vCPU.
        assertEquals(List.of("suspension-vs-vasi", "vcpu-state", "vcpu-state"), names(check("lpar2")));
        plant("lpar2", p -> p.suspended = false);
        assertClean(check("lpar2"));
    }

    @Test
    void suspensionVsVasiFiresForASuspendedStreamWhoseFlagWasLost() {
        Rig.Guest g = raw("lpar2");
        migrateToSuspending("lpar2");
        CompletableFuture<HcallResult> joined = g.hcallAsync(0, Hcall.H_JOIN);
        CompletableFuture<RtasResult> suspend = g.rtasAsync(1, RtasService.SUSPEND_ME, null);
        assertTrue(rig.state("lpar2").suspended());
        assertClean(check("lpar2"));

        plant("lpar2", p -> p.suspended = false);
        assertExactly("suspension-vs-vasi", check("lpar2"));
        plant("lpar2", p -> p.suspended = true);
        assertClean(check("lpar2"));
        assertTrue(!joined.isDone() && !suspend.isDone(), "both still inside the rendezvous");
    }

    @Test
    void vcpuStuckInJoinFiresForAnHJoinOutsideAMigrationAndNotDuringOne() {
        Rig.Guest g = raw("lpar2");
        CompletableFuture<HcallResult> parked = g.hcallAsync(0, Hcall.H_JOIN);
        InvariantReport r = check("lpar2");
        assertExactly("vcpu-stuck-in-join", r);
        assertEquals("lpar2/vcpus [0]", r.violations().get(0).location());

        assertEquals(HStatus.H_SUCCESS, g.hcall(1, Hcall.H_PROD, 0).status());
        assertEquals(HStatus.H_SUCCESS, Rig.await(parked).status());
        assertClean(check("lpar2"));

        migrateToSuspending("lpar2");
        CompletableFuture<HcallResult> during = g.hcallAsync(0, Hcall.H_JOIN);
        assertEquals(List.of(0), rig.state("lpar2").joinedVcpus());
        assertClean(check("lpar2"));
        assertTrue(!during.isDone());
    }

    @Test
    void vcpuStateFiresForAStoppedVcpuInsideACallAndNotForOneThatStoppedItself() {
        Rig.Guest g = raw("lpar1");
        assertEquals(RtasStatus.SUCCESS, g.rtas(2, RtasService.STOP_SELF, null).status());
        assertClean(check("lpar1"));

        plant("lpar1", p -> {
            assertEquals(null, p.vcpus.admit(1, "H_PROD", false));
            p.vcpus.stopLocked(1);
        });
        InvariantReport r = check("lpar1");
        assertExactly("vcpu-state", r);
        assertEquals("lpar1/vcpu 1", r.violations().get(0).location());
        assertTrue(r.violations().get(0).detail().contains("stopped but inside H_PROD"), r.violations().toString());
    }

    @Test
    void vcpuStateFiresForAJoinedVcpuThatWasStopped() {
        Rig.Guest g = raw("lpar1");
        migrateToSuspending("lpar1");
        CompletableFuture<HcallResult> parked = g.hcallAsync(0, Hcall.H_JOIN);
        assertClean(check("lpar1"));

        plant("lpar1", p -> p.vcpus.stopLocked(0));
        InvariantReport r = check("lpar1");
        assertEquals(List.of("vcpu-state", "vcpu-state"), names(r), r.violations().toString());
        assertTrue(r.violations().stream().anyMatch(v -> v.detail().equals("parked in H_JOIN but stopped")),
                r.violations().toString());
        assertTrue(!parked.isDone());
    }

    @Test
    void vcpuStateFiresForAVcpuRunningOutsideTheRendezvousWhileSuspended() {
        Rig.Guest g = raw("lpar1");
        assertEquals(RtasStatus.SUCCESS, g.rtas(2, RtasService.STOP_SELF, null).status());
        migrateToSuspending("lpar1");
        g.hcallAsync(0, Hcall.H_JOIN);
        g.hcallAsync(1, Hcall.H_JOIN);
        CompletableFuture<RtasResult> suspend = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
        assertTrue(rig.state("lpar1").suspended(), "a stopped vCPU does not join; the other three suspended it");
        assertClean(check("lpar1"));

        plant("lpar1", p -> p.vcpus.startLocked(2)); // start-cpu let through during the blackout
        InvariantReport r = check("lpar1");
        assertExactly("vcpu-state", r);
        assertEquals("lpar1/vcpu 2", r.violations().get(0).location());
        assertEquals("running outside H_JOIN and ibm,suspend-me while the partition is suspended",
                r.violations().get(0).detail());
        assertTrue(!suspend.isDone());
    }

    @Test
    void windowIdSharedFiresForOneIdInTwoPartitionsOfASystem() {
        long mine = raw("lpar1").openWindow(Vas.WIN_TYPE_DEFAULT);
        raw("lpar2").openWindow(Vas.WIN_TYPE_DEFAULT);
        assertClean(check(null));

        plant("lpar1", p -> putWindow(rig.platform.partition("lpar2"), p.windows.get(mine)));
        InvariantReport r = check("");
        assertExactly("window-id-shared", r);
        assertEquals("lpar2/window " + mine, r.violations().get(0).location());
    }

    // --- guest oracle -----------------------------------------------------------------------------------------

    @Test
    void windowLeakFiresForAWindowOpenedBehindTheKernelsBack() {
        GuestKernel k = boot();
        openWindow(k);
        assertClean(check("lpar1"));

        long leaked = raw().openWindow(Vas.WIN_TYPE_DEFAULT);
        InvariantReport r = check("lpar1");
        assertExactly("window-leak", r);
        assertEquals("lpar1/window " + leaked, r.violations().get(0).location());
    }

    @Test
    void guestWindowNotOpenFiresForAWindowDeallocatedBehindTheKernelsBack() {
        GuestKernel k = boot();
        long winId = openWindow(k);
        assertClean(check("lpar1"));

        assertEquals(HStatus.H_SUCCESS, raw().deallocate(winId));
        InvariantReport r = check("lpar1");
        assertExactly("guest-window-not-open", r);
        assertEquals("lpar1/window " + winId, r.violations().get(0).location());
    }

    @Test
    void guestWindowNotActiveFiresForAWindowClosedBehindTheKernelsBack() {
        GuestKernel k = boot();
        long winId = openWindow(k);
        assertClean(check("lpar1"));

        assertEquals(HStatus.H_SUCCESS, raw().hcall(0, Hcall.H_MODIFY_VAS_WINDOW, winId, 0, 0, Vas.MOD_WIN_CLOSE, 0)
                .status());
        assertExactly("guest-window-not-active", check("lpar1"));
    }

    @Test
    void creditsTotalMismatchFiresWhenTheGuestMissesACreditChange() {
        GuestKernel k = boot();
        assertClean(check("lpar1"));
        long query = rig.platform.addFault(new FaultRule(FaultMatch.hcall(Hcall.H_QUERY_VAS_CAPABILITIES)
                .partition("lpar1"), new FaultAction.ReturnStatus(HStatus.H_HARDWARE, new long[0], When.BEFORE)));
        for (long id : rig.platform.dlparCpu("lpar1", true, 1).eventIds()) {
            Rig.await(rig.platform.awaitEvent(id, WAIT_MS));
        }
        assertExactly("credits-total-mismatch", check("lpar1"));

        rig.platform.faults().remove(query);
        for (long id : rig.platform.dlparCpu("lpar1", true, 1).eventIds()) {
            Rig.await(rig.platform.awaitEvent(id, WAIT_MS));
        }
        assertClean(check("lpar1"));
        assertEquals(4 * 20, k.report().credits().stream().filter(c -> c.winType() == Vas.WIN_TYPE_DEFAULT)
                .findFirst().orElseThrow().creditsTotal());
    }

    @Test
    void deviceTreeStaleFiresWhenTheGuestIgnoresAPrrnAndNotWhenItAppliesIt() {
        boot(new InProcessPort(rig.platform, "lpar1"), PrrnPolicy.IGNORE);
        assertClean(check("lpar1"));
        String path = cpuPath();
        long e = rig.platform.prrn("lpar1", List.of(DeviceTreeChange.setProperty(path, "ibm,associativity",
                DeviceTree.cells(4, 1, 1, 1, 1)))).eventId();
        Rig.await(rig.platform.awaitEvent(e, WAIT_MS));
        InvariantReport r = check("lpar1");
        assertExactly("device-tree-stale", r);
        assertEquals("lpar1:" + path + " ibm,associativity", r.violations().get(0).location());
    }

    @Test
    void deviceTreeIsCleanWhenTheGuestAppliesThePrrn() {
        boot();
        long e = rig.platform.prrn("lpar1", List.of(DeviceTreeChange.setProperty(cpuPath(), "ibm,associativity",
                DeviceTree.cells(4, 1, 1, 1, 1)))).eventId();
        Rig.await(rig.platform.awaitEvent(e, WAIT_MS));
        assertClean(check("lpar1"));
    }

    private static GuestReport reportWithTree(DeviceTree tree) {
        return new GuestReport(1, List.of(), 0, 0, Map.of(), List.of(), tree, 0, "UPSTREAM", "IGNORE", 0, 0, 0, 0, 0,
                null);
    }

    @Test
    void deviceTreeOracleOnTheSameTreeTheOwnPhandlePropertyAndAnotherPhandle() {
        PartitionView v = rig.state("lpar2");
        assertEquals(List.of(), InvariantChecker.deviceTree(v, reportWithTree(null)), "no tree reported, nothing compared");
        DeviceTree guest = v.deviceTree().copy();
        assertEquals(List.of(), InvariantChecker.deviceTree(v, reportWithTree(guest)));

        DeviceTree.Node cpu = guest.children("/cpus").get(0);
        guest.setProperty(cpu.path(), "ibm,phandle", DeviceTree.cells(cpu.phandle()));
        assertEquals(List.of(), InvariantChecker.deviceTree(v, reportWithTree(guest)),
                "ibm,phandle naming the node's own phandle is the same fact");
        guest.setProperty(cpu.path(), "ibm,phandle", DeviceTree.cells(cpu.phandle() + 1));
        List<Violation> other = InvariantChecker.deviceTree(v, reportWithTree(guest));
        assertEquals(List.of("device-tree-stale"), other.stream().map(Violation::name).toList());
        assertEquals("lpar2:" + cpu.path() + " ibm,phandle", other.get(0).location());
        guest.setProperty(cpu.path(), "ibm,phandle", new byte[] {0, 0, 0, 0, 0});
        assertEquals(1, InvariantChecker.deviceTree(v, reportWithTree(guest)).size(), "not a 4-byte cell");
        guest.setProperty(cpu.path(), "ibm,phandle", DeviceTree.cells(cpu.phandle()));
        guest.setProperty(cpu.path(), "linux,phandle", DeviceTree.cells(cpu.phandle()));
        assertEquals(List.of(), InvariantChecker.deviceTree(v, reportWithTree(guest)));
        guest.setProperty(cpu.path(), "ibm,my-phandle", DeviceTree.cells(cpu.phandle()));
        assertEquals(1, InvariantChecker.deviceTree(v, reportWithTree(guest)).size(), "only the phandle properties");
    }

    @Test
    void deviceTreeStaleSaysWhatThePlatformHoldsWhereTheGuestHasNothing() {
        PartitionView v = rig.state("lpar2");
        DeviceTree guest = v.deviceTree().copy();
        DeviceTree.Node cpu = guest.children("/cpus").get(0);
        byte[] platformValue = cpu.property("ibm,associativity");
        assertTrue(guest.deleteProperty(cpu.path(), "ibm,associativity"));
        List<Violation> missing = InvariantChecker.deviceTree(v, reportWithTree(guest));
        assertEquals(List.of("device-tree-stale"), missing.stream().map(Violation::name).toList());
        assertEquals("lpar2:" + cpu.path() + " ibm,associativity", missing.get(0).location());
        assertTrue(missing.get(0).detail().endsWith(": guest null, platform " + DeviceTree.render(platformValue)),
                missing.get(0).detail());
    }

    // --- guest oracle, the kernel's own counters --------------------------------------------------------------

    private GuestKernel bootWithRewrite(ReportRewritingPort port) {
        GuestKernel k = boot(port, PrrnPolicy.DRAIN_BEFORE_SUSPEND);
        openWindow(k);
        assertClean(check("lpar1"));
        return k;
    }

    private static GuestReport withDefault(GuestReport r, UnaryOperator<GuestReport.Credits> f) {
        List<GuestReport.Credits> credits = r.credits().stream()
                .map(c -> c.winType() == Vas.WIN_TYPE_DEFAULT ? f.apply(c) : c).toList();
        return new GuestReport(r.seq(), credits, r.migrationsOk(), r.migrationsFailed(), r.errorsByErrno(), r.windows(),
                r.deviceTree(), r.inReplyToEvent(), r.vasPolicy(), r.prrnPolicy(), r.pastesOk(), r.pastesFailed(),
                r.prrnHandled(), r.prrnFailed(), r.busyTasks(), r.topology());
    }

    private InvariantReport checkWith(ReportRewritingPort port, UnaryOperator<GuestReport.Credits> bug) {
        port.rewrite = r -> withDefault(r, bug);
        return check("lpar1");
    }

    private static GuestReport.Credits credits(GuestReport.Credits c, int used, int open, int closed, int progress) {
        return new GuestReport.Credits(c.winType(), c.creditsTotal(), used, open, closed, progress);
    }

    @Test
    void openInProgressFiresForAnOpenThatNeverFinished() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        assertExactly("open-in-progress", checkWith(port, c -> credits(c, c.creditsUsed() + 1, c.windowsOpen(),
                c.windowsClosed(), 1)));
    }

    @Test
    void closedExceedsOpenFiresOneAboveTheListAndNotAtIt() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        assertClean(checkWith(port, c -> credits(c, c.creditsUsed(), c.windowsOpen(), c.windowsOpen(), 0)));
        assertExactly("closed-exceeds-open", checkWith(port, c -> credits(c, c.creditsUsed(), c.windowsOpen(),
                c.windowsOpen() + 1, 0)));
    }

    @Test
    void creditsUsedMismatchFiresForACreditTakenAndNeverGivenBack() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        assertExactly("credits-used-mismatch", checkWith(port, c -> credits(c, c.creditsUsed() + 1, c.windowsOpen(),
                c.windowsClosed(), 0)));
        assertExactly("credits-used-mismatch", checkWith(port, c -> credits(c, c.creditsUsed() - 1, c.windowsOpen(),
                c.windowsClosed(), 0)));
    }

    @Test
    void windowListMismatchFiresForACounterThatDisagreesWithTheList() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        assertExactly("window-list-mismatch", checkWith(port, c -> credits(c, c.creditsUsed() + 1,
                c.windowsOpen() + 1, c.windowsClosed(), 0)));
    }

    @Test
    void pasteAddressMismatchFiresForAGuestMappingAnotherPage() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        port.rewrite = r -> new GuestReport(r.seq(), r.credits(), r.migrationsOk(), r.migrationsFailed(),
                r.errorsByErrno(), r.windows().stream().map(w -> new GuestReport.Window(w.winId(), w.winType(), w.status(),
                w.pasteAddress() + ManagedSystem.PASTE_PAGE, w.pid(), w.task())).toList(), r.deviceTree(),
                r.inReplyToEvent(), r.vasPolicy(), r.prrnPolicy(), r.pastesOk(), r.pastesFailed(), r.prrnHandled(),
                r.prrnFailed(), r.busyTasks(), r.topology());
        assertExactly("paste-address-mismatch", check("lpar1"));
    }

    @Test
    void cpuNodeStaleFiresForAnEraThatMovesCpusWhenOneIsOnTheWrongNodeAndNotForOneThatKeepsBootNodes() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        // The real kernel's map (v5.9+, every thread on node 0 of the source), first claimed by an era that moves CPUs.
        port.rewrite = r -> withTopology(r, new GuestReport.Topology("BEFORE_65B9FDADFC4D", true,
                r.topology().cpuNodes()));
        assertClean(check("lpar1"));
        port.rewrite = r -> withTopology(r, new GuestReport.Topology("BEFORE_65B9FDADFC4D", true,
                Map.of(0, 0, 1, 0, 2, 7, 3, 0)));
        assertExactly("cpu-node-stale", check("lpar1"));
        port.rewrite = r -> withTopology(r, new GuestReport.Topology("V5_9", false, Map.of(0, 0, 1, 0, 2, 7, 3, 0)));
        assertClean(check("lpar1"));
    }

    @Test
    void cpuNodeStaleIsStillCheckedForAGuestThatSendsNoDeviceTree() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        // A guest that reports its CPU-to-node map but not its tree: only the tree comparison has nothing to compare.
        port.rewrite = r -> withTopology(r, null, new GuestReport.Topology("BEFORE_65B9FDADFC4D", true,
                Map.of(0, 0, 1, 0, 2, 7, 3, 0)));
        assertExactly("cpu-node-stale", check("lpar1"));
        port.rewrite = r -> withTopology(r, null, new GuestReport.Topology("BEFORE_65B9FDADFC4D", true,
                r.topology().cpuNodes()));
        assertClean(check("lpar1"));
    }

    private static GuestReport withTopology(GuestReport r, GuestReport.Topology t) {
        return withTopology(r, r.deviceTree(), t);
    }

    private static GuestReport withTopology(GuestReport r, DeviceTree tree, GuestReport.Topology t) {
        return new GuestReport(r.seq(), r.credits(), r.migrationsOk(), r.migrationsFailed(), r.errorsByErrno(),
                r.windows(), tree, r.inReplyToEvent(), r.vasPolicy(), r.prrnPolicy(), r.pastesOk(),
                r.pastesFailed(), r.prrnHandled(), r.prrnFailed(), r.busyTasks(), t);
    }

    @Test
    void aGuestThatNeverAnswersGetsTheHypervisorOraclesAndItsRequestIsWithdrawn() {
        // A bare client connection takes events but answers none: the check must neither fail nor leave its
        // report request pending (three checks would otherwise hold three events towards the partition's limit).
        InProcessPort bare = new InProcessPort(rig.platform, "lpar1", "bare client", true);
        try {
            for (int round = 1; round <= 3; round++) {
                CompletableFuture<InvariantReport> f = InvariantChecker.check(rig.platform, "lpar1", 1000);
                assertEquals(1, rig.state("lpar1").pendingEvents().size(), "the request waits for an answer");
                rig.clock.advance(1000);
                InvariantReport r = Rig.await(f);
                assertEquals(List.of(), r.violations());
                assertEquals(1, r.partitionsChecked(), "the hypervisor's oracles ran");
                assertEquals(0, r.guestReportsCompared());
                assertEquals(1, r.notQuiescent().size());
                assertTrue(r.notQuiescent().get(0).startsWith("lpar1: the guest did not answer"), r.notQuiescent().get(0));
                assertEquals(List.of(), rig.state("lpar1").pendingEvents(), "round " + round + ": withdrawn");
            }
        } finally {
            bare.close();
        }
    }

    @Test
    void aBusyGuestsCountersAreNotComparedButItsBugIsWhenQuiescent() {
        ReportRewritingPort port = new ReportRewritingPort(new InProcessPort(rig.platform, "lpar1"));
        bootWithRewrite(port);
        UnaryOperator<GuestReport.Credits> inFlight = c -> credits(c, c.creditsUsed() + 1, c.windowsOpen(),
                c.windowsClosed(), 0);
        port.rewrite = r -> {
            GuestReport b = withDefault(r, inFlight);
            return new GuestReport(b.seq(), b.credits(), b.migrationsOk(), b.migrationsFailed(), b.errorsByErrno(),
                    b.windows(), b.deviceTree(), b.inReplyToEvent(), b.vasPolicy(), b.prrnPolicy(), b.pastesOk(),
                    b.pastesFailed(), b.prrnHandled(), b.prrnFailed(), 1, b.topology());
        };
        InvariantReport busy = check("lpar1");
        assertClean(busy);
        assertEquals(0, busy.guestReportsCompared());
        assertEquals(1, busy.notQuiescent().size(), busy.notQuiescent().toString());
    }

    /** The guest's port with its outgoing reports rewritten: a kernel whose counters carry a bug. */
    static final class ReportRewritingPort implements HcallPort {
        private final HcallPort delegate;
        volatile UnaryOperator<GuestReport> rewrite = UnaryOperator.identity();

        ReportRewritingPort(HcallPort delegate) {
            this.delegate = delegate;
        }

        @Override
        public BootInfo bootInfo() {
            return delegate.bootInfo();
        }

        @Override
        public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
            return delegate.hcall(vcpu, opcode, args, buffer, interruptsDisabled);
        }

        @Override
        public CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                                         boolean interruptsDisabled) {
            return delegate.hcallAsync(vcpu, opcode, args, buffer, interruptsDisabled);
        }

        @Override
        public RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea) {
            return delegate.rtas(vcpu, service, args, workArea);
        }

        @Override
        public CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea) {
            return delegate.rtasAsync(vcpu, service, args, workArea);
        }

        @Override
        public void setEventListener(PlatformEventListener listener) {
            delegate.setEventListener(listener);
        }

        @Override
        public void ackEvent(long eventId, int status, String detail) {
            delegate.ackEvent(eventId, status, detail);
        }

        @Override
        public void report(GuestReport report) {
            delegate.report(rewrite.apply(report));
        }

        @Override
        public void tracepoint(int vcpu, String name, String detail) {
            delegate.tracepoint(vcpu, name, detail);
        }

        @Override
        public boolean isOpen() {
            return delegate.isOpen();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
