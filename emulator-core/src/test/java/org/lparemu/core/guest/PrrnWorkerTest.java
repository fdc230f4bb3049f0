package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.port.PlatformEvent.PrrnEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.port.ScriptedHcallPort;
import org.lparemu.core.port.ScriptedHcallPort.Ack;
import org.lparemu.core.port.ScriptedHcallPort.RtasCall;

/** The rtasd PRRN worker and its four policies against a migration's device-tree update. */
class PrrnWorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakePlatform platform = new FakePlatform();
    private final GuestDeviceTree tree = new GuestDeviceTree(FakePlatform.bootTree());
    private final DeviceTreeUpdate update = new DeviceTreeUpdate(KernelCalls.threaded(platform.port, new VirtualGuestClock()), tree);
    private final ErrorCounters errors = new ErrorCounters();
    private PrrnWorker worker;

    private PrrnWorker worker(PrrnPolicy p) {
        worker = new PrrnWorker(update.calls().machine(), p, update, platform.port::ackEvent, errors);
        return worker;
    }

    @AfterEach
    void close() {
        if (worker != null) {
            worker.close();
        }
    }

    private Ack ack(long id) throws InterruptedException {
        Ack a = platform.port.awaitAck(id, WAIT);
        assertNotNull(a, "no ack for event " + id);
        return a;
    }

    private static void awaitWaiting(Thread t) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (t.getState() != Thread.State.WAITING) {
            assertTrue(System.nanoTime() < deadline, t.getName() + " never waited");
            Thread.onSpinWait();
        }
    }

    @Test
    void ignoreLogsAndAcksWithoutTouchingFirmware() throws Exception {
        worker(PrrnPolicy.IGNORE).onPrrnEvent(new PrrnEvent(1, 3));

        Ack a = ack(1);
        assertEquals(0, a.status());
        assertEquals("Platform resource reassignment ignored.", a.detail());
        assertEquals(List.of(), platform.port.rtasCalls());
        assertEquals(1, worker.ignored());
        assertEquals(0, worker.handled());
    }

    @Test
    void prrnUpdatesTheTreeWithTheNegatedScopeOnTheRtasdThread() throws Exception {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        UpdateNodesWorkArea.encodeEntries(wa, List.of(UpdateNodesWorkArea.Entry.delete(FakePlatform.VDEVICE_PHANDLE)));
        platform.port.scriptRtas(RtasService.UPDATE_NODES, RtasResult.withWorkArea(0, wa));

        worker(PrrnPolicy.UNSERIALIZED).onPrrnEvent(new PrrnEvent(7, 3));

        assertEquals(0, ack(7).status());
        RtasCall call = platform.port.rtasCalls(RtasService.UPDATE_NODES).get(0);
        assertEquals(-3, call.arg(1));
        assertEquals("rtasd", call.thread());
        assertNull(tree.properties("/vdevice"));
        assertEquals(1, worker.handled());
    }

    @Test
    void failedUpdateIsAckedWithEio() throws Exception {
        platform.port.scriptRtas(RtasService.UPDATE_NODES, RtasResult.of(RtasStatus.PARAMETER_ERROR));

        worker(PrrnPolicy.UNSERIALIZED).onPrrnEvent(new PrrnEvent(2, 1));

        Ack a = ack(2);
        assertEquals(Errno.EIO.negative(), a.status());
        assertTrue(a.detail().contains("PARAMETER_ERROR"), a.detail());
        assertEquals(1, worker.failed());
        assertEquals(1, errors.get(Errno.EIO));
    }

    @Test
    void unserializedLetsTheMigrationUpdateRunWhileAPrrnIsMidway() throws Exception {
        worker(PrrnPolicy.UNSERIALIZED);
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        UpdateNodesWorkArea.encodeEntries(wa, List.of(UpdateNodesWorkArea.Entry.delete(FakePlatform.VDEVICE_PHANDLE)));
        platform.port.scriptRtas(RtasService.UPDATE_NODES, RtasResult.withWorkArea(0, wa));
        // Hold the PRRN between its firmware calls, where rtas_lock is free: in the reconfig notifier that its
        // node removal fires. (Held inside ibm,update-nodes it would keep rtas_lock, and every RTAS caller waits.)
        CountDownLatch midway = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        tree.addReconfigNotifier((action, path, props) -> {
            if ("rtasd".equals(Thread.currentThread().getName())) {
                midway.countDown();
                awaitUninterruptibly(resume);
            }
        });
        worker.onPrrnEvent(new PrrnEvent(1, 2));
        assertTrue(midway.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));

        Thread drmgr = new Thread(() -> worker.migrationDevicetreeUpdate(RtasService.MIGRATION_SCOPE), "drmgr");
        drmgr.start();
        drmgr.join(WAIT.toMillis());

        assertFalse(drmgr.isAlive(), "the migration's update did not wait for the PRRN");
        assertNull(platform.port.awaitAck(1, Duration.ZERO), "the PRRN is still midway");
        resume.countDown();
        assertEquals(0, ack(1).status());
        List<Long> scopes = platform.port.rtasCalls(RtasService.UPDATE_NODES).stream().map(c -> c.arg(1)).toList();
        assertEquals(List.of(-2L, 1L), scopes, "the PRRN began first but the migration's update ran meanwhile");
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        try {
            assertTrue(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void dtMutexMakesTheMigrationUpdateWaitForTheWholePrrn() throws Exception {
        worker(PrrnPolicy.DT_MUTEX);
        ScriptedHcallPort.Block prrnFetch = platform.port.blockRtas(RtasService.UPDATE_NODES);
        worker.onPrrnEvent(new PrrnEvent(1, 2));
        assertTrue(prrnFetch.awaitEntered(WAIT));

        Thread drmgr = new Thread(() -> worker.migrationDevicetreeUpdate(RtasService.MIGRATION_SCOPE), "drmgr");
        drmgr.start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (worker.dtUpdateMutexWaiters() == 0) {
            assertTrue(System.nanoTime() < deadline, "the migration update never queued for the mutex");
            Thread.onSpinWait();
        }
        assertEquals(1, platform.port.rtasCalls(RtasService.UPDATE_NODES).size());

        prrnFetch.release();
        drmgr.join(WAIT.toMillis());
        assertFalse(drmgr.isAlive());
        assertEquals(0, ack(1).status());
        List<RtasCall> calls = platform.port.rtasCalls(RtasService.UPDATE_NODES);
        assertEquals(List.of("rtasd", "drmgr"), calls.stream().map(RtasCall::thread).toList());
    }

    @Test
    void drainWaitsForOutstandingPrrnsAndDefersNewOnesPastTheMigrationUpdate() throws Exception {
        worker(PrrnPolicy.DRAIN_BEFORE_SUSPEND);
        ScriptedHcallPort.Block prrnFetch = platform.port.blockRtas(RtasService.UPDATE_NODES);
        worker.onPrrnEvent(new PrrnEvent(1, 3));
        assertTrue(prrnFetch.awaitEntered(WAIT));
        assertEquals(1, worker.outstanding());

        CountDownLatch began = new CountDownLatch(1);
        CountDownLatch updateDone = new CountDownLatch(1);
        CountDownLatch end = new CountDownLatch(1);
        Thread drmgr = new Thread(() -> {
            worker.migrationBegin();
            began.countDown();
            worker.migrationDevicetreeUpdate(RtasService.MIGRATION_SCOPE);
            updateDone.countDown();
            try {
                end.await();
            } catch (InterruptedException e) {
                return;
            }
            worker.migrationEnd();
        }, "drmgr");
        drmgr.start();
        awaitWaiting(drmgr);
        assertEquals(1, began.getCount(), "the migration waits for the outstanding PRRN");

        // A PRRN that arrives during the migration is held back: no firmware call, no ack yet.
        worker.onPrrnEvent(new PrrnEvent(2, 4));
        assertEquals(1, worker.deferredNow());
        assertEquals(1, platform.port.rtasCalls(RtasService.UPDATE_NODES).size());

        prrnFetch.release();
        assertTrue(began.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertEquals(0, ack(1).status());
        assertTrue(updateDone.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        assertNull(platform.port.awaitAck(2, Duration.ZERO), "still deferred until migrationEnd");

        end.countDown();
        assertEquals(0, ack(2).status());
        drmgr.join(WAIT.toMillis());
        List<Long> scopes = platform.port.rtasCalls(RtasService.UPDATE_NODES).stream().map(c -> c.arg(1)).toList();
        assertEquals(List.of(-3L, 1L, -4L), scopes);
        assertEquals(1, worker.deferredTotal());
        assertEquals(0, worker.outstanding());
        assertEquals(2, worker.handled());
    }

    @Test
    void drainWithNothingOutstandingDoesNotWait() {
        worker(PrrnPolicy.DRAIN_BEFORE_SUSPEND);
        worker.migrationBegin();
        assertEquals(0, worker.migrationDevicetreeUpdate(1));
        worker.migrationEnd();
        assertEquals(1, platform.port.rtasCalls(RtasService.UPDATE_NODES).size());
        assertEquals(0, worker.deferredTotal());
    }
}
