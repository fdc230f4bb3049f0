package org.lparemu.core.port;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceTreeDiffTest {
    private static DeviceTree tree() {
        DeviceTree t = new DeviceTree();
        t.addNode("/cpus", 2, 0);
        t.addNode("/cpus/PowerPC,POWER10@8", 0x1001, 0x10000001);
        t.setProperty("/cpus/PowerPC,POWER10@8", "ibm,my-drc-index", DeviceTree.cells(0x10000001));
        return t;
    }

    @Test
    void aPhandlePropertyHoldingTheNodesOwnPhandleIsNoDifference() {
        // What a DLPAR add leaves in the guest: configure-connector supplies ibm,phandle as a property.
        DeviceTree guest = tree();
        guest.setProperty("/cpus/PowerPC,POWER10@8", "ibm,phandle", DeviceTree.cells(0x1001));
        DeviceTree platform = tree();
        assertEquals(List.of(), guest.diff(platform));
        assertEquals(List.of(), platform.diff(guest));
    }

    @Test
    void aPhandlePropertyNamingAnotherPhandleIsStillADifference() {
        DeviceTree guest = tree();
        guest.setProperty("/cpus/PowerPC,POWER10@8", "ibm,phandle", DeviceTree.cells(0x1002));
        DeviceTree platform = tree();
        assertEquals(1, guest.diff(platform).size());
        assertEquals("property only in this tree", guest.diff(platform).get(0).kind());
        assertEquals("property only in other tree", platform.diff(guest).get(0).kind());
    }
}
