package org.lparemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.server.EmbeddedDaemon;

/** The extension as a test author uses it: everything injected, the oracles quietly passing after each test. */
@LparemuTest
@Timeout(60)
class LparemuTestUsageTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void injectsAControlClientAndARawGuestConnectionOnTheDaemonsEphemeralPorts(ControlClient control,
            GuestConnection guest, EmbeddedDaemon daemon, Emulator emulator) {
        assertTrue(control.isOpen() && guest.isOpen());
        assertTrue(daemon.controlPort() > 0 && daemon.guestPort() > 0);
        assertEquals(daemon.guestPort(), emulator.guestPort());
        assertEquals("lpar1", guest.bootInfo().partition());
        assertEquals(1, control.listPartitions().size());
    }

    @Test
    void injectsBootedKernelsWithTheChosenPolicies(GuestKernel upstream,
            @Guest(vas = VasPolicy.PRE_FIX, prrn = PrrnPolicy.IGNORE) GuestKernel prefix) {
        assertEquals(VasPolicy.UPSTREAM, upstream.config().vasPolicy());
        assertEquals(PrrnPolicy.DRAIN_BEFORE_SUSPEND, upstream.config().prrnPolicy());
        assertEquals(VasPolicy.PRE_FIX, prefix.config().vasPolicy());
        assertEquals(PrrnPolicy.IGNORE, prefix.config().prrnPolicy());
        assertTrue(upstream.nxGzip().available());
    }

    @Test
    void aGuestWithAnOpenWindowMigratesAndTheOraclesHoldAfterwards(GuestKernel kernel, ControlClient control) {
        NxGzipDevice nx = kernel.nxGzip();
        NxGzipDevice.OpenResult open = nx.open(false, -1);
        assertTrue(open.ok(), open.toString());
        long before = nx.window(open.handle()).pasteAddress();
        var m = control.migrate("lpar1", "");
        assertEquals(0, control.awaitEvent(m.getEventId(), WAIT).getStatus());
        MigrationOutcome outcome = control.awaitMigration("lpar1", WAIT);
        assertTrue(outcome.getSuccess(), outcome.toString());
        PartitionState s = control.getState("lpar1");
        assertEquals("destination", s.getSystem());
        assertNotEquals(before, nx.window(open.handle()).pasteAddress(), "reopened on the destination");
        assertTrue(nx.paste(open.handle(), 4096));
        // the window stays open: the oracles after this test find it in both the guest and the hypervisor
    }

    @Test
    void theEmulatorBootsMoreGuestsAndRunsTheOraclesOnDemand(Emulator emulator, Platform platform) {
        GuestKernel k = emulator.boot("lpar1");
        assertNotNull(k.bootInfo());
        assertEquals(platform, emulator.platform());
        assertEquals(List.of(), emulator.checkInvariants());
        assertNull(Quiescence.busy(platform));
    }

    @Test
    @LparemuTest(configText = """
            systems { name: "a" }
            systems { name: "b" }
            partitions { name: "db1" vcpus: 2 cores: 1 }
            """, partition = "db1")
    void aMethodAnnotationGivesTheMethodItsOwnConfiguredPlatform(ControlClient control, GuestKernel kernel) {
        assertEquals("db1", control.listPartitions().get(0).getName());
        assertEquals("db1", kernel.config().name());
        assertEquals("a", control.getState("db1").getSystem());
    }
}
