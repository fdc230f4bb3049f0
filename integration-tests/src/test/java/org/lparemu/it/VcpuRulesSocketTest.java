package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallRefusedException;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.server.EmbeddedDaemon;

/**
 * The processor rules over real sockets: a refusal travels as {@code HostFrame.refused} (reason, vCPU, the call
 * it is in) and reaches the Java client as {@link CallRefusedException}; {@code interrupts_disabled} reaches
 * H_JOIN; GetState shows every vCPU and the refusal count; the trace shows the refusal as REFUSED.
 */
@Timeout(30)
class VcpuRulesSocketTest {
    static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void refusalsTravelTypedAndTheConnectionKeepsServing() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             GuestConnection g = d.guest("lpar1")) {
            c.addFault(FaultRule.newBuilder().setMatch(FaultMatch.newBuilder().setPartition("lpar1")
                    .setOpcode(Hcall.H_QUERY_VAS_CAPABILITIES).setMaxFires(1))
                    .setHold(Hold.newBuilder().setLatch("q")).build());
            CompletableFuture<HcallResult> held = g.hcallAsync(2, Hcall.H_QUERY_VAS_CAPABILITIES,
                    new long[] {0, 0x1000}, null);
            c.awaitHold("q", 1, WAIT);

            CallRefusedException e = assertThrows(CallRefusedException.class,
                    () -> g.hcall(2, Hcall.H_QUERY_VAS_CAPABILITIES, new long[] {0, 0x1000}, null));
            CallRefusal r = e.refusal();
            assertEquals(CallRefusal.Reason.VCPU_BUSY, r.reason());
            assertEquals(2, r.vcpu());
            assertEquals("H_QUERY_VAS_CAPABILITIES", r.inCall());
            assertTrue(r.message().contains("vCPU 2"), r.message());

            PartitionState s = c.getState("lpar1");
            assertEquals(1, s.getCallsRefused());
            assertEquals(4, s.getVcpusCount());
            assertEquals("H_QUERY_VAS_CAPABILITIES", s.getVcpus(2).getInCall());
            assertTrue(s.getVcpus(3).getRunning());
            assertEquals(1, c.getTrace("lpar1", 0, 1000).getRecordsList().stream()
                    .filter(t -> t.getKind() == TraceKind.REFUSED).count());

            // the connection is fine: other vCPUs call, the held call completes
            assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, new long[] {0, 0x1000}, null)
                    .status());
            c.releaseHold("q", 0);
            assertEquals(HStatus.H_SUCCESS, held.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).status());

            // RTAS is serialized per partition, stop-self stops a vCPU, start-cpu starts it
            assertEquals(RtasStatus.SUCCESS, g.rtas(3, RtasService.STOP_SELF, new long[0], null).status());
            CallRefusedException stopped = assertThrows(CallRefusedException.class,
                    () -> g.hcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, new long[] {0, 0x1000}, null));
            assertEquals(CallRefusal.Reason.VCPU_STOPPED, stopped.refusal().reason());
            assertFalse(c.getState("lpar1").getVcpus(3).getRunning());
            assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.START_CPU, new long[] {3, 0x100, 0}, null).status());
            assertTrue(c.getState("lpar1").getVcpus(3).getRunning());
            assertEquals(2, c.getState("lpar1").getCallsRefused());
        }
    }

    @Test
    void hJoinNeedsInterruptsDisabledOnTheWire() {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             GuestConnection g = d.guest("lpar1")) {
            c.migrate("lpar1", "");
            assertEquals(HStatus.H_BAD_MODE, g.hcall(0, Hcall.H_JOIN, new long[0], null, false).status());
            CompletableFuture<HcallResult> parked = g.hcallAsync(0, Hcall.H_JOIN, new long[0], null, true);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (c.getState("lpar1").getJoinedVcpusCount() == 0) {
                assertTrue(System.nanoTime() < deadline, "vCPU 0 never parked in H_JOIN");
                Thread.onSpinWait();
            }
            assertFalse(parked.isDone());
            assertEquals("H_JOIN", c.getState("lpar1").getVcpus(0).getInCall());
        }
    }
}
