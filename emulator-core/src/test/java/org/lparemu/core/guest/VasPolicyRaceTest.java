package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.ScriptedHcallPort;

/**
 * The 2023 race, run against each algorithm: an open is parked inside H_MODIFY_VAS_WINDOW (the stretch where
 * PRE_FIX and UPSTREAM do not hold the mutex) while a migration SUSPEND runs on another thread. Nothing in the
 * code knows about this scenario; the three outcomes come from the three algorithms.
 */
class VasPolicyRaceTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakePlatform platform = new FakePlatform();
    private final VirtualGuestClock clock = new VirtualGuestClock();

    /** The open on its own thread; its outcome is the window or the exception. */
    private static final class Opener extends Thread {
        final AtomicReference<VasWindow> window = new AtomicReference<>();
        final AtomicReference<VasException> error = new AtomicReference<>();
        private final PseriesVas vas;

        Opener(PseriesVas vas) {
            super("task-0");
            this.vas = vas;
        }

        @Override
        public void run() {
            try {
                window.set(vas.allocateWindow(0, 0, 77));
            } catch (VasException e) {
                error.set(e);
            }
        }
    }

    private PseriesVas booted(VasPolicy policy) {
        PseriesVas vas = new PseriesVas(KernelCalls.threaded(platform.port, clock), policy, new ErrorCounters());
        assertEquals(0, vas.pseriesVasInit());
        platform.port.clearCalls();
        return vas;
    }

    private static Thread suspend(PseriesVas vas) {
        Thread t = new Thread(() -> vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND), "drmgr");
        t.start();
        return t;
    }

    private static void await(Thread t) throws InterruptedException {
        t.join(WAIT.toMillis());
        assertFalse(t.isAlive(), t.getName() + " did not finish");
    }

    @Test
    void preFixSuspendMissesTheHalfOpenWindowWhichIsThenListedActive() throws Exception {
        PseriesVas vas = booted(VasPolicy.PRE_FIX);
        ScriptedHcallPort.Block modify = platform.port.block(Hcall.H_MODIFY_VAS_WINDOW);
        Opener opener = new Opener(vas);
        opener.start();
        assertTrue(modify.awaitEntered(WAIT));

        Thread drmgr = suspend(vas);
        await(drmgr);

        // SUSPEND returned while the window is still allocated in the hypervisor and nobody deallocated it.
        assertEquals(1, platform.windowsOpen());
        assertEquals(0, platform.port.count(Hcall.H_DEALLOCATE_VAS_WINDOW));
        assertTrue(opener.isAlive());
        List<String> during = vas.checkInvariants();
        assertTrue(during.stream().anyMatch(v -> v.contains("unfinished open")), during.toString());

        modify.release();
        await(opener);

        // Section B only looks at nr_close_wins: the window is listed, active, during the migration.
        assertNull(opener.error.get());
        VasWindow w = opener.window.get();
        assertNotNull(w);
        assertEquals(Vas.VAS_WIN_ACTIVE, w.status());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsOpen());
        assertEquals(0, platform.port.count(Hcall.H_DEALLOCATE_VAS_WINDOW));
        assertEquals(1, platform.windowsOpen(), "a window is open in the hypervisor when the partition suspends");
        List<String> after = vas.checkInvariants();
        assertTrue(after.stream().anyMatch(v -> v.contains("not closed for migration")), after.toString());
        assertEquals(List.of(), clock.sleepsOf("drmgr"), "PRE_FIX SUSPEND waits for nothing");
    }

    @Test
    void upstreamSuspendWaitsForTheOpenWhichBacksOutWithEbusy() throws Exception {
        PseriesVas vas = booted(VasPolicy.UPSTREAM);
        ScriptedHcallPort.Block modify = platform.port.block(Hcall.H_MODIFY_VAS_WINDOW);
        Opener opener = new Opener(vas);
        opener.start();
        assertTrue(modify.awaitEntered(WAIT));
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsInProgress());

        Thread drmgr = suspend(vas);
        // SUSPEND is polling nr_open_wins_progress with the mutex dropped.
        assertTrue(clock.awaitSleep("drmgr", PseriesVas.SUSPEND_PROGRESS_POLL, WAIT));
        assertTrue(drmgr.isAlive(), "SUSPEND must not return while an open is half-way");
        assertTrue(vas.migrationInProgressAcquire());

        modify.release();
        await(opener);
        await(drmgr);

        assertNull(opener.window.get());
        assertEquals(Errno.EBUSY.negative(), opener.error.get().rc());
        long winId = platform.port.calls(Hcall.H_MODIFY_VAS_WINDOW).get(0).arg(0);
        assertEquals(List.of(winId), platform.port.calls(Hcall.H_DEALLOCATE_VAS_WINDOW).stream().map(c -> c.arg(0)).toList());
        assertEquals(0, platform.windowsOpen(), "nothing open in the hypervisor once SUSPEND has returned");
        PseriesVas.CapsSnapshot s = vas.snapshot(Vas.WIN_TYPE_DEFAULT);
        assertEquals(0, s.windowsOpen());
        assertEquals(0, s.windowsInProgress());
        assertEquals(0, s.creditsUsed());
        assertEquals(List.of(), vas.checkInvariants());
        assertTrue(clock.sleepsOf("drmgr").stream().allMatch(PseriesVas.SUSPEND_PROGRESS_POLL::equals));
    }

    @Test
    void holdMutexSuspendWaitsForTheMutexThenClosesTheNewWindow() throws Exception {
        PseriesVas vas = booted(VasPolicy.HOLD_MUTEX);
        ScriptedHcallPort.Block modify = platform.port.block(Hcall.H_MODIFY_VAS_WINDOW);
        Opener opener = new Opener(vas);
        opener.start();
        assertTrue(modify.awaitEntered(WAIT));

        Thread drmgr = suspend(vas);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (vas.vasMutexWaiters() == 0) {
            assertTrue(System.nanoTime() < deadline, "SUSPEND never queued for the VAS mutex");
            Thread.onSpinWait();
        }
        assertFalse(vas.migrationInProgressAcquire(), "the PRE_FIX-shaped handler sets the flag under the mutex");
        assertEquals(0, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));

        modify.release();
        await(opener);
        await(drmgr);

        VasWindow w = opener.window.get();
        assertNotNull(w, "the open completes: the mutex was held throughout");
        assertEquals(Vas.VAS_WIN_MIGRATE_CLOSE, w.status(), "and SUSPEND then closed it like any listed window");
        long winId = platform.port.calls(Hcall.H_MODIFY_VAS_WINDOW).get(0).arg(0);
        assertEquals(List.of(winId), platform.port.calls(Hcall.H_DEALLOCATE_VAS_WINDOW).stream().map(c -> c.arg(0)).toList());
        assertEquals(0, platform.windowsOpen());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_DEFAULT).windowsClosed());
        assertEquals(List.of(), vas.checkInvariants());
        assertEquals(List.of(), clock.sleepsOf("drmgr"));

        assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.RESUME));
        assertEquals(Vas.VAS_WIN_ACTIVE, w.status());
    }

    @Test
    void upstreamOpenThatRacedPastSectionBBeforeSuspendIsSimplyClosed() throws Exception {
        // The other ordering: the open finishes before SUSPEND starts; nothing special happens under any policy.
        for (VasPolicy p : VasPolicy.values()) {
            FakePlatform fp = new FakePlatform();
            PseriesVas vas = new PseriesVas(KernelCalls.threaded(fp.port, clock), p, new ErrorCounters());
            assertEquals(0, vas.pseriesVasInit());
            VasWindow w = vas.allocateWindow(0, 0, 1);
            assertEquals(0, vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND));
            assertEquals(Vas.VAS_WIN_MIGRATE_CLOSE, w.status(), p.name());
            assertEquals(0, fp.windowsOpen(), p.name());
            assertEquals(List.of(), vas.checkInvariants(), p.name());
        }
    }
}
