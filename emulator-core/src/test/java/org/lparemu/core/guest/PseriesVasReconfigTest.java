package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.ScriptedHcallPort.Call;

/** Credit reconfiguration (DLPAR, QoS) and the migration handler's close/reopen, including both status bits. */
class PseriesVasReconfigTest {
    private static final int NO_CRED = Vas.VAS_WIN_NO_CRED_CLOSE;
    private static final int MIGRATE = Vas.VAS_WIN_MIGRATE_CLOSE;
    private static final int BOTH = NO_CRED | MIGRATE;

    private final FakePlatform platform = new FakePlatform();
    private final VirtualGuestClock clock = new VirtualGuestClock();
    private final ErrorCounters errors = new ErrorCounters();
    private final PseriesVas vas = new PseriesVas(KernelCalls.threaded(platform.port, clock), VasPolicy.UPSTREAM, errors);
    private final NxGzipDevice device = new NxGzipDevice(vas, vas.calls(), errors);

    PseriesVasReconfigTest() {
        assertEquals(0, vas.pseriesVasInit());
    }

    /** Opens n Default windows, oldest first in the returned list. */
    private List<VasWindow> open(int n) throws VasException {
        List<VasWindow> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(vas.allocateWindow(0, 0, 100 + i));
        }
        return out;
    }

    private List<Integer> statuses(List<VasWindow> ws) {
        return ws.stream().map(VasWindow::status).toList();
    }

    private PseriesVas.CapsSnapshot def() {
        return vas.snapshot(Vas.WIN_TYPE_DEFAULT);
    }

    @Test
    void creditLossClosesTheNewestWindowsFirst() throws Exception {
        List<VasWindow> w = open(4);
        List<Long> ids = w.stream().map(VasWindow::winId).toList();
        platform.port.clearCalls();

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2));

        assertEquals(List.of(0, 0, NO_CRED, NO_CRED), statuses(w));
        assertEquals(List.of(ids.get(3), ids.get(2)),
                platform.port.calls(Hcall.H_DEALLOCATE_VAS_WINDOW).stream().map(c -> c.arg(0)).toList(), "LIFO");
        PseriesVas.CapsSnapshot s = def();
        assertEquals(2, s.creditsTotal());
        assertEquals(4, s.creditsUsed(), "closed windows keep their credit: used > total tells user space it lost credits");
        assertEquals(2, s.windowsClosed());
        assertEquals(2, s.windowsActive());
        assertEquals(2, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void creditGainReopensTheOldestClosedWindowsFirst() throws Exception {
        List<VasWindow> w = open(4);
        long oldId1 = w.get(1).winId();
        long oldPaste1 = w.get(1).pasteAddress();
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1)); // w3, w2, w1 closed
        assertEquals(List.of(0, NO_CRED, NO_CRED, NO_CRED), statuses(w));
        platform.port.clearCalls();

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2)); // one more credit

        assertEquals(List.of(0, 0, NO_CRED, NO_CRED), statuses(w), "the oldest closed window (w1) reopens, not the newest");
        assertNotEquals(oldId1, w.get(1).winId());
        assertNotEquals(oldPaste1, w.get(1).pasteAddress());
        List<Call> calls = platform.port.calls();
        assertEquals(Hcall.H_ALLOCATE_VAS_WINDOW, calls.get(0).opcode());
        assertEquals(Vas.DEFAULT_DOMAIN_ID, calls.get(0).arg(2), "reopen uses the default domain");
        assertEquals(101, platform.port.calls(Hcall.H_MODIFY_VAS_WINDOW).get(0).arg(1), "reopen keeps the opener's pid");
        assertEquals(2, def().windowsClosed());
        assertEquals(List.of(), vas.checkInvariants());

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 10));
        assertEquals(List.of(0, 0, 0, 0), statuses(w));
        assertEquals(0, def().windowsClosed());
        assertEquals(4, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void reconfigToTheSameOrHigherCountWithNothingClosedDoesNothing() throws Exception {
        open(2);
        platform.port.clearCalls();
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2));
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 9));
        assertEquals(List.of(), platform.port.calls());
        assertEquals(Errno.EINVAL.negative(), vas.reconfigCapabilities(7, 1));
    }

    @Test
    void failedDlparCloseReturnsTheErrorAndLeavesTheKernelsInconsistency() throws Exception {
        List<VasWindow> w = open(2);
        platform.port.script(Hcall.H_DEALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_STATE));

        assertEquals(Errno.EIO.negative(), vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1));

        // As in the kernel: the status bit is set before the hcall and nr_close_wins is not incremented.
        assertEquals(NO_CRED, w.get(1).status());
        assertEquals(0, def().windowsClosed());
        List<String> v = vas.checkInvariants();
        assertEquals(1, v.size(), v.toString());
        assertTrue(v.get(0).contains("carry a close bit"), v.get(0));
    }

    @Test
    void migrationClosesEveryWindowAndResumeReopensWithNewAddresses() throws Exception {
        List<VasWindow> w = open(3);
        List<Long> oldPaste = w.stream().map(VasWindow::pasteAddress).toList();

        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        assertEquals(List.of(MIGRATE, MIGRATE, MIGRATE), statuses(w));
        assertEquals(0, platform.windowsOpen());
        assertEquals(3, def().windowsClosed());
        assertEquals(List.of(), vas.checkInvariants());

        platform.movePasteBase();
        platform.defaultTarget = 5;
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));

        assertEquals(List.of(0, 0, 0), statuses(w));
        for (int i = 0; i < 3; i++) {
            assertNotEquals(oldPaste.get(i), w.get(i).pasteAddress());
            assertEquals(platform.windows.get(w.get(i).winId()).pasteAddress(), w.get(i).pasteAddress());
        }
        assertEquals(5, def().creditsTotal(), "RESUME takes the destination's target");
        assertFalse(vas.migrationInProgressAcquire());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void pastesGoToTheNewAddressAfterResume() throws Exception {
        long h = device.open(false, 0).handle();
        assertTrue(device.paste(h, 100));
        vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
        platform.port.clearCalls();

        assertFalse(device.paste(h, 100), "closed window: failed paste");
        assertEquals(0, platform.port.count(Hcall.H_LPAREMU_NX_PASTE), "emulated by the fault handler, no hcall");

        platform.movePasteBase();
        vas.migrationHandler(PseriesVas.MigrationAction.RESUME);
        assertTrue(device.paste(h, 100));
        assertEquals(device.window(h).pasteAddress(), platform.port.calls(Hcall.H_LPAREMU_NX_PASTE).get(0).arg(0));
        assertEquals(2, device.pastesOk());
        assertEquals(1, device.pastesFailed());
    }

    @Test
    void dlparLossDuringMigrationSetsBothBitsAndResumeClearsOnlyMigrate() throws Exception {
        List<VasWindow> w = open(4);
        // UPSTREAM sets migration_in_progress, then queries capabilities outside the mutex: park the SUSPEND there
        // and let a core removal run in between, as drmgr-driven DLPAR can during a migration.
        var query = platform.port.block(Hcall.H_QUERY_VAS_CAPABILITIES);
        Thread suspend = new Thread(() -> vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND), "drmgr");
        suspend.start();
        assertTrue(query.awaitEntered(Duration.ofSeconds(10)));
        assertTrue(vas.migrationInProgressAcquire());

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2));
        assertEquals(List.of(0, 0, NO_CRED, NO_CRED), statuses(w));

        query.release();
        suspend.join();
        assertEquals(List.of(MIGRATE, MIGRATE, BOTH, BOTH), statuses(w));
        assertEquals(4, def().windowsClosed());
        assertEquals(0, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());

        platform.defaultTarget = 2;
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(List.of(0, 0, NO_CRED, NO_CRED), statuses(w), "RESUME clears only MIGRATE_CLOSE on both-bit windows");
        assertEquals(2, platform.windowsOpen());
        assertEquals(2, def().windowsClosed());
        assertEquals(List.of(), vas.checkInvariants());

        // A later core add gives the credits back (the hypervisor's target too) and reopens them.
        platform.defaultTarget = 4;
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 4));
        assertEquals(List.of(0, 0, 0, 0), statuses(w));
        assertEquals(4, platform.windowsOpen());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void dlparLossAfterSuspendClosedEverythingIsNotRememberedByResume() throws Exception {
        List<VasWindow> w = open(4);
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        platform.port.clearCalls();

        // Every window is closed already, so no window is active beyond the new total: nothing to do.
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2));
        assertEquals(List.of(MIGRATE, MIGRATE, MIGRATE, MIGRATE), statuses(w));
        assertEquals(List.of(), platform.port.calls());

        // The kernel's migration reopen ignores the count: all four come back although only two credits remain.
        // A hypervisor that counts held credits would refuse two of them (H_CONSTRAINED); this one is configured
        // not to, so that the kernel's own count is what shows.
        platform.defaultTarget = 2;
        platform.windowsHoldCredits = false;
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(List.of(0, 0, 0, 0), statuses(w));
        assertEquals(2, def().creditsTotal());
        assertEquals(4, def().windowsActive());
    }

    @Test
    void windowsClosedForCreditsBeforeMigrationGetBothBitsAndStayClosedAfterResume() throws Exception {
        List<VasWindow> w = open(3);
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 2)); // w2 NO_CRED
        platform.port.clearCalls();

        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        assertEquals(List.of(MIGRATE, MIGRATE, BOTH), statuses(w));
        assertEquals(2, platform.port.count(Hcall.H_DEALLOCATE_VAS_WINDOW), "only the active ones are deallocated");
        assertEquals(3, def().windowsClosed());

        platform.defaultTarget = 2;
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(List.of(0, 0, NO_CRED), statuses(w));
        assertEquals(1, def().windowsClosed());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void dlparGainDuringMigrationOnlyDropsTheCreditReason() throws Exception {
        List<VasWindow> w = open(2);
        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1)); // w1 NO_CRED
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        assertEquals(List.of(MIGRATE, BOTH), statuses(w));
        platform.port.clearCalls();

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 8));

        assertEquals(List.of(MIGRATE, MIGRATE), statuses(w), "still closed for migration; RESUME will reopen both");
        assertEquals(List.of(), platform.port.calls());
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(List.of(0, 0), statuses(w));
    }

    @Test
    void closeDuringMigrationMakesNoHcallAndCountersDrop() throws Exception {
        long h1 = device.open(false, 0).handle();
        long h2 = device.open(false, 0).handle();
        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
        platform.port.clearCalls();

        assertEquals(0, device.close(h1));

        assertEquals(List.of(), platform.port.calls());
        PseriesVas.CapsSnapshot s = def();
        assertEquals(1, s.windowsOpen());
        assertEquals(1, s.windowsClosed());
        assertEquals(1, s.creditsUsed());
        assertEquals(List.of(), vas.checkInvariants());

        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(1, platform.windowsOpen(), "only the window still held is reopened");
        assertEquals(0, device.window(h2).status());
    }

    @Test
    void resumeQueryFailureLeavesWindowsClosed() throws Exception {
        List<VasWindow> w = open(2);
        vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
        platform.port.clearCalls();
        platform.port.script(Hcall.H_QUERY_VAS_CAPABILITIES, HcallResult.of(HStatus.H_HARDWARE));

        assertEquals(Errno.EIO.negative(), vas.migrationHandler(PseriesVas.MigrationAction.RESUME));

        assertEquals(List.of(MIGRATE, MIGRATE), statuses(w));
        assertEquals(0, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertFalse(vas.migrationInProgressAcquire(), "the flag is cleared before the query");
    }

    @Test
    void suspendQueryFailureStillClosesWindows() throws Exception {
        List<VasWindow> w = open(1);
        platform.port.script(Hcall.H_QUERY_VAS_CAPABILITIES, HcallResult.of(HStatus.H_HARDWARE),
                HcallResult.of(HStatus.H_HARDWARE));

        vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);

        assertEquals(MIGRATE, w.get(0).status());
        assertEquals(0, platform.windowsOpen());
    }

    @Test
    void suspendIgnoresDeallocateFailuresAndClosesTheRest() throws Exception {
        List<VasWindow> w = open(3);
        platform.port.script(Hcall.H_DEALLOCATE_VAS_WINDOW, HcallResult.of(HStatus.H_STATE));

        vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);

        assertEquals(List.of(MIGRATE, MIGRATE, MIGRATE), statuses(w));
        assertEquals(3, def().windowsClosed(), "counted even when the hypervisor refused, as in the kernel");
        assertEquals(1, platform.windowsOpen(), "the refused one is still open in the hypervisor");
    }

    @Test
    void qosCreditChangesCloseAndReopenQosWindowsWithoutAskingTheHypervisor() throws Exception {
        List<VasWindow> q = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            q.add(vas.allocateWindow(0, PseriesVas.VAS_TX_WIN_FLAG_QOS_CREDIT, 1));
        }
        VasWindow d = vas.allocateWindow(0, 0, 1);
        platform.port.clearCalls();

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_QOS, 1));
        assertEquals(List.of(0, NO_CRED, NO_CRED), statuses(q));
        assertEquals(0, d.status(), "Default windows are untouched");
        assertEquals(0, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));

        assertEquals(0, vas.reconfigCapabilities(Vas.WIN_TYPE_QOS, 3));
        assertEquals(List.of(0, 0, 0), statuses(q));
        assertEquals(3, vas.snapshot(Vas.WIN_TYPE_QOS).creditsTotal());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void dlparCpuReadsTheDefaultTargetFromTheHypervisor() throws Exception {
        List<VasWindow> w = open(3);
        platform.defaultTarget = 1;
        platform.port.clearCalls();

        assertEquals(0, vas.pseriesVasDlparCpu());

        assertEquals(Vas.QUERY_GZIP_DEFAULT, platform.port.calls(Hcall.H_QUERY_VAS_CAPABILITIES).get(0).arg(0));
        assertEquals(List.of(0, NO_CRED, NO_CRED), statuses(w));
        assertEquals(1, def().creditsTotal());
    }
}
