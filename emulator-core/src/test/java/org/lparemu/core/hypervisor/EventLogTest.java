package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.RtasErrorLog;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/** PRRN delivered as an RTAS event log (type 0xA0, scope in the extended log length), fetched by event-scan. */
@Timeout(30)
class EventLogTest {
    private static final String VTY = "/vdevice/vty@30000000";
    private static final long LOG_PA = 0x20000;

    private Rig rig;
    private GuestKernel kernel;

    @AfterEach
    void close() {
        if (kernel != null) {
            kernel.close();
        }
        rig.close();
    }

    private static Rig eventLogRig() {
        return new Rig(PlatformConfig.HypervisorOptions.DEFAULT.withPrrnDelivery(PlatformConfig.PrrnDelivery.EVENT_LOG));
    }

    private static RtasResult eventScan(Rig.Guest g, int length, int workArea) {
        return g.rtas(0, RtasService.EVENT_SCAN, new byte[workArea], RtasService.EVENT_SCAN_ALL_EVENTS, 0, LOG_PA, length);
    }

    @Test
    void aPrrnBecomesAnEventLogThatEventScanReturnsOnce() {
        rig = eventLogRig();
        Rig.Guest g = rig.guest("lpar1");
        DeviceTree tree = g.port.bootInfo().deviceTree();
        assertNotNull(tree.node("/rtas").properties().get(RtasService.EVENT_SCAN), "the firmware offers event-scan");
        assertArrayEquals(DeviceTree.cells(PartitionTrees.EVENT_SCAN_RATE),
                tree.node("/rtas").properties().get("rtas-event-scan-rate"));
        assertEquals(RtasService.EVENT_SCAN_NONE, eventScan(g, 1024, 1024).status(), "nothing yet");

        OperatorResults.PrrnResult first = rig.platform.prrn("lpar1",
                List.of(DeviceTreeChange.setProperty(VTY, "compatible", DeviceTree.string("hvterm2"))));
        OperatorResults.PrrnResult second = rig.platform.prrn("lpar1",
                List.of(DeviceTreeChange.setProperty(VTY, "compatible", DeviceTree.string("hvterm3"))));
        assertEquals(0, first.eventId(), "no event is pushed: there is nothing to acknowledge");
        assertTrue(g.events.isEmpty());

        assertEquals(RtasStatus.PARAMETER_ERROR, eventScan(g, 4, 1024).status(), "too short for a log");
        assertEquals(RtasStatus.PARAMETER_ERROR, eventScan(g, 1024, 16).status(), "work area shorter than length");
        RtasResult r = eventScan(g, 1024, 1024);
        assertEquals(RtasStatus.SUCCESS, r.status());
        assertEquals(RtasErrorLog.prrn(first.scope()), RtasErrorLog.decode(r.workArea()));
        assertEquals(RtasErrorLog.TYPE_PRRN, r.workArea()[3] & 0xFF);
        assertEquals(second.scope(), RtasErrorLog.decode(eventScan(g, 1024, 1024).workArea()).extendedLogLength());
        assertEquals(RtasService.EVENT_SCAN_NONE, eventScan(g, 1024, 1024).status(), "each log once");
    }

    @Test
    void byDefaultPrrnsArePushedAndTheFirmwareOffersNoEventScan() {
        rig = new Rig();
        Rig.Guest g = rig.guest("lpar1");
        assertNull(g.port.bootInfo().deviceTree().node("/rtas").properties().get(RtasService.EVENT_SCAN));
        OperatorResults.PrrnResult p = rig.platform.prrn("lpar1",
                List.of(DeviceTreeChange.setProperty(VTY, "compatible", DeviceTree.string("hvterm2"))));
        assertEquals(new PlatformEvent.PrrnEvent(p.eventId(), p.scope()), g.nextEvent());
        assertEquals(RtasService.EVENT_SCAN_NONE, eventScan(g, 1024, 1024).status());
    }

    @Test
    void theGuestsEventScanFindsThePrrnLogAndAppliesTheChange() {
        rig = eventLogRig();
        kernel = GuestKernel.boot(new InProcessPort(rig.platform, "lpar1"), new GuestConfig(VasPolicy.UPSTREAM,
                PrrnPolicy.DRAIN_BEFORE_SUSPEND, new SystemGuestClock(0.001), "event-log"));
        assertNotNull(kernel.eventScan(), "the guest scans because the firmware asks it to");
        for (String value : List.of("hvterm2", "hvterm3")) {
            long since = rig.platform.trace().nextSeq();
            rig.platform.prrn("lpar1", List.of(DeviceTreeChange.setProperty(VTY, "compatible",
                    DeviceTree.string(value))));
            Rig.await(rig.platform.trace().await("lpar1", since,
                    t -> t.kind() == TraceKind.GUEST && t.name().equals("dt_update_end[prrn]")));
            assertArrayEquals(DeviceTree.string(value), kernel.deviceTree().property(VTY, "compatible"));
        }
        assertEquals(2, kernel.eventScan().prrnLogs(), "each log is handed over before its update runs");
        // rtasd counts a PRRN handled just after its update's end tracepoint; it handles PRRNs one at a time, so
        // the first was counted before the second's update began. The second's count may still be on its way.
        assertTrue(kernel.prrn().handled() >= 1, "handled " + kernel.prrn().handled());
    }
}
