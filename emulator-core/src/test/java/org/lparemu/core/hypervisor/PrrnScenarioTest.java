package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdateNodesWorkArea.Entry;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;

/** PRRN: the operator changes the tree, the guest fetches the change, and a migration gets in the way. */
@Timeout(30)
class PrrnScenarioTest {
    private static final String VTY = "/vdevice/vty@30000000";
    private static final String MEMORY = "/memory@0";
    private static final byte[] BIG = new byte[6000]; // does not fit one update-properties call

    static {
        for (int i = 0; i < BIG.length; i++) {
            BIG[i] = (byte) i;
        }
    }

    private Rig rig;
    private Rig.Guest g;

    private void start(int updateNodesBatch, int updatePropertiesBytes) {
        PlatformConfig.HypervisorOptions o = PlatformConfig.HypervisorOptions.DEFAULT;
        rig = new Rig(new PlatformConfig.HypervisorOptions(o.suspendWithWindows(), o.suspendRefusalStatus(),
                o.overCreditStatus(), 0, 0, 0, 60_000, updateNodesBatch, updatePropertiesBytes));
        g = rig.guest("lpar1");
    }

    @AfterEach
    void close() {
        rig.close();
    }

    private int phandle(String path) {
        return rig.state("lpar1").deviceTree().node(path).phandle();
    }

    @Test
    void updateNodesAndPropertiesReturnTheChange() {
        start(0, 0);
        byte[] assoc = DeviceTree.cells(4, 9, 9, 9, 9);
        OperatorResults.PrrnResult res = rig.platform.prrn("lpar1", List.of(
                DeviceTreeChange.setProperty(PartitionTrees.cpuPath(1, 2), "ibm,associativity", assoc),
                DeviceTreeChange.deleteProperty(VTY, "compatible"),
                DeviceTreeChange.setProperty(MEMORY, "reg", BIG),
                DeviceTreeChange.addNode("/vdevice/vnic@30000002", Map.of("compatible", DeviceTree.string("ibm,l-lan")))));
        assertEquals(1, res.scope());
        assertEquals(new PlatformEvent.PrrnEvent(res.eventId(), 1), g.nextEvent());
        assertEquals(res.deviceTreeGeneration(), rig.state("lpar1").deviceTreeGeneration());

        int vnic = phandle("/vdevice/vnic@30000002");
        int vnicDrc = Reconfiguration.GENERIC_DRC_BASE + vnic;
        assertEquals(List.of(Entry.update(PartitionTrees.cpuPhandle(1)), Entry.update(phandle(MEMORY)),
                Entry.update(phandle(VTY)), Entry.add(phandle("/vdevice"), vnicDrc)), g.updateNodes(-1));

        List<String> deleted = new ArrayList<>();
        assertArrayEquals(assoc, g.updateProperties(PartitionTrees.cpuPhandle(1), -1, deleted).get("ibm,associativity"));
        Map<String, byte[]> vty = g.updateProperties(phandle(VTY), -1, deleted);
        assertEquals(List.of("compatible"), deleted);
        assertTrue(!vty.containsKey("compatible"));
        assertArrayEquals(BIG, g.updateProperties(phandle(MEMORY), -1, new ArrayList<>()).get("reg"),
                "a value larger than the work area arrives in partial pieces");

        ConfigureConnectorWorkArea.CcNode node = configureConnector(g, vnicDrc);
        assertEquals("vnic@30000002", node.name());
        assertArrayEquals(DeviceTree.string("ibm,l-lan"), node.property("compatible"));
        assertArrayEquals(DeviceTree.cells(vnic), node.property("ibm,phandle"));
    }

    @Test
    void updatePropertiesRespectsTheByteCapAndNeverSplitsAValueMidCall() {
        start(0, 64);
        rig.platform.prrn("lpar1", List.of(DeviceTreeChange.setProperty(MEMORY, "reg", BIG)));
        g.updateNodes(-1);
        byte[] wa = UpdatePropertiesWorkArea.initial(phandle(MEMORY));
        int calls = 0;
        RtasResult r;
        do {
            r = g.rtas(0, RtasService.UPDATE_PROPERTIES, wa, 0, -1);
            wa = r.workArea();
            var ds = UpdatePropertiesWorkArea.decode(wa).descriptors();
            int bytes = 0;
            for (int i = 0; i < ds.size(); i++) {
                bytes += UpdatePropertiesWorkArea.descriptorBytes(ds.get(i));
                if (ds.get(i).isPartial()) {
                    assertEquals(ds.size() - 1, i, "a partial piece comes last");
                }
            }
            assertTrue(bytes <= 64, "call " + calls + " used " + bytes + " bytes");
            calls++;
        } while (r.status() == RtasStatus.CALL_AGAIN);
        assertEquals(RtasStatus.SUCCESS, r.status());
        assertTrue(calls > BIG.length / 64, "took " + calls + " calls");
    }

    @Test
    void aBadChangeIsRejectedAndChangesNothing() {
        start(0, 0);
        long generation = rig.state("lpar1").deviceTreeGeneration();
        for (List<DeviceTreeChange> bad : List.of(
                List.of(DeviceTreeChange.setProperty(VTY, "x", new byte[] {1}),
                        DeviceTreeChange.setProperty("/no/such/node", "x", new byte[] {1})),
                List.of(DeviceTreeChange.deleteProperty(VTY, "no-such-property")),
                List.of(DeviceTreeChange.deleteNode("/")),
                List.of(DeviceTreeChange.addNode("/vdevice/vty@30000000", Map.of())),
                List.<DeviceTreeChange>of())) {
            ControlException e = assertThrows(ControlException.class, () -> rig.platform.prrn("lpar1", bad));
            assertEquals(ControlError.BAD_REQUEST, e.code());
        }
        assertEquals(generation, rig.state("lpar1").deviceTreeGeneration());
        assertEquals(List.of(), rig.state("lpar1").pendingEvents());
        assertEquals(1, rig.platform.prrn("lpar1", List.of(DeviceTreeChange.deleteNode(VTY))).scope(),
                "rejected requests used no scope number");
        assertEquals(List.of(Entry.delete(9)), g.updateNodes(-1));
    }

    @Test
    void updateNodesRejectsBadWorkAreasScopesAndContinuations() {
        start(0, 0);
        rig.platform.prrn("lpar1", List.of(DeviceTreeChange.deleteProperty(VTY, "compatible")));
        byte[] wa = new byte[RtasService.WORK_AREA_SIZE];
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, new byte[100], 0, -1).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, 0).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, 2).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, -2).status(), "no scope 2");
        byte[] forged = wa.clone();
        UpdateNodesWorkArea.setStateWord(forged, 1, 77);
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, forged, 0, -1).status());
        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, -1).status());
        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, 0xFFFFFFFFL).status(),
                "a 32-bit cell holding -1 is scope -1");
        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.UPDATE_NODES, wa, 0, 1).status(),
                "scope 1 before any migration: nothing to do");
        assertEquals(List.of(), g.updateNodes(1));
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_PROPERTIES,
                UpdatePropertiesWorkArea.initial(PartitionTrees.cpuPhandle(0)), 0, -1).status(), "node not in the scope");
    }

    @Test
    void aContinuationBegunOnTheSourceIsRejectedButAFreshSequenceOnTheDestinationWorks() {
        start(1, 64);
        byte[] prrnAssoc = DeviceTree.cells(4, 7, 7, 7, 7);
        rig.platform.prrn("lpar1", List.of(
                DeviceTreeChange.setProperty(VTY, "compatible", DeviceTree.string("hvterm2")),
                DeviceTreeChange.setProperty(MEMORY, "reg", BIG),
                DeviceTreeChange.setProperty(PartitionTrees.cpuPath(0, 2), "ibm,associativity", prrnAssoc)));

        // On the source the guest gets one node of three, and starts on the memory node's properties.
        byte[] nodes = new byte[RtasService.WORK_AREA_SIZE];
        RtasResult first = g.rtas(0, RtasService.UPDATE_NODES, nodes, 0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, first.status());
        assertEquals(1, UpdateNodesWorkArea.decode(first.workArea()).size());
        RtasResult props = g.rtas(0, RtasService.UPDATE_PROPERTIES, UpdatePropertiesWorkArea.initial(phandle(MEMORY)), 0, -1);
        assertEquals(RtasStatus.CALL_AGAIN, props.status());

        migrate();

        // Continuations from the source mean nothing to the destination.
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_NODES, first.workArea(), 0, -1).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_PROPERTIES, props.workArea(), 0, -1).status());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.UPDATE_PROPERTIES,
                UpdatePropertiesWorkArea.initial(phandle(VTY)), 0, -1).status(), "no live sequence on this system yet");

        // A fresh fetch on the destination returns the same nodes with the destination's values.
        List<Entry> entries = g.updateNodes(-1);
        assertEquals(List.of(Entry.update(PartitionTrees.cpuPhandle(0)), Entry.update(phandle(MEMORY)),
                Entry.update(phandle(VTY))), entries);
        assertArrayEquals(DeviceTree.string("hvterm2"), g.updateProperties(phandle(VTY), -1, new ArrayList<>()).get("compatible"));
        assertArrayEquals(BIG, g.updateProperties(phandle(MEMORY), -1, new ArrayList<>()).get("reg"));
        byte[] assoc = g.updateProperties(PartitionTrees.cpuPhandle(0), -1, new ArrayList<>()).get("ibm,associativity");
        assertArrayEquals(PartitionTrees.associativity(rig.platform.system("destination"), 0), assoc,
                "associativity belongs to the destination now");
        assertTrue(!Arrays.equals(prrnAssoc, assoc));
    }

    private void migrate() {
        rig.platform.migrate("lpar1", null);
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        assertEquals(RtasStatus.SUCCESS, Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status());
        for (int v = 0; v < 3; v++) {
            g.hcall(3, Hcall.H_PROD, v);
            Rig.await(parked.get(v));
        }
        assertEquals("destination", rig.state("lpar1").system());
    }

    static ConfigureConnectorWorkArea.CcNode configureConnector(Rig.Guest g, int drc) {
        ConfigureConnectorWorkArea.Assembler asm = new ConfigureConnectorWorkArea.Assembler();
        byte[] wa = ConfigureConnectorWorkArea.initial(drc);
        while (true) {
            RtasResult r = g.rtas(0, RtasService.CONFIGURE_CONNECTOR, wa, 0, 0);
            assertTrue(r.status() >= 0 && r.status() <= RtasStatus.CC_PREV_PARENT, "status " + r.status());
            wa = r.workArea();
            if (asm.accept(ConfigureConnectorWorkArea.decodeStep(r.status(), wa))) {
                return asm.result();
            }
        }
    }
}
