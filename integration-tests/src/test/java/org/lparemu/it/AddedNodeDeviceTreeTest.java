package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.List;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.NewNode;
import org.lparemu.proto.v1.Property;
import org.lparemu.server.EmbeddedDaemon;
import org.junit.jupiter.api.Test;

/**
 * Nodes the guest attaches from ibm,configure-connector (a core added by DLPAR, a node added by a PRRN) carry
 * the firmware's {@code ibm,phandle} property, which Linux keeps in the node; the platform models a phandle as
 * the node's own attribute. The device-tree oracle must not call that difference a stale tree (found by
 * SoakTest: every DLPAR core add was reported as {@code device-tree-stale} on {@code ibm,phandle}).
 */
class AddedNodeDeviceTreeTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void nodesAddedThroughConfigureConnectorLeaveTheGuestTreeEqualToThePlatforms() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             GuestConnection port = d.guest("lpar1");
             GuestKernel kernel = GuestKernel.boot(port, new GuestConfig(VasPolicy.UPSTREAM,
                     PrrnPolicy.DRAIN_BEFORE_SUSPEND, new SystemGuestClock(0.001), "lpar1"))) {
            GuestMigrationSocketTest.assertClean(c.checkInvariants("lpar1", WAIT));

            for (long id : c.dlparCpu("lpar1", true, 1).getEventIdsList()) {
                assertEquals(0, c.awaitEvent(id, WAIT).getStatus());
            }
            GuestMigrationSocketTest.assertClean(c.checkInvariants("lpar1", WAIT));

            long prrn = c.prrn("lpar1", List.of(DeviceTreeChange.newBuilder().setPath("/vdevice/l-lan@30000002")
                    .setAddNode(NewNode.newBuilder().addProperties(Property.newBuilder().setName("compatible")
                            .setValue(ByteString.copyFromUtf8("IBM,l-lan\0")))).build())).getEventId();
            assertEquals(0, c.awaitEvent(prrn, WAIT).getStatus());
            GuestMigrationSocketTest.assertClean(c.checkInvariants("lpar1", WAIT));

            // A wrong phandle property is still a difference.
            kernel.deviceTree().setProperty("/vdevice/l-lan@30000002", "ibm,phandle", new byte[] {0, 0, 0x7f, 0x7f});
            assertEquals(List.of("device-tree-stale"), c.checkInvariants("lpar1", WAIT).getViolationsList().stream()
                    .map(v -> v.getName()).toList());
        }
    }
}
