package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.lparemu.core.papr.HStatus.H_CONSTRAINED;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.PlatformEvent;

@Timeout(20)
class DlparAndQosTest {
    private final Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void removingACoreRemovesTheHighestAndLowersTheDefaultTarget() {
        for (int i = 0; i < 25; i++) {
            g.openWindow(Vas.WIN_TYPE_DEFAULT);
        }
        OperatorResults.DlparCpuResult r = rig.platform.dlparCpu("lpar1", false, 1);
        assertEquals(1, r.cores());
        assertEquals(20, r.targetCredits());
        assertEquals(new PlatformEvent.DlparCpu(r.eventIds().get(0), false, PartitionTrees.CPU_DRC_BASE + 1), g.nextEvent());

        PartitionView s = rig.state("lpar1");
        assertEquals(1, s.spec().cores());
        assertNull(s.deviceTree().node(PartitionTrees.cpuPath(1, 2)));
        assertNotNull(s.deviceTree().node(PartitionTrees.cpuPath(0, 2)));
        assertEquals(20, g.caps(Vas.QUERY_GZIP_DEFAULT).targetLparCreds());
        PartitionView.CreditView credits = s.credits().get(Vas.WIN_TYPE_DEFAULT);
        assertEquals(20, credits.target());
        assertEquals(25, credits.used(), "the hypervisor does not revoke windows; the OS must close the excess");
        assertEquals(25, s.windows().size());
        assertEquals(H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1).status());

        ControlException none = assertThrows(ControlException.class, () -> rig.platform.dlparCpu("lpar1", false, 1));
        assertEquals(ControlError.BAD_REQUEST, none.code());
        assertEquals(1, rig.state("lpar1").spec().cores());
    }

    @Test
    void addedCoresCanBeFetchedThroughConfigureConnector() {
        long generation = rig.state("lpar1").deviceTreeGeneration();
        OperatorResults.DlparCpuResult r = rig.platform.dlparCpu("lpar1", true, 2);
        assertEquals(4, r.cores());
        assertEquals(80, r.targetCredits());
        assertEquals(2, r.eventIds().size());
        assertEquals(new PlatformEvent.DlparCpu(r.eventIds().get(0), true, PartitionTrees.CPU_DRC_BASE + 2), g.nextEvent());
        assertEquals(new PlatformEvent.DlparCpu(r.eventIds().get(1), true, PartitionTrees.CPU_DRC_BASE + 3), g.nextEvent());
        assertEquals(80, g.caps(Vas.QUERY_GZIP_DEFAULT).targetLparCreds());
        assertEquals(true, rig.state("lpar1").deviceTreeGeneration() > generation);

        ConfigureConnectorWorkArea.CcNode node = PrrnScenarioTest.configureConnector(g, PartitionTrees.CPU_DRC_BASE + 3);
        DeviceTree.Node platform = rig.state("lpar1").deviceTree().node(PartitionTrees.cpuPath(3, 2));
        assertEquals("PowerPC,POWER10@6", node.name(), "unit address = first thread's server, core 3 x 2 threads");
        assertArrayEquals(DeviceTree.cells(PartitionTrees.cpuPhandle(3)), node.property("ibm,phandle"));
        for (Map.Entry<String, byte[]> p : platform.properties().entrySet()) {
            assertArrayEquals(p.getValue(), node.property(p.getKey()), p.getKey());
        }
        assertEquals(platform.properties().size() + 1, node.properties().size());
        assertEquals(List.of(), node.children());
    }

    @Test
    void configureConnectorRejectsUnknownConnectorsAndForeignContinuations() {
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.CONFIGURE_CONNECTOR,
                ConfigureConnectorWorkArea.initial(PartitionTrees.CPU_DRC_BASE + 9), 0, 0).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.CONFIGURE_CONNECTOR, new byte[16], 0, 0).status());
        var first = g.rtas(0, RtasService.CONFIGURE_CONNECTOR, ConfigureConnectorWorkArea.initial(PartitionTrees.CPU_DRC_BASE), 0, 0);
        assertEquals(RtasStatus.CC_NEXT_CHILD, first.status());
        byte[] forged = first.workArea().clone();
        ConfigureConnectorWorkArea.setState(forged, ConfigureConnectorWorkArea.state(forged) + 1000);
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.CONFIGURE_CONNECTOR, forged, 0, 0).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, rig.guest("lpar2").rtas(0, RtasService.CONFIGURE_CONNECTOR,
                first.workArea(), 0, 0).status(), "another partition's continuation");
    }

    @Test
    void dlparLimits() {
        assertEquals(ControlError.BAD_REQUEST,
                assertThrows(ControlException.class, () -> rig.platform.dlparCpu("lpar1", true, 0)).code());
        assertEquals(ControlError.LIMIT_EXCEEDED, assertThrows(ControlException.class,
                () -> rig.platform.dlparCpu("lpar1", true, PartitionSpec.MAX_CORES)).code());
        assertEquals(2, rig.state("lpar1").spec().cores());
    }

    @Test
    void qosCreditsChangeTheQosTargetAndTellTheGuest() {
        long event = rig.platform.setQosCredits("lpar1", 5);
        assertEquals(new PlatformEvent.QosCredits(event, 5), g.nextEvent());
        assertEquals(5, g.caps(Vas.QUERY_GZIP_QOS).targetLparCreds());
        assertEquals(5, rig.state("lpar1").credits().get(Vas.WIN_TYPE_QOS).target());
        for (int i = 0; i < 5; i++) {
            g.allocate(Vas.WIN_TYPE_QOS);
        }
        assertEquals(H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1).status());
        assertEquals(ControlError.BAD_REQUEST,
                assertThrows(ControlException.class, () -> rig.platform.setQosCredits("lpar1", -1)).code());
        assertEquals(ControlError.BAD_REQUEST,
                assertThrows(ControlException.class, () -> rig.platform.setQosCredits("lpar1", 4096)).code());
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_QOS, Rig.BUF).status());
    }

    @Test
    void aLowerQosTotalReachesTheHypervisorOnlyAfterTheGuestAcknowledgesIt() {
        // lpar1 starts with 3 QoS credits.
        long lower = rig.platform.setQosCredits("lpar1", 1);
        assertEquals(new PlatformEvent.QosCredits(lower, 1), g.nextEvent());
        assertEquals(3, g.caps(Vas.QUERY_GZIP_QOS).targetLparCreds(), "the OS is told first");
        g.allocate(Vas.WIN_TYPE_QOS);
        g.allocate(Vas.WIN_TYPE_QOS); // still within the old target: not refused behind the guest's back
        g.port.ackEvent(lower, 0, "reconfigured");
        Rig.await(rig.platform.awaitEvent(lower, 5000));
        assertEquals(1, g.caps(Vas.QUERY_GZIP_QOS).targetLparCreds(), "then the hypervisor");

        long raise = rig.platform.setQosCredits("lpar1", 6);
        assertEquals(6, g.caps(Vas.QUERY_GZIP_QOS).targetLparCreds(), "a higher total is there at once");
        assertEquals(new PlatformEvent.QosCredits(raise, 6), g.nextEvent());

        long pending = rig.platform.setQosCredits("lpar1", 2);
        long later = rig.platform.setQosCredits("lpar1", 8);
        g.port.ackEvent(pending, 0, "late ack");
        Rig.await(rig.platform.awaitEvent(pending, 5000));
        assertEquals(8, g.caps(Vas.QUERY_GZIP_QOS).targetLparCreds(), "a late ack never undoes a later change");
        assertEquals(later, ((PlatformEvent.QosCredits) drain(pending)).eventId());
    }

    /** Skips events up to and including {@code id}; returns the next one. */
    private PlatformEvent drain(long id) {
        PlatformEvent e;
        do {
            e = g.nextEvent();
        } while (e.eventId() <= id);
        return e;
    }
}
