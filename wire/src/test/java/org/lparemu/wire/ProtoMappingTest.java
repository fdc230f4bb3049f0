package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.proto.v1.Welcome;

/** The boot handshake and the guest report, mapped in one place: what the daemon sends is what a client reads. */
@Timeout(10)
class ProtoMappingTest {
    private static BootInfo boot() {
        DeviceTree t = new DeviceTree();
        t.setProperty("/", "ibm,partition-name", DeviceTree.string("lpar1"));
        t.addNode("/cpus", 2, 0);
        t.addNode("/cpus/PowerPC,POWER10@0", 0x1000, 0x10000000);
        t.setProperty("/cpus/PowerPC,POWER10@0", "ibm,associativity", DeviceTree.cells(4, 0, 0, 0, 0));
        return new BootInfo("lpar1", 4, "source", 2, true, t);
    }

    @Test
    void aWelcomeCarriesTheBootInformationAndTheVersions() {
        BootInfo boot = boot();
        Welcome w = ProtoMapping.welcome(boot);
        assertEquals(Protocol.PROTOCOL_VERSION, w.getProtocolVersion());
        assertEquals(Protocol.EMULATOR_VERSION, w.getEmulatorVersion());
        BootInfo back = ProtoMapping.fromProto(w);
        assertEquals(List.of(boot.partition(), boot.vcpus(), boot.system(), boot.cores(), boot.sharedProcessor()),
                List.of(back.partition(), back.vcpus(), back.system(), back.cores(), back.sharedProcessor()));
        assertEquals(List.of(), boot.deviceTree().diff(back.deviceTree()), "the same tree");
    }

    @Test
    void aGuestReportKeepsItsTopologyAndAReportWithoutOneStaysWithout() {
        GuestReport with = new GuestReport(7, List.of(), 1, 0, Map.of(), List.of(), null, 0, "UPSTREAM", "IGNORE", 0, 0,
                0, 0, 2, new GuestReport.Topology("SCOPE_EXTENDED", true, Map.of(0, 0, 1, 16)));
        GuestReport back = ProtoMapping.fromProto(ProtoMapping.toProto(with));
        assertEquals(with.topology(), back.topology());
        assertEquals(2, back.busyTasks());
        GuestReport without = new GuestReport(8, List.of(), 0, 0, Map.of(), List.of(), null, 0, "UPSTREAM", "IGNORE", 0,
                0, 0, 0, 0, null);
        assertNull(ProtoMapping.fromProto(ProtoMapping.toProto(without)).topology(), "a C guest reports no map");
    }
}
