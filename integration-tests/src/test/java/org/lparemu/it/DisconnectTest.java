package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.proto.v1.VasiState;
import org.lparemu.server.EmbeddedDaemon;

/**
 * A guest that vanishes (RST, as when its process is killed) with calls held by a fault, in the middle of a
 * migration, or with vCPUs parked in H_JOIN: its pending work is cancelled, the partition's state stays
 * consistent and visible through GetState, and a new guest (or Reset) carries on.
 */
class DisconnectTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    static void awaitNoConnections(ControlClient c, String partition) {
        RawConn.await(partition + " has no guest connection", WAIT,
                () -> c.getState(partition).getConnectionsCount() == 0);
    }

    @Test
    void heldCallsOfAVanishedGuestAreFailedAndTheirHoldsFreed() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            c.addFault(LimitsTest.holdRule("gate"));
            RawGuest a = new RawGuest(d.guestPort(), "lpar1");
            for (int v = 0; v < 3; v++) {
                a.send(v, LimitsTest.NOP);
            }
            assertEquals(3, c.awaitHold("gate", 3, WAIT).size());
            long seqBefore = d.platform().trace().nextSeq();
            a.abort();
            awaitNoConnections(c, "lpar1");

            assertEquals(0, d.platform().holds().parkedCount(), "the vanished guest's holds are failed");
            assertEquals(ErrorCode.TIMEOUT, assertThrows(ControlClientException.class,
                    () -> c.awaitHold("gate", 1, Duration.ofMillis(50))).code());
            // Each held call ended, in the trace, as failed rather than run.
            RawConn.await("3 CALL_END records", WAIT, () -> callEnds(c, seqBefore).size() == 3);
            for (TraceRecord r : callEnds(c, seqBefore)) {
                assertTrue(r.getDetail().contains("HoldFailed"), r.toString());
            }
            assertEquals(0, c.releaseHold("gate", 0));

            // The hold still applies to a new guest; without it, calls run.
            c.clearFaults();
            try (GuestConnection b = d.guest("lpar1")) {
                assertEquals(HStatus.H_FUNCTION, b.hcall(0, LimitsTest.NOP).status());
            }
        }
    }

    private static List<TraceRecord> callEnds(ControlClient c, long since) {
        return c.getTrace("lpar1", since - 1, 0).getRecordsList().stream()
                .filter(r -> r.getKind() == TraceKind.CALL_END).toList();
    }

    @Test
    void guestVanishesMidMigrationWithVcpusJoinedAndANewGuestFinishesIt() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            RawGuest a = new RawGuest(d.guestPort(), "lpar1");
            long w1 = a.openWindow();
            long w2 = a.openWindow();
            var m = c.migrate("lpar1", "");
            org.lparemu.proto.v1.PlatformEvent ev = a.event();
            assertEquals(m.getEventId(), ev.getEventId());
            for (int v = 1; v < 4; v++) {
                a.send(v, Hcall.H_JOIN);
            }
            RawConn.await("3 vCPUs joined", WAIT, () -> c.getState("lpar1").getJoinedVcpusCount() == 3);
            a.abort();
            awaitNoConnections(c, "lpar1");
            // The connection is forgotten only once its failed joins have left their vCPUs (it is listed as closing
            // until then): with no connection listed, no vCPU is still inside the vanished guest's H_JOIN.
            assertTrue(c.getState("lpar1").getVcpusList().stream().allMatch(v -> v.getInCall().isEmpty()),
                    "the vanished guest's vCPUs left H_JOIN before it was forgotten");

            // Consistent and inspectable: the joins are gone, the windows and the stream are not, the
            // undelivered request waits for the next guest.
            PartitionState s = c.getState("lpar1");
            assertEquals(List.of(), s.getJoinedVcpusList());
            assertEquals(List.of(w1, w2), s.getWindowsList().stream().map(w -> w.getWinId()).toList());
            assertEquals(VasiState.VASI_SUSPENDING, s.getMigration().getVasiState());
            assertEquals(1, s.getPendingEventsCount());
            assertEquals("pending", s.getPendingEvents(0).getState());
            assertFalse(s.getSuspended());
            assertEquals(List.of(), c.checkInvariants("lpar1", WAIT).getViolationsList());

            try (GuestConnection b = d.guest("lpar1")) {
                LinkedBlockingQueue<PlatformEvent> events = new LinkedBlockingQueue<>();
                b.setEventListener(events::add);
                PlatformEvent again = events.poll(10, TimeUnit.SECONDS);
                assertEquals(new PlatformEvent.MigrationRequest(m.getEventId(), m.getStreamId()), again,
                        "the new guest gets the migration request");
                // The orphaned windows still block the suspend ...
                List<CompletableFuture<HcallResult>> joins = join(b);
                assertEquals(RtasStatus.OUTSTANDING_COPROC, b.rtas(0, RtasService.SUSPEND_ME, new long[0], null).status());
                prod(b, joins);
                // ... until any guest of the partition deallocates them by id.
                assertEquals(HStatus.H_SUCCESS, b.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w1).status());
                assertEquals(HStatus.H_SUCCESS, b.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w2).status());
                joins = join(b);
                assertEquals(RtasStatus.SUCCESS, b.rtas(0, RtasService.SUSPEND_ME, new long[0], null).status());
                prod(b, joins);
                b.ackEvent(again.eventId(), 0, "");
                var outcome = c.awaitMigration("lpar1", WAIT);
                assertTrue(outcome.getSuccess(), outcome.toString());
                assertEquals(List.of(RtasStatus.OUTSTANDING_COPROC, RtasStatus.SUCCESS), outcome.getRtasStatusesList());
                assertEquals("destination", c.getState("lpar1").getSystem());
            }
        }
    }

    /** vCPUs 1..3 call H_JOIN (parked), vCPU 0 gets H_CONTINUE. */
    private static List<CompletableFuture<HcallResult>> join(GuestConnection g) throws Exception {
        List<CompletableFuture<HcallResult>> joins = new ArrayList<>();
        for (int v = 1; v < 4; v++) {
            joins.add(g.hcallAsync(v, Hcall.H_JOIN, new long[0], null, true));
        }
        // One connection's frames are dispatched in order, so the other three are parked by now.
        assertEquals(HStatus.H_CONTINUE, g.hcall(0, Hcall.H_JOIN, new long[0], null, true).status());
        return joins;
    }

    private static void prod(GuestConnection g, List<CompletableFuture<HcallResult>> joins) throws Exception {
        for (int v = 1; v < 4; v++) {
            assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_PROD, v).status());
        }
        for (CompletableFuture<HcallResult> j : joins) {
            assertEquals(HStatus.H_SUCCESS, j.get(10, TimeUnit.SECONDS).status());
        }
    }

    @Test
    void windowsOfAGuestThatNeverComesBackStayUntilReset() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control()) {
            RawGuest a = new RawGuest(d.guestPort(), "lpar1");
            long w = a.openWindow();
            long owner = c.getState("lpar1").getWindows(0).getOwnerConnection();
            a.abort();
            awaitNoConnections(c, "lpar1");
            PartitionState s = c.getState("lpar1");
            assertEquals(1, s.getWindowsCount(), "the hypervisor cannot tell a crashed guest from a slow one");
            assertEquals(w, s.getWindows(0).getWinId());
            assertEquals(owner, s.getWindows(0).getOwnerConnection(), "GetState still names the vanished owner");
            c.reset();
            assertEquals(0, c.getState("lpar1").getWindowsCount());
            try (GuestConnection b = d.guest("lpar1")) {
                assertEquals(HStatus.H_PARAMETER, b.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w).status(),
                        "Reset freed it");
            }
        }
    }
}
