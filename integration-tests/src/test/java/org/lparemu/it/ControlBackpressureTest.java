package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.AwaitTrace;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.WindowState;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.LparemuServer;
import org.lparemu.server.connection.Connections;

/**
 * The control port's share of {@code BackpressuredHandler}, which the guest port's {@link LimitsTest} and
 * {@link BackpressureTest} cover for guests: a control client that pipelines requests which cannot complete yet
 * is read only up to {@code max_in_flight_per_connection}, and one that stops reading its (large) responses is
 * not read either; both are answered in full, each response with its request id, once the wait is over or the
 * client reads, and nobody else notices.
 */
class ControlBackpressureTest {
    static final int HIGH_WATER = Connections.WATER_MARK.high();

    /** An AwaitTrace that completes when lpar1's guest hits the tracepoint {@code gate[i]}. */
    static ControlRequest awaitGate(long requestId, int i, long sinceSeq) {
        return ControlRequest.newBuilder().setRequestId(requestId).setAwaitTrace(AwaitTrace.newBuilder()
                .setPartition("lpar1").setSinceSeq(sinceSeq).addNameContains("GUEST gate[" + i + "]")
                .setTimeoutMs(30_000)).build();
    }

    static ControlRequest getTrace(long requestId, int max) {
        return ControlRequest.newBuilder().setRequestId(requestId)
                .setGetTrace(GetTrace.newBuilder().setPartition("lpar1").setMaxRecords(max)).build();
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void pipelinedWaitsStopTheReadingAtExactlyTheLimitAndAreAnsweredInOrderAsTheyComplete() throws Exception {
        LimitsTest.L l = new LimitsTest.L();
        l.inFlight = 8;
        int waits = 40;
        long listId = 9999;
        try (EmbeddedDaemon d = l.start(); GuestConnection guest = d.guest("lpar1");
             ControlClient other = d.control(); RawConn c = new RawConn(d.controlPort())) {
            long since = d.platform().trace().nextSeq() - 1;
            // 40 waits, then one request that could be answered at once, all in one write: one socket read holds
            // all of them, far more than the limit.
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 0; i < waits; i++) {
                awaitGate(i + 1, i, since).writeDelimitedTo(batch);
            }
            ControlRequest.newBuilder().setRequestId(listId).setListPartitions(ListPartitions.getDefaultInstance())
                    .build().writeDelimitedTo(batch);
            c.write(batch.toByteArray());

            for (int i = 0; i < waits; i++) {
                int inFlight = Math.min(8, waits - i);
                int oldest = i;
                // Exactly the limit is dispatched (each dispatched AwaitTrace is one trace waiter), and while the
                // limit is reached nothing more is read from the connection.
                RawConn.await("gate[" + oldest + "]..: " + inFlight + " waits dispatched", Duration.ofSeconds(10),
                        () -> d.platform().trace().waiterCount() == inFlight);
                if (inFlight == 8) {
                    RawConn.await("the daemon stops reading at the limit", Duration.ofSeconds(10),
                            () -> stats(d, c).map(s -> !s.reading()).orElse(false));
                }
                // Another control connection and the guest are served meanwhile; the limit still holds after.
                assertEquals(1, other.listPartitions().size());
                assertEquals(HStatus.H_FUNCTION, guest.hcall(0, LimitsTest.NOP).status());
                assertEquals(inFlight, d.platform().trace().waiterCount(), "after gate[" + oldest + "]");
                assertEquals(0, c.in.available(), "nothing is answered before its wait is over");

                guest.tracepoint(0, "gate[" + i + "]", "");
                if (waits - i == 8) {
                    // gate[32] frees the slot the held ListPartitions takes; both are answered.
                    ControlResponse a = c.readControl();
                    ControlResponse b = c.readControl();
                    ControlResponse list = a.getRequestId() == listId ? a : b;
                    ControlResponse gate = a.getRequestId() == listId ? b : a;
                    assertEquals(listId, list.getRequestId());
                    assertEquals(1, list.getPartitions().getPartitionsCount(), list.toString());
                    assertGate(gate, i);
                } else {
                    assertGate(c.readControl(), i);
                }
            }
            assertEquals(0, d.platform().trace().waiterCount());
            RawConn.await("reading again", Duration.ofSeconds(10),
                    () -> stats(d, c).map(LparemuServer.ConnectionStats::reading).orElse(false));
            c.send(ControlRequest.newBuilder().setRequestId(10_000).setListPartitions(ListPartitions.getDefaultInstance())
                    .build());
            ControlResponse after = c.readControl();
            assertEquals(10_000, after.getRequestId());
            assertEquals(1, after.getPartitions().getPartitionsCount(), after.toString());
            assertEquals(0, c.in.available());
        }
    }

    private static void assertGate(ControlResponse r, int i) {
        assertEquals(i + 1, r.getRequestId(), "the wait on gate[" + i + "] is answered when it is over: " + r);
        assertEquals(ControlResponse.ResultCase.TRACE_RECORD, r.getResultCase(), r.toString());
        assertEquals("gate[" + i + "]", r.getTraceRecord().getName());
    }

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void aControlClientThatStopsReadingStopsTheDaemonReadingAndIsAnsweredWhenItReads() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); GuestConnection guest = d.guest("lpar1");
             ControlClient other = d.control(); RawConn c = new RawConn(d.controlPort(), 16 * 1024)) {
            // A trace whose chunk is a large response: 4000 tracepoints with a 256-character detail each.
            int records = 4000;
            String detail = "d".repeat(256);
            for (int i = 0; i < records; i++) {
                guest.tracepoint(0, "fill", detail);
            }
            // The guest's connection handles its frames in order: once this call is answered, every tracepoint is in.
            long w1 = guest.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).ret(0);
            ControlResponse expected = other.request(ControlRequest.newBuilder()
                    .setGetTrace(GetTrace.newBuilder().setPartition("lpar1").setMaxRecords(records)));
            int chunkBytes = expected.getSerializedSize();
            assertEquals(records, expected.getTrace().getRecordsCount());
            assertTrue(chunkBytes > records * 256, "each response is large: " + chunkBytes);
            PartitionState before = other.getState("lpar1");

            // Enough requests that their responses overflow the daemon's buffer and both kernels' socket buffers.
            long kernelBytes = BackpressureTest.kernelSendBufferMax() + 4L * c.socket.getReceiveBufferSize();
            int requests = (int) ((HIGH_WATER + kernelBytes) / chunkBytes) * 2 + 8;
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 1; i <= requests; i++) {
                getTrace(i, records).writeDelimitedTo(batch);
            }
            c.write(batch.toByteArray());
            String state = awaitStopped(d, c, chunkBytes);

            // Everybody else is served meanwhile, and the silent reader stays stopped and bounded.
            assertEquals(HStatus.H_FUNCTION, guest.hcall(0, LimitsTest.NOP).status());
            long w2 = guest.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).ret(0);
            assertEquals(HStatus.H_SUCCESS, guest.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w2).status());
            assertEquals(1, other.listPartitions().size());
            state = awaitStopped(d, c, chunkBytes) + "; before: " + state;

            // Now read: every request is answered, in order, each with its request id and the whole chunk.
            for (int i = 1; i <= requests; i++) {
                ControlResponse r = c.readControl();
                assertEquals(i, r.getRequestId(), state);
                assertEquals(ControlResponse.ResultCase.TRACE, r.getResultCase(), r.getResultCase() + ": " + state);
                assertEquals(expected.getTrace(), r.getTrace(), "the oldest " + records + " records, whole");
            }
            RawConn.await("reading again", Duration.ofSeconds(10),
                    () -> stats(d, c).map(s -> s.reading() && s.writable() && s.outboundBytes() == 0).orElse(false));
            c.send(ControlRequest.newBuilder().setRequestId(requests + 1)
                    .setListPartitions(ListPartitions.getDefaultInstance()).build());
            assertEquals(requests + 1, c.readControl().getRequestId());
            assertEquals(0, c.in.available(), "no response twice");

            // The partition is as the guest left it: its one window, its credits, its connection, running.
            PartitionState after = other.getState("lpar1");
            assertEquals(before.getWindowsList(), after.getWindowsList());
            assertEquals(List.of(w1), after.getWindowsList().stream().map(WindowState::getWinId).toList());
            assertEquals(before.getCreditsList(), after.getCreditsList());
            assertEquals(before.getConnectionsCount(), after.getConnectionsCount());
            assertEquals(before.getVcpusList(), after.getVcpusList());
            assertFalse(after.getSuspended());
        }
    }

    /**
     * Waits until the daemon has stopped reading from the raw control client (outbound above the high watermark),
     * then checks that its buffer is bounded: the high watermark, plus the one response that crossed it.
     */
    private static String awaitStopped(EmbeddedDaemon d, RawConn c, int chunkBytes) {
        RawConn.await("the daemon stops reading from the control client that does not read", Duration.ofSeconds(20),
                () -> stats(d, c).map(s -> !s.reading() && !s.writable()).orElse(false));
        LparemuServer.ConnectionStats s = stats(d, c).orElseThrow();
        String state = "outbound " + s.outboundBytes() + " bytes, responses of " + chunkBytes + " bytes";
        assertFalse(s.reading(), state);
        assertTrue(s.outboundBytes() <= HIGH_WATER + 2L * chunkBytes, state);
        return state;
    }

    /** The daemon's view of the raw client's connection. */
    static Optional<LparemuServer.ConnectionStats> stats(EmbeddedDaemon d, RawConn c) {
        return d.server().connections().stream().filter(s -> s.remote().getPort() == c.localPort()).findFirst();
    }
}
