package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasService;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.RtasRequest;
import org.lparemu.server.connection.Connections;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.LparemuServer;

/**
 * A client that pipelines calls and never reads the replies must not make the daemon buffer without bound:
 * once that connection's outbound buffer passes the high watermark the daemon stops reading from it, so
 * the calls it dispatches stop too and TCP pushes back on the writer. When the client reads, every call is
 * answered.
 */
class BackpressureTest {
    /** Each call is an ibm,update-nodes whose reply carries a 4 KiB work area. */
    static final int CALLS = 8000;
    static final int HIGH_WATER = Connections.WATER_MARK.high();

    static GuestFrame updateNodes(long id) {
        return GuestFrame.newBuilder().setRtas(RtasRequest.newBuilder().setCallId(id).setService(RtasService.UPDATE_NODES)
                .addArgs(0x2000).addArgs(RtasService.MIGRATION_SCOPE)
                .setWorkArea(ByteString.copyFrom(new byte[RtasService.WORK_AREA_SIZE]))).build();
    }

    @Test
    void aClientThatStopsReadingStopsTheDaemonReadingAndIsAnsweredWhenItReads() throws Exception {
        ExecutorService writerThread = Executors.newSingleThreadExecutor();
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); GuestConnection other = d.guest("lpar1");
             RawConn g = new RawConn(d.guestPort(), 16 * 1024)) {
            assertEquals(HostFrame.KindCase.WELCOME, g.hello("lpar1").getKindCase());
            long callsBefore = d.platform().callCount();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < CALLS; i += 50) {
                        ByteArrayOutputStream batch = new ByteArrayOutputStream();
                        for (int j = i; j < i + 50; j++) {
                            updateNodes(j).writeDelimitedTo(batch);
                        }
                        g.out.write(batch.toByteArray());
                    }
                    g.out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, writerThread);

            // What the daemon may have taken in is bounded by what it can have put out: its own buffer up to the
            // high watermark, plus what the kernel holds (the daemon socket's send buffer, which Linux
            // autotunes up to tcp_wmem's maximum, and our small receive buffer). Replies are 4 KiB each.
            long bound = (HIGH_WATER + kernelSendBufferMax() + 4L * g.socket.getReceiveBufferSize() + 65536)
                    / RtasService.WORK_AREA_SIZE;
            String state = awaitStopped(d, g, callsBefore, bound, writer);
            assertFalse(writer.isDone(), "TCP pushes back on a writer whose replies are not read: " + state);
            // Everybody else is still served meanwhile, and the silent reader stays bounded.
            assertEquals(HStatus.H_FUNCTION, other.hcall(0, LimitsTest.NOP).status());
            state = awaitStopped(d, g, callsBefore + 1, bound, writer);
            assertFalse(writer.isDone(), state);

            // Now read: every call is answered, exactly once, and the writer gets through.
            BitSet answered = new BitSet(CALLS);
            for (int i = 0; i < CALLS; i++) {
                HostFrame f = g.readHost();
                assertEquals(HostFrame.KindCase.RTAS, f.getKindCase(), "reply " + i + ": " + state);
                assertEquals(0, f.getRtas().getStatus());
                assertEquals(RtasService.WORK_AREA_SIZE, f.getRtas().getWorkArea().size());
                int id = (int) f.getRtas().getCallId();
                assertFalse(answered.get(id), "duplicate reply " + id);
                answered.set(id);
            }
            assertEquals(CALLS, answered.cardinality());
            writer.get(20, TimeUnit.SECONDS);
            RawConn.await("reading again", Duration.ofSeconds(10),
                    () -> stats(d, g).map(s -> s.reading() && s.outboundBytes() == 0).orElse(false));
        } finally {
            writerThread.shutdownNow();
        }
    }

    /**
     * Waits until the daemon has stopped reading from the raw client (outbound above the high watermark),
     * then checks that its buffer and the calls it dispatched are within bounds. Returns a description.
     */
    private static String awaitStopped(EmbeddedDaemon d, RawConn g, long callsBefore, long bound,
                                       CompletableFuture<Void> writer) {
        RawConn.await("the daemon stops reading from the connection that does not read", Duration.ofSeconds(20),
                () -> stats(d, g).map(s -> !s.reading() && !s.writable()).orElse(false));
        LparemuServer.ConnectionStats held = stats(d, g).orElseThrow();
        long dispatched = d.platform().callCount() - callsBefore;
        String state = "dispatched " + dispatched + " of " + CALLS + " (bound " + bound + "), outbound "
                + held.outboundBytes() + " bytes, writer done " + writer.isDone();
        assertTrue(held.outboundBytes() <= HIGH_WATER + 2 * RtasService.WORK_AREA_SIZE + 1024, state);
        assertTrue(dispatched <= bound, state);
        return state;
    }

    /** Linux's ceiling for an autotuned socket send buffer (tcp_wmem max), 4 MiB where it cannot be read. */
    static long kernelSendBufferMax() {
        try {
            String[] f = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_wmem"))
                    .trim().split("\\s+");
            return Long.parseLong(f[2]);
        } catch (IOException | RuntimeException e) {
            return 4L << 20;
        }
    }

    /** The daemon's view of the raw client's connection. */
    static Optional<LparemuServer.ConnectionStats> stats(EmbeddedDaemon d, RawConn g) {
        return d.server().connections().stream().filter(s -> s.remote().getPort() == g.localPort()).findFirst();
    }
}
