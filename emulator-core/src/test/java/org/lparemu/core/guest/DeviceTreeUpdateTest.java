package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdateNodesWorkArea.Entry;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea.Descriptor;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.port.ScriptedHcallPort.RtasCall;

/** pseries_devicetree_update over the three RTAS work areas, applied to the guest's tree. */
class DeviceTreeUpdateTest {
    private static final String VTY = "/vdevice/vty@30000000";
    private static final String CPU0 = "/cpus/PowerPC,POWER10@0";

    private final FakePlatform platform = new FakePlatform();
    private final GuestDeviceTree tree = new GuestDeviceTree(FakePlatform.bootTree());
    private final DeviceTreeUpdate update = new DeviceTreeUpdate(KernelCalls.threaded(platform.port, new VirtualGuestClock()), tree);
    /** ibm,update-properties answers per phandle, one per call (the firmware state word counts the calls). */
    private final Map<Integer, List<RtasResult>> properties = new HashMap<>();

    DeviceTreeUpdateTest() {
        platform.port.onRtas(RtasService.UPDATE_PROPERTIES, c -> {
            UpdatePropertiesWorkArea.Decoded in = UpdatePropertiesWorkArea.decode(c.workArea());
            List<RtasResult> answers = properties.get(in.phandle());
            if (answers == null || in.state() >= answers.size()) {
                return RtasResult.of(RtasStatus.HARDWARE_ERROR);
            }
            return answers.get(in.state());
        });
    }

    private static RtasResult nodes(int status, int stateWord, Entry... entries) {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        UpdateNodesWorkArea.setStateWord(wa, 0, stateWord);
        assertEquals(entries.length, UpdateNodesWorkArea.encodeEntries(wa, List.of(entries)));
        return RtasResult.withWorkArea(status, wa);
    }

    private static RtasResult props(int status, int phandle, int nextState, Descriptor... d) {
        return RtasResult.withWorkArea(status, UpdatePropertiesWorkArea.encode(phandle, nextState, List.of(d)));
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + seed);
        }
        return b;
    }

    @Test
    void updateAddDeleteWithContinuationAndPartialValues() {
        tree.setProperty(VTY, "old", DeviceTree.string("x"));
        byte[] big = bytes(6000, 3);
        properties.put(FakePlatform.VTY_PHANDLE, List.of(
                props(1, FakePlatform.VTY_PHANDLE, 1, Descriptor.nodePath(VTY),
                        Descriptor.full("compatible", DeviceTree.string("hvterm-protocol")),
                        Descriptor.partial("big", Arrays.copyOfRange(big, 0, 3000))),
                props(1, FakePlatform.VTY_PHANDLE, 2, Descriptor.partial("big", Arrays.copyOfRange(big, 3000, 5000))),
                props(0, FakePlatform.VTY_PHANDLE, 3, Descriptor.full("big", Arrays.copyOfRange(big, 5000, 6000)), Descriptor.delete("old"),
                        Descriptor.nameOnly("ibm,unchanged"))));
        properties.put(FakePlatform.CPU0_PHANDLE, List.of(props(0, FakePlatform.CPU0_PHANDLE, 1, Descriptor.nodePath(CPU0),
                Descriptor.full("ibm,associativity", DeviceTree.cells(4, 1, 1, 1, 1)))));
        platform.connectors.put(0x10000008, FakePlatform.cpuNode(1, 0x10000008, 0x11));
        platform.port.scriptRtas(RtasService.UPDATE_NODES,
                nodes(RtasStatus.CALL_AGAIN, 7, Entry.update(FakePlatform.VTY_PHANDLE), Entry.update(FakePlatform.CPU0_PHANDLE)),
                nodes(RtasStatus.SUCCESS, 8, Entry.add(FakePlatform.CPUS_PHANDLE, 0x10000008), Entry.delete(0x999), Entry.update(0x4242)));

        assertEquals(0, update.pseriesDevicetreeUpdate(RtasService.MIGRATION_SCOPE));

        // ibm,update-nodes: zero-filled area first, then the area it returned, scope in arg 1.
        List<RtasCall> un = platform.port.rtasCalls(RtasService.UPDATE_NODES);
        assertEquals(2, un.size());
        assertArrayEquals(new byte[UpdateNodesWorkArea.SIZE], un.get(0).workArea());
        assertEquals(7, UpdateNodesWorkArea.stateWord(un.get(1).workArea(), 0), "the work area goes back unchanged");
        assertEquals(DeviceTreeUpdate.WORK_AREA_PA, un.get(0).arg(0));
        assertEquals(1, un.get(0).arg(1));

        // ibm,update-properties: first call with the phandle and state 0; continuation passes the state back.
        List<RtasCall> up = platform.port.rtasCalls(RtasService.UPDATE_PROPERTIES);
        assertEquals(4, up.size());
        UpdatePropertiesWorkArea.Decoded first = UpdatePropertiesWorkArea.decode(up.get(0).workArea());
        assertEquals(FakePlatform.VTY_PHANDLE, first.phandle());
        assertEquals(0, first.state());
        assertEquals(List.of(), first.descriptors());
        assertEquals(2, UpdatePropertiesWorkArea.decode(up.get(2).workArea()).state());

        assertArrayEquals(DeviceTree.string("hvterm-protocol"), tree.property(VTY, "compatible"));
        assertArrayEquals(big, tree.property(VTY, "big"), "partial pieces accumulate into one value");
        assertNull(tree.property(VTY, "old"));
        assertFalse(tree.properties(VTY).containsKey(""), "the path descriptor is not a property");
        assertFalse(tree.properties(VTY).containsKey("ibm,unchanged"));
        assertArrayEquals(DeviceTree.cells(4, 1, 1, 1, 1), tree.property(CPU0, "ibm,associativity"));

        String added = "/cpus/PowerPC,POWER10@8";
        assertNotNull(tree.properties(added));
        assertEquals(added, tree.pathOfPhandle(0x11));
        assertEquals(added, tree.pathOfDrcIndex(0x10000008));
        assertEquals(2, update.unknownPhandles());
        assertEquals(2, update.nodesUpdated());
        assertEquals(1, update.nodesAdded());
        assertEquals(0, update.nodesDeleted());
    }

    @Test
    void deleteRemovesTheSubtree() {
        platform.port.scriptRtas(RtasService.UPDATE_NODES, nodes(0, 0, Entry.delete(FakePlatform.VDEVICE_PHANDLE)));
        assertEquals(0, update.pseriesDevicetreeUpdate(-2));
        assertNull(tree.properties("/vdevice"));
        assertNull(tree.properties(VTY));
        assertNull(tree.pathOfPhandle(FakePlatform.VTY_PHANDLE));
        assertEquals(2, update.nodesDeleted());
        assertEquals(-2, platform.port.rtasCalls(RtasService.UPDATE_NODES).get(0).arg(1), "PRRN scope passed as given");
    }

    @Test
    void platformFacilitiesAreNeitherDeletedNorAdded() {
        Map<String, byte[]> p = new LinkedHashMap<>();
        p.put("device_type", DeviceTree.string("ibm,platform-facilities"));
        p.put("ibm,phandle", DeviceTree.cells(0x77));
        platform.connectors.put(0x2000, new CcNode("ibm,platform-facilities2", p, List.of()));
        platform.port.scriptRtas(RtasService.UPDATE_NODES, nodes(0, 0, Entry.delete(FakePlatform.COMPRESSION_PHANDLE),
                Entry.delete(FakePlatform.PLATFAC_PHANDLE), Entry.add(1, 0x2000)));
        long gen = tree.generation();

        assertEquals(0, update.pseriesDevicetreeUpdate(1));

        assertNotNull(tree.properties("/ibm,platform-facilities/ibm,compression-v1"));
        assertNotNull(tree.properties("/ibm,platform-facilities"));
        assertNull(tree.pathOfPhandle(0x77));
        assertEquals(gen, tree.generation());
        assertEquals(4, platform.port.rtasCalls(RtasService.CONFIGURE_CONNECTOR).size(),
                "the add was fetched (child, 2 properties, complete), then dropped");
    }

    @Test
    void anErrorStatusStopsTheUpdateAndIsReturned() {
        platform.port.scriptRtas(RtasService.UPDATE_NODES, RtasResult.of(RtasStatus.PARAMETER_ERROR));
        long gen = tree.generation();
        assertEquals(RtasStatus.PARAMETER_ERROR, update.pseriesDevicetreeUpdate(-5));
        assertEquals(1, platform.port.rtasCalls(RtasService.UPDATE_NODES).size());
        assertEquals(gen, tree.generation());
    }

    @Test
    void oneNodesFailedPropertyFetchDoesNotStopTheOthers() {
        properties.put(FakePlatform.CPU0_PHANDLE, List.of(props(0, FakePlatform.CPU0_PHANDLE, 1, Descriptor.nodePath(CPU0),
                Descriptor.full("status", DeviceTree.string("okay")))));
        // No answers registered for the vty: its ibm,update-properties fails with -1.
        platform.port.scriptRtas(RtasService.UPDATE_NODES,
                nodes(0, 0, Entry.update(FakePlatform.VTY_PHANDLE), Entry.update(FakePlatform.CPU0_PHANDLE)));

        assertEquals(0, update.pseriesDevicetreeUpdate(1));

        assertArrayEquals(DeviceTree.string("okay"), tree.property(CPU0, "status"));
    }

    @Test
    void malformedWorkAreaIsEio() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        wa[16] = 0x09; // action 9
        platform.port.scriptRtas(RtasService.UPDATE_NODES, RtasResult.withWorkArea(0, wa));
        assertEquals(Errno.EIO.negative(), update.pseriesDevicetreeUpdate(1));
    }

    @Test
    void failedConfigureConnectorAddsNothing() {
        platform.port.scriptRtas(RtasService.UPDATE_NODES, nodes(0, 0, Entry.add(FakePlatform.CPUS_PHANDLE, 0x3333)));
        long gen = tree.generation();
        assertEquals(0, update.pseriesDevicetreeUpdate(1));
        assertEquals(gen, tree.generation());
        assertNull(update.dlparConfigureConnector(0x3333));
    }

    @Test
    void configureConnectorBuildsTheWholeSubtree() {
        CcNode core = new CcNode("PowerPC,POWER10@10", Map.of("ibm,phandle", DeviceTree.cells(0x50)),
                List.of(new CcNode("l2-cache@1", Map.of("ibm,phandle", DeviceTree.cells(0x51)), List.of())));
        platform.connectors.put(0x10000010, core);

        CcNode got = update.dlparConfigureConnector(0x10000010);

        assertEquals(core, got);
        List<RtasCall> calls = platform.port.rtasCalls(RtasService.CONFIGURE_CONNECTOR);
        assertEquals(6, calls.size(), "child, property, child, property, prev-parent, complete");
        assertEquals(0x10000010, ConfigureConnectorWorkArea.drcIndex(calls.get(0).workArea()));
        assertEquals(0, ConfigureConnectorWorkArea.state(calls.get(0).workArea()));
        assertEquals(5, ConfigureConnectorWorkArea.state(calls.get(5).workArea()),
                "each call passes back the work area (and firmware state) the previous one returned");
    }

    @Test
    void notifiersRunWithoutTheTreeLockAndSeeAttachAndDetach() throws Exception {
        List<String> seen = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        tree.addReconfigNotifier((action, path, props) -> {
            seen.add(action + " " + path + " " + props.containsKey("ibm,ppc-interrupt-server#s"));
            // Another thread must be able to read the tree now: the lock is not held while notifying.
            Thread reader = new Thread(() -> tree.generation());
            reader.start();
            try {
                reader.join(10_000);
            } catch (InterruptedException e) {
                failure.set(e);
            }
            if (reader.isAlive()) {
                failure.set(new AssertionError("tree lock held during notification of " + path));
            }
        });
        platform.connectors.put(0x10000008, FakePlatform.cpuNode(1, 0x10000008, 0x11));
        platform.port.scriptRtas(RtasService.UPDATE_NODES, nodes(0, 0, Entry.add(FakePlatform.CPUS_PHANDLE, 0x10000008),
                Entry.delete(FakePlatform.CPU0_PHANDLE)));

        assertEquals(0, update.pseriesDevicetreeUpdate(1));

        assertNull(failure.get());
        assertEquals(List.of("ATTACH_NODE /cpus/PowerPC,POWER10@8 true", "DETACH_NODE /cpus/PowerPC,POWER10@0 true"), seen);
    }

    @Test
    void attachRefusesDuplicatesAndLeavesTheTreeAlone() {
        CcNode dup = new CcNode("PowerPC,POWER10@0", Map.of(), List.of());
        long gen = tree.generation();
        assertTrue(assertThrowsIae(() -> tree.attach("/cpus", dup, 0)));
        CcNode dupPhandle = new CcNode("fresh@1", Map.of("ibm,phandle", DeviceTree.cells(FakePlatform.VTY_PHANDLE)), List.of());
        assertTrue(assertThrowsIae(() -> tree.attach("/cpus", dupPhandle, 0)));
        assertTrue(assertThrowsIae(() -> tree.attach("/nowhere", new CcNode("x", Map.of(), List.of()), 0)));
        assertNull(tree.properties("/cpus/fresh@1"));
        assertTrue(tree.generation() >= gen);
        assertEquals(List.of("/cpus/PowerPC,POWER10@0", "/cpus/PowerPC,POWER10@2"), tree.children("/cpus"));
    }

    private static boolean assertThrowsIae(Runnable r) {
        try {
            r.run();
            return false;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }
}
