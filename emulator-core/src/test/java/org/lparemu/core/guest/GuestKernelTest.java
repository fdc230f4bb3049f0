package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.ScriptedHcallPort;
import org.lparemu.core.port.ScriptedHcallPort.Ack;

/** Boot, event dispatch to the workers, acks, reports and close. */
class GuestKernelTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final FakePlatform platform = new FakePlatform();
    private final VirtualGuestClock clock = new VirtualGuestClock();
    private GuestKernel kernel;

    private GuestKernel boot(VasPolicy v, PrrnPolicy p) {
        kernel = GuestKernel.boot(platform.port, new GuestConfig(v, p, clock, "test-guest"));
        return kernel;
    }

    @AfterEach
    void close() {
        if (kernel != null) {
            kernel.close();
        }
    }

    private Ack ack(long id) throws InterruptedException {
        Ack a = platform.port.awaitAck(id, WAIT);
        assertNotNull(a, "no ack for event " + id);
        return a;
    }

    @Test
    void bootCopiesTheDeviceTreeAndInitialisesVas() {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE);
        assertTrue(kernel.vas().copypasteFeat());
        assertTrue(kernel.nxGzip().available());
        assertEquals(List.of(), kernel.deviceTree().snapshot().diff(platform.port.bootInfo().deviceTree()));
        platform.port.bootInfo().deviceTree().setProperty("/cpus", "changed", new byte[] {1});
        assertNull(kernel.deviceTree().property("/cpus", "changed"), "the guest works on its own copy");
        assertEquals(List.of(), kernel.checkInvariants());
    }

    @Test
    void everyEventIsHandledAndAcknowledged() throws Exception {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE);
        long h = kernel.nxGzip().open(false, 0).handle();
        assertTrue(kernel.nxGzip().paste(h, 128));
        platform.connectors.put(0x10000008, FakePlatform.cpuNode(1, 0x10000008, 0x11));

        platform.port.deliver(new PlatformEvent.MigrationRequest(10, FakePlatform.STREAM));
        Ack mig = ack(10);
        assertEquals(0, mig.status(), mig.detail());
        assertTrue(mig.detail().contains("complete"), mig.detail());

        platform.port.deliver(new PlatformEvent.PrrnEvent(11, 2));
        assertEquals(0, ack(11).status());

        platform.port.deliver(new PlatformEvent.DlparCpu(12, true, 0x10000008));
        assertEquals(0, ack(12).status());
        assertNotNull(kernel.deviceTree().properties("/cpus/PowerPC,POWER10@8"));

        platform.port.deliver(new PlatformEvent.QosCredits(13, 2));
        assertEquals(0, ack(13).status());
        assertEquals(2, kernel.vas().snapshot(Vas.WIN_TYPE_QOS).creditsTotal());

        platform.port.deliver(new PlatformEvent.DlparCpu(15, false, 0x7777));
        Ack bad = ack(15);
        assertEquals(Errno.ENODEV.negative(), bad.status());
        assertTrue(bad.detail().contains("ENODEV"), bad.detail());

        platform.port.deliver(new PlatformEvent.ReportRequest(14));
        assertEquals(0, ack(14).status());
        List<GuestReport> reports = platform.port.reports();
        assertEquals(1, reports.size(), "the report is sent before the ack");
        GuestReport r = reports.get(0);
        assertEquals(14, r.inReplyToEvent());
        assertEquals(1, r.migrationsOk());
        assertEquals(0, r.migrationsFailed());
        assertEquals("UPSTREAM", r.vasPolicy());
        assertEquals("IGNORE", r.prrnPolicy());
        assertEquals(1, r.pastesOk());
        assertEquals(2, r.credits().size());
        GuestReport.Credits def = r.credits().get(Vas.WIN_TYPE_DEFAULT);
        assertEquals(Vas.WIN_TYPE_DEFAULT, def.winType());
        assertEquals(1, def.creditsUsed());
        assertEquals(1, def.windowsOpen());
        assertEquals(0, def.windowsClosed());
        assertEquals(1, r.windows().size());
        GuestReport.Window w = r.windows().get(0);
        assertTrue(w.active());
        assertEquals(kernel.nxGzip().window(h).winId(), w.winId());
        assertEquals(Thread.currentThread().getName(), w.task());
        assertEquals(Long.valueOf(1), r.errorsByErrno().get("ENODEV"));
        assertNotNull(r.deviceTree().node("/cpus/PowerPC,POWER10@8"));
        assertEquals(List.of(), kernel.checkInvariants());
    }

    @Test
    void reportCarriesACopyOfTheTree() {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE);
        GuestReport r = kernel.report();
        r.deviceTree().setProperty("/cpus", "scribble", new byte[] {9});
        assertNull(kernel.deviceTree().property("/cpus", "scribble"));
        assertEquals(0, r.inReplyToEvent());
        assertTrue(kernel.report().seq() > r.seq());
    }

    @Test
    void eventsNeverRunOnThePortThreadAndWorkersAreIndependent() throws Exception {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.UNSERIALIZED);
        ScriptedHcallPort.Block vasi = platform.port.block(Hcall.H_VASI_STATE);

        // deliver() runs the listener on this thread: it must return although the migration is parked.
        platform.port.deliver(new PlatformEvent.MigrationRequest(1, FakePlatform.STREAM));
        assertTrue(vasi.awaitEntered(WAIT));
        assertEquals("drmgr", vasi.thread().getName());

        platform.port.deliver(new PlatformEvent.ReportRequest(2));
        assertEquals(0, ack(2).status(), "reports are answered while a migration is under way");
        platform.port.deliver(new PlatformEvent.PrrnEvent(3, 1));
        assertEquals(0, ack(3).status(), "PRRN runs on rtasd, not behind the migration (UNSERIALIZED)");
        assertNull(platform.port.awaitAck(1, Duration.ZERO));

        vasi.release();
        assertEquals(0, ack(1).status());
    }

    @Test
    void drainPolicyEndToEndDefersAPrrnThatArrivesDuringTheMigration() throws Exception {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.DRAIN_BEFORE_SUSPEND);
        ScriptedHcallPort.Block suspendMe = platform.port.blockRtas(RtasService.SUSPEND_ME);
        platform.port.deliver(new PlatformEvent.MigrationRequest(1, FakePlatform.STREAM));
        assertTrue(suspendMe.awaitEntered(WAIT));

        platform.port.deliver(new PlatformEvent.PrrnEvent(2, 5));
        assertEquals(1, kernel.prrn().deferredNow());

        suspendMe.release();
        assertEquals(0, ack(1).status());
        assertEquals(0, ack(2).status());
        List<Long> scopes = platform.port.rtasCalls(RtasService.UPDATE_NODES).stream()
                .map(c -> c.arg(1)).toList();
        assertEquals(List.of(1L, -5L), scopes, "the deferred PRRN is fetched after the migration's update");
    }

    @Test
    void closeStopsTakingEventsButLeavesThePortOpen() throws Exception {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE);
        kernel.close();
        platform.port.deliver(new PlatformEvent.ReportRequest(5));
        assertNull(platform.port.awaitAck(5, Duration.ofMillis(50)));
        assertTrue(platform.port.isOpen());
        kernel.close(); // idempotent
    }

    @Test
    void workerFailuresAreAckedAsEio() throws Exception {
        boot(VasPolicy.UPSTREAM, PrrnPolicy.IGNORE);
        platform.port.on(Hcall.H_VASI_STATE, c -> {
            throw new IllegalStateException("platform bug");
        });
        platform.port.deliver(new PlatformEvent.MigrationRequest(3, FakePlatform.STREAM));
        Ack a = ack(3);
        assertEquals(Errno.EIO.negative(), a.status());
        assertTrue(a.detail().contains("platform bug"), a.detail());
        assertEquals(1, kernel.errors().get(Errno.EIO));
    }

    @Test
    void policiesAndDeviceTreeShowInTheReport() {
        boot(VasPolicy.PRE_FIX, PrrnPolicy.DT_MUTEX);
        GuestReport r = kernel.report();
        assertEquals("PRE_FIX", r.vasPolicy());
        assertEquals("DT_MUTEX", r.prrnPolicy());
        assertArrayEquals(DeviceTree.cells(0, 1),
                r.deviceTree().node("/cpus/PowerPC,POWER10@0").property("ibm,ppc-interrupt-server#s"));
        assertArrayEquals(DeviceTree.cells(2, 3),
                r.deviceTree().node("/cpus/PowerPC,POWER10@2").property("ibm,ppc-interrupt-server#s"));
        assertTrue(kernel.toString().contains("PRE_FIX"));
    }
}
