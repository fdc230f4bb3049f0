package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.ScriptedHcallPort.Call;

/** PseriesVas: init, open (every error path), close, and the busy retry loop. */
class PseriesVasTest {

    private final FakePlatform platform = new FakePlatform();
    private final VirtualGuestClock clock = new VirtualGuestClock();

    private PseriesVas vas(VasPolicy policy) {
        return new PseriesVas(KernelCalls.threaded(platform.port, clock), policy, new ErrorCounters());
    }

    private PseriesVas booted() {
        PseriesVas vas = vas(VasPolicy.UPSTREAM);
        assertEquals(0, vas.pseriesVasInit());
        platform.port.clearCalls();
        return vas;
    }

    private static int rc(ThrowingOpen open) {
        VasException e = assertThrows(VasException.class, open::run);
        return e.rc();
    }

    @FunctionalInterface
    interface ThrowingOpen {
        void run() throws VasException;
    }

    // ---------------------------------------------------------------------------------------------------- init

    @Test
    void initReadsOverallThenEachFeatureAndTakesTargetCredits() {
        platform.qosTarget = 3;
        platform.defaultTarget = 12;
        PseriesVas vas = vas(VasPolicy.UPSTREAM);

        assertEquals(0, vas.pseriesVasInit());

        assertTrue(vas.copypasteFeat());
        List<Call> q = platform.port.calls(Hcall.H_QUERY_VAS_CAPABILITIES);
        assertEquals(3, q.size());
        assertEquals(List.of(0L, 1L, 2L), List.of(q.get(0).arg(0), q.get(1).arg(0), q.get(2).arg(0)));
        for (Call c : q) {
            assertNotEquals(0, c.arg(1), "buffer address must be nonzero");
            assertEquals(0, c.arg(1) & 0xFFF, "buffer address must be 4 KiB aligned");
        }
        assertEquals(Vas.FEAT_GZIP_QOS | Vas.FEAT_GZIP_DEFAULT, vas.capsAll().featType());
        PseriesVas.CapsSnapshot qos = vas.snapshot(Vas.WIN_TYPE_QOS);
        PseriesVas.CapsSnapshot def = vas.snapshot(Vas.WIN_TYPE_DEFAULT);
        assertTrue(qos.enabled());
        assertTrue(def.enabled());
        assertEquals(3, qos.creditsTotal());
        assertEquals(12, def.creditsTotal(), "nr_total_credits comes from target_lpar_creds, not max");
        assertEquals(Vas.WIN_TYPE_DEFAULT, def.winType());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void hFunctionMeansNoVasAndNoFurtherQueries() {
        platform.port.script(Hcall.H_QUERY_VAS_CAPABILITIES, HcallResult.of(HStatus.H_FUNCTION));
        PseriesVas vas = vas(VasPolicy.UPSTREAM);

        assertEquals(Errno.EIO.negative(), vas.pseriesVasInit());

        assertFalse(vas.copypasteFeat());
        assertEquals(1, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND), "nothing to do without copy/paste");
        assertEquals(1, platform.port.calls().size(), "the migration handler made no hcall");
    }

    @Test
    void userModeWithoutCopyPasteDisablesVas() {
        platform.userMode = Vas.USER_MODE_COP_OP;
        PseriesVas vas = vas(VasPolicy.UPSTREAM);

        assertEquals(Errno.ENOTSUPP.negative(), vas.pseriesVasInit());

        assertFalse(vas.copypasteFeat());
        assertEquals(2, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES), "QoS failed: Default is not queried");
    }

    @Test
    void winTypeOutOfRangeIsRejected() {
        platform.qosWinType = 2;
        PseriesVas vas = vas(VasPolicy.UPSTREAM);
        assertEquals(Errno.EINVAL.negative(), vas.pseriesVasInit());
        assertFalse(vas.copypasteFeat());
    }

    @Test
    void defaultTypeNeedsOneWindowCreditEvenAfterQosSucceeded() {
        platform.defaultMaxWinCreds = 0;
        PseriesVas vas = vas(VasPolicy.UPSTREAM);

        assertEquals(Errno.EINVAL.negative(), vas.pseriesVasInit());

        assertFalse(vas.copypasteFeat(), "a failed Default query turns copy/paste off");
        assertTrue(vas.snapshot(Vas.WIN_TYPE_QOS).enabled());
    }

    @Test
    void qosOnlyPartitionHasCopyPaste() {
        platform.defaultFeature = false;
        PseriesVas vas = vas(VasPolicy.UPSTREAM);
        assertEquals(0, vas.pseriesVasInit());
        assertTrue(vas.copypasteFeat());
        assertFalse(vas.snapshot(Vas.WIN_TYPE_DEFAULT).enabled());
        assertEquals(2, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));
    }

    @Test
    void capabilityQueryIsNotRetriedWhenBusy() {
        PseriesVas vas = booted();
        platform.port.script(Hcall.H_QUERY_VAS_CAPABILITIES, HcallResult.of(HStatus.H_BUSY));
        assertEquals(Errno.EIO.negative(), vas.pseriesVasDlparCpu());
        assertEquals(1, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));
        assertEquals(List.of(), clock.sleeps());
    }

    // ---------------------------------------------------------------------------------------------------- open

    @Test
    void openAllocatesModifiesAndLists() throws Exception {
        PseriesVas vas = booted();

        VasWindow w = vas.allocateWindow(0, 0, 4242);

        List<Call> calls = platform.port.calls();
        assertEquals(2, calls.size(), calls.toString());
        Call alloc = calls.get(0);
        assertEquals(Hcall.H_ALLOCATE_VAS_WINDOW, alloc.opcode());
        assertArrayEquals(new long[] {Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID, 0, 0, 0, 0, 0}, alloc.args());
        Call modify = calls.get(1);
        assertEquals(Hcall.H_MODIFY_VAS_WINDOW, modify.opcode());
        assertArrayEquals(new long[] {w.winId(), 4242, 0, 0x5C00000000000000L, 0}, modify.args());

        assertEquals(Vas.VAS_WIN_ACTIVE, w.status());
        assertEquals(platform.windows.get(w.winId()).pasteAddress(), w.pasteAddress());
        assertEquals(Vas.WIN_TYPE_DEFAULT, w.winType());
        assertEquals(Thread.currentThread().getName(), w.task());
        PseriesVas.CapsSnapshot s = vas.snapshot(Vas.WIN_TYPE_DEFAULT);
        assertEquals(1, s.creditsUsed());
        assertEquals(1, s.windowsOpen());
        assertEquals(0, s.windowsInProgress());
        assertEquals(w.serial(), s.windows().get(0).serial());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void listIsNewestFirstAndQosFlagSelectsTheQosType() throws Exception {
        PseriesVas vas = booted();
        VasWindow a = vas.allocateWindow(0, 0, 1);
        VasWindow b = vas.allocateWindow(0, 0, 1);
        VasWindow q = vas.allocateWindow(0, PseriesVas.VAS_TX_WIN_FLAG_QOS_CREDIT, 1);

        assertEquals(List.of(b.serial(), a.serial()),
                vas.snapshot(Vas.WIN_TYPE_DEFAULT).windows().stream().map(PseriesVas.WindowSnapshot::serial).toList());
        assertEquals(Vas.WIN_TYPE_QOS, q.winType());
        assertEquals(Vas.WIN_TYPE_QOS, platform.windows.get(q.winId()).winType());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_QOS).creditsUsed());
    }

    @Test
    void noCreditLeftIsEinvalWithoutAnyHcall() throws Exception {
        platform.defaultTarget = 1;
        PseriesVas vas = booted();
        vas.allocateWindow(0, 0, 1);
        platform.port.clearCalls();

        assertEquals(Errno.EINVAL.negative(), rc(() -> vas.allocateWindow(0, 0, 1)));

        assertEquals(List.of(), platform.port.calls());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed(), "the credit taken for the check is given back");
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void openDuringMigrationIsEbusyWithoutAllocating() {
        PseriesVas vas = booted();
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        platform.port.clearCalls();

        assertEquals(Errno.EBUSY.negative(), rc(() -> vas.allocateWindow(0, 0, 1)));

        assertEquals(0, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertEquals(0, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
        assertTrue(vas.migrationInProgressAcquire());
    }

    @Test
    void openWhileWindowsAreClosedForCreditsAllocatesThenGivesBackWithEbusy() throws Exception {
        platform.defaultTarget = 2;
        PseriesVas vas = booted();
        vas.allocateWindow(0, 0, 1);
        vas.allocateWindow(0, 0, 1);
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1)); // the newest window is closed
        // Credits come back but the reopen fails: the window stays closed while credits are available.
        platform.port.script(Hcall.H_ALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_RESOURCE));
        assertEquals(Errno.EIO.negative(), vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 3));
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsClosed());
        platform.port.clearCalls();

        assertEquals(Errno.EBUSY.negative(), rc(() -> vas.allocateWindow(0, 0, 1)));

        assertEquals(List.of(Hcall.H_ALLOCATE_VAS_WINDOW, Hcall.H_MODIFY_VAS_WINDOW, Hcall.H_DEALLOCATE_VAS_WINDOW),
                platform.port.calls().stream().map(Call::opcode).toList());
        assertEquals(1, platform.windowsOpen(), "only the surviving active window is open in the hypervisor");
        assertEquals(2, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void allocateFailureIsEioAndNothingToDeallocate() {
        PseriesVas vas = booted();
        platform.port.script(Hcall.H_ALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_RESOURCE));

        assertEquals(Errno.EIO.negative(), rc(() -> vas.allocateWindow(0, 0, 1)));

        assertEquals(0, platform.port.count(Hcall.H_MODIFY_VAS_WINDOW));
        assertEquals(0, platform.port.count(Hcall.H_DEALLOCATE_VAS_WINDOW));
        assertEquals(0, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void modifyFailureIsEioAndDeallocates() {
        PseriesVas vas = booted();
        platform.port.script(Hcall.H_MODIFY_VAS_WINDOW, HcallResult.of(HStatus.H_STATE));

        assertEquals(Errno.EIO.negative(), rc(() -> vas.allocateWindow(0, 0, 1)));

        List<Call> dealloc = platform.port.calls(Hcall.H_DEALLOCATE_VAS_WINDOW);
        assertEquals(1, dealloc.size());
        assertEquals(platform.port.calls(Hcall.H_MODIFY_VAS_WINDOW).get(0).arg(0), dealloc.get(0).arg(0));
        assertEquals(0, platform.windowsOpen());
        assertEquals(0, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsInProgress());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void vasIdMinusOneAsksForTheHomeNodeOfTheCallingVcpu() throws Exception {
        PseriesVas vas = booted();
        vas.allocateWindow(-1, 0, 1);
        Call home = platform.port.calls(Hcall.H_HOME_NODE_ASSOCIATIVITY).get(0);
        assertArrayEquals(new long[] {PseriesVas.VPHN_FLAG_VCPU, home.vcpu()}, home.args(),
                "the home node of the vCPU the opening task runs on");
        Call alloc = platform.port.calls(Hcall.H_ALLOCATE_VAS_WINDOW).get(0);
        assertArrayEquals(new long[] {Vas.WIN_TYPE_DEFAULT, 1, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}, alloc.args());
    }

    @Test
    void homeNodeFailureReturnsTheRawPaprStatus() {
        PseriesVas vas = booted();
        platform.port.script(Hcall.H_HOME_NODE_ASSOCIATIVITY, HcallResult.of(HStatus.H_P2));

        VasException e = assertThrows(VasException.class, () -> vas.allocateWindow(-1, 0, 1));

        assertTrue(e.isPaprStatus());
        assertEquals((int) HStatus.H_P2, e.rc());
        assertEquals("H_P2", e.errorName());
        assertEquals(0, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertEquals(0, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
    }

    @Test
    void invalidPasteAddressQuirkOnlyBitesOnReopen() throws Exception {
        PseriesVas vas = booted();
        platform.pasteAddressOverride = Vas.INVALID_WIN_ADDRESS;

        // The check looks at the window's previous address (0), so a fresh window with the invalid address opens.
        VasWindow w = vas.allocateWindow(0, 0, 1);
        assertEquals(Vas.INVALID_WIN_ADDRESS, w.pasteAddress());

        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        int before = platform.windowsOpen();
        assertEquals(Errno.ENOTSUPP.negative(), vas.migrationHandler(PseriesVas.MigrationAction.RESUME));

        assertEquals(Vas.VAS_WIN_MIGRATE_CLOSE, w.status(), "the reopen failed; the window stays closed");
        assertEquals(before + 1, platform.windowsOpen(), "the hypervisor's new window is left allocated, as in the kernel");
    }

    // ---------------------------------------------------------------------------------------------------- close

    @Test
    void closingAnActiveWindowDeallocatesIt() throws Exception {
        PseriesVas vas = booted();
        VasWindow w = vas.allocateWindow(0, 0, 1);
        long id = w.winId();

        assertEquals(0, vas.deallocateWindow(w));

        assertEquals(List.of(id), platform.port.calls(Hcall.H_DEALLOCATE_VAS_WINDOW).stream().map(c -> c.arg(0)).toList());
        PseriesVas.CapsSnapshot s = vas.snapshot(Vas.WIN_TYPE_DEFAULT);
        assertEquals(0, s.creditsUsed());
        assertEquals(0, s.windowsOpen());
        assertEquals(0, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void closingAClosedWindowMakesNoHcall() throws Exception {
        platform.defaultTarget = 1;
        PseriesVas vas = booted();
        VasWindow w = vas.allocateWindow(0, 0, 1);
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 0));
        assertEquals(Vas.VAS_WIN_NO_CRED_CLOSE, w.status());
        platform.port.clearCalls();

        assertEquals(0, vas.deallocateWindow(w));

        assertEquals(List.of(), platform.port.calls());
        PseriesVas.CapsSnapshot s = vas.snapshot(Vas.WIN_TYPE_DEFAULT);
        assertEquals(0, s.windowsClosed());
        assertEquals(0, s.windowsOpen());
        assertEquals(0, s.creditsUsed());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void failedDeallocateKeepsTheWindowListed() throws Exception {
        PseriesVas vas = booted();
        VasWindow w = vas.allocateWindow(0, 0, 1);
        platform.port.script(Hcall.H_DEALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_STATE));

        assertEquals(Errno.EIO.negative(), vas.deallocateWindow(w));

        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsOpen());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
    }

    // ---------------------------------------------------------------------------------------------------- busy

    @Test
    void busyIsRetriedAtOnceAndLongBusySleepsTheHint() throws Exception {
        PseriesVas vas = booted();
        platform.port.script(Hcall.H_ALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_BUSY),
                HcallResult.of(HStatus.H_LONG_BUSY_ORDER_10_MSEC), HcallResult.of(HStatus.H_BUSY),
                HcallResult.of(HStatus.H_LONG_BUSY_ORDER_1_SEC), HcallResult.of(HStatus.H_LONG_BUSY_ORDER_100_SEC));
        platform.port.script(Hcall.H_MODIFY_VAS_WINDOW, HcallResult.of(HStatus.H_LONG_BUSY_ORDER_1_MSEC));
        platform.port.script(Hcall.H_DEALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_LONG_BUSY_ORDER_100_MSEC),
                HcallResult.of(HStatus.H_LONG_BUSY_ORDER_10_SEC));

        VasWindow w = vas.allocateWindow(0, 0, 1);
        assertEquals(0, vas.deallocateWindow(w));

        assertEquals(6, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertEquals(2, platform.port.count(Hcall.H_MODIFY_VAS_WINDOW));
        assertEquals(3, platform.port.count(Hcall.H_DEALLOCATE_VAS_WINDOW));
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofSeconds(1), Duration.ofSeconds(100), Duration.ofMillis(1),
                Duration.ofMillis(100), Duration.ofSeconds(10)), clock.sleeps());
    }

    @Test
    void thereIsNoRetryCap() throws Exception {
        PseriesVas vas = booted();
        HcallResult[] busy = new HcallResult[500];
        for (int i = 0; i < busy.length; i++) {
            busy[i] = HcallResult.of(i % 2 == 0 ? HStatus.H_BUSY : HStatus.H_LONG_BUSY_ORDER_1_MSEC);
        }
        platform.port.script(Hcall.H_ALLOCATE_VAS_WINDOW, busy);

        vas.allocateWindow(0, 0, 1);

        assertEquals(501, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertEquals(Collections.nCopies(250, Duration.ofMillis(1)), clock.sleeps());
    }

    @Test
    void busyCheckMapsLongBusyToBusyAndLeavesOtherCodes() {
        PseriesVas vas = booted();
        assertEquals(HStatus.H_BUSY, vas.hcallReturnBusyCheck(HStatus.H_LONG_BUSY_ORDER_1_MSEC));
        assertEquals(HStatus.H_BUSY, vas.hcallReturnBusyCheck(HStatus.H_BUSY));
        assertEquals(HStatus.H_PARAMETER, vas.hcallReturnBusyCheck(HStatus.H_PARAMETER));
        assertEquals(HStatus.H_SUCCESS, vas.hcallReturnBusyCheck(HStatus.H_SUCCESS));
        assertEquals(List.of(Duration.ofMillis(1)), clock.sleeps());
    }

    @Test
    void countersStayConsistentUnderConcurrentOpensAndCloses() throws Exception {
        platform.defaultTarget = 3;
        PseriesVas vas = booted();
        int threads = 4;
        int rounds = 50;
        List<Thread> ts = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    try {
                        VasWindow w = vas.allocateWindow(0, 0, 7);
                        assertEquals(0, vas.deallocateWindow(w));
                    } catch (VasException e) {
                        if (e.rc() != Errno.EINVAL.negative()) {
                            failures.add(e);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }, "opener-" + t);
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        assertEquals(List.of(), failures);
        assertEquals(0, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
        assertEquals(0, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());
    }
}
