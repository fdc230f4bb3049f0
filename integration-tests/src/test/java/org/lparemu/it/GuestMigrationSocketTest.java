package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.server.EmbeddedDaemon;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The guest kernel over real sockets: a guest with open windows migrates, every window is reopened on the
 * destination with a new paste address, pastes work again, and the guest's report and the hypervisor agree.
 */
class GuestMigrationSocketTest {
    static final Duration WAIT = Duration.ofSeconds(20);

    @ParameterizedTest
    @EnumSource(VasPolicy.class)
    void guestWithOpenWindowsMigratesAndReopensThemOnTheDestination(VasPolicy policy) {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             GuestConnection port = d.guest("lpar1");
             GuestKernel kernel = GuestKernel.boot(port, new GuestConfig(policy, PrrnPolicy.DRAIN_BEFORE_SUSPEND,
                     new SystemGuestClock(0.001), "lpar1"))) {
            NxGzipDevice nx = kernel.nxGzip();
            List<Long> handles = new ArrayList<>();
            List<Long> pastesBefore = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                NxGzipDevice.OpenResult r = nx.open(false, -1);
                assertTrue(r.ok(), "open " + i + ": " + r);
                handles.add(r.handle());
                pastesBefore.add(nx.window(r.handle()).pasteAddress());
                assertTrue(nx.paste(r.handle(), 4096));
            }
            assertEquals(3, c.getState("lpar1").getWindowsCount());
            assertClean(c.checkInvariants("lpar1", WAIT));

            for (int round = 0; round < 2; round++) {
                String from = c.getState("lpar1").getSystem();
                var m = c.migrate("lpar1", "");
                var ack = c.awaitEvent(m.getEventId(), WAIT);
                assertEquals(0, ack.getStatus(), "the guest's migration handler: " + ack.getDetail());
                var outcome = c.awaitMigration("lpar1", WAIT);
                assertTrue(outcome.getSuccess(), outcome.toString());
                assertEquals(List.of(0), outcome.getRtasStatusesList(), "suspend accepted at the first attempt");

                PartitionState s = c.getState("lpar1");
                assertNotEquals(from, s.getSystem());
                assertEquals(3, s.getWindowsCount(), "every window reopened on " + s.getSystem());
                for (int i = 0; i < handles.size(); i++) {
                    long paste = nx.window(handles.get(i)).pasteAddress();
                    assertNotEquals(pastesBefore.get(i), paste, "window " + i + " has a new paste address");
                    assertTrue(s.getWindowsList().stream().anyMatch(w -> w.getPasteAddress() == paste
                            && w.getStatus() == Vas.HV_WIN_ACTIVE), "the hypervisor maps window " + i + " at its new address");
                    assertTrue(nx.paste(handles.get(i), 4096), "pastes work again after reopen");
                    pastesBefore.set(i, paste);
                }
                assertClean(c.checkInvariants("lpar1", WAIT));
                assertTrue(kernel.checkInvariants().isEmpty(), kernel.checkInvariants().toString());
            }
            assertEquals(2, kernel.report().migrationsOk());
            for (long h : handles) {
                assertEquals(0, nx.close(h));
            }
            assertEquals(0, c.getState("lpar1").getWindowsCount());
            assertClean(c.checkInvariants("lpar1", WAIT));
        }
    }

    static void assertClean(InvariantReport r) {
        assertEquals(1, r.getGuestReportsCompared(), "the guest's report was compared");
        assertEquals(List.of(), r.getViolationsList().stream().map(v -> v.getOracle() + " " + v.getName() + " at "
                + v.getLocation() + ": " + v.getDetail()).toList());
    }
}
