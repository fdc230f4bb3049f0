package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/** The DLPAR connectors: get-sensor-state and set-indicator on the real Platform, and the guest's DLPAR path. */
@Timeout(30)
class DrcRtasTest {
    private static final int CORE0 = PartitionTrees.CPU_DRC_BASE;
    private static final int CORE2 = PartitionTrees.CPU_DRC_BASE + 2;

    private final Rig rig = new Rig();
    private GuestKernel kernel;

    @AfterEach
    void close() {
        if (kernel != null) {
            kernel.close();
        }
        rig.close();
    }

    private static RtasResult sense(Rig.Guest g, int drc) {
        return g.rtas(0, RtasService.GET_SENSOR_STATE, null, RtasService.DR_ENTITY_SENSE, drc);
    }

    private static int indicator(Rig.Guest g, int indicator, int drc, int value) {
        return g.rtas(0, RtasService.SET_INDICATOR, null, indicator, drc, value).status();
    }

    @Test
    void theSensorAndIndicatorsFollowTheConnectorThroughAddAndRemove() {
        Rig.Guest g = rig.guest("lpar1");
        assertEquals(new RtasResult(0, new long[] {RtasService.DR_ENTITY_PRESENT}, null), sense(g, CORE0),
                "a core the partition started with is the OS's");
        assertEquals(RtasStatus.PARAMETER_ERROR, sense(g, CORE2).status(), "no such connector yet");
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.GET_SENSOR_STATE, null, 9001, CORE0).status(),
                "no such sensor");
        assertEquals(RtasStatus.PARAMETER_ERROR, indicator(g, 9002, CORE0, 1), "no such indicator");
        assertEquals(RtasStatus.PARAMETER_ERROR, indicator(g, RtasService.ISOLATION_STATE, CORE0, 7), "bad value");

        rig.platform.dlparCpu("lpar1", true, 1);
        assertEquals(RtasService.DR_ENTITY_UNUSABLE, sense(g, CORE2).rets()[0], "assigned, not yet acquired");
        assertEquals(RtasStatus.HARDWARE_ERROR, indicator(g, RtasService.ISOLATION_STATE, CORE2, RtasService.UNISOLATE),
                "a connector not allocated to the OS cannot be unisolated");
        assertEquals(0, indicator(g, RtasService.ALLOCATION_STATE, CORE2, RtasService.ALLOC_USABLE));
        assertEquals(0, indicator(g, RtasService.ISOLATION_STATE, CORE2, RtasService.UNISOLATE));
        assertEquals(RtasService.DR_ENTITY_PRESENT, sense(g, CORE2).rets()[0]);

        rig.platform.dlparCpu("lpar1", false, 1);
        assertEquals(RtasService.DR_ENTITY_PRESENT, sense(g, CORE2).rets()[0], "still the OS's until it releases it");
        assertEquals(0, indicator(g, RtasService.ISOLATION_STATE, CORE2, RtasService.ISOLATE));
        assertEquals(0, indicator(g, RtasService.ALLOCATION_STATE, CORE2, RtasService.ALLOC_UNUSABLE));
        assertEquals(RtasStatus.PARAMETER_ERROR, sense(g, CORE2).status(), "back to the platform");
    }

    private long countCalls(String service) {
        return rig.platform.trace().read(0, 100_000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.CALL_END && r.name().equals(service)).count();
    }

    @Test
    void theGuestAcquiresTheConnectorBeforeFetchingTheNodeAndReleasesItAfterOffliningTheThreads() {
        kernel = GuestKernel.boot(new InProcessPort(rig.platform, "lpar1"), new GuestConfig(VasPolicy.UPSTREAM,
                PrrnPolicy.IGNORE, new SystemGuestClock(0.001), "dlpar"));
        Rig.Guest raw = new Rig.Guest(rig, new InProcessPort(rig.platform, "lpar1", "raw", false));

        long added = rig.platform.dlparCpu("lpar1", true, 1).eventIds().get(0);
        Partition.EventAck ack = Rig.await(rig.platform.awaitEvent(added, 10_000));
        assertEquals(0, ack.status(), ack.detail());
        assertNotNull(kernel.deviceTree().pathOfDrcIndex(CORE2));
        assertEquals(1, countCalls(RtasService.GET_SENSOR_STATE));
        assertEquals(2, countCalls(RtasService.SET_INDICATOR), "allocation, then isolation");
        assertEquals(RtasService.DR_ENTITY_PRESENT, sense(raw, CORE2).rets()[0], "the guest acquired it");

        long removed = rig.platform.dlparCpu("lpar1", false, 1).eventIds().get(0);
        ack = Rig.await(rig.platform.awaitEvent(removed, 10_000));
        assertEquals(0, ack.status(), ack.detail());
        assertNull(kernel.deviceTree().pathOfDrcIndex(CORE2));
        assertEquals(RtasStatus.PARAMETER_ERROR, sense(raw, CORE2).status(), "the guest released it");
        assertEquals(4, countCalls(RtasService.SET_INDICATOR));
        assertEquals(List.of(), kernel.checkInvariants());
    }
}
