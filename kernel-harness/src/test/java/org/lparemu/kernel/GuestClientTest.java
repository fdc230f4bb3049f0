package org.lparemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.core.papr.Hcall;
import org.lparemu.proto.v1.CallRefused;
import org.lparemu.proto.v1.DeviceTree;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallResponse;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.RtasResponse;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.proto.v1.Welcome;
import org.lparemu.server.EmbeddedDaemon;

/**
 * The C guest and its protocol client (khc) against the real daemon (EmbeddedDaemon) and against a fake one
 * that sends what the real one rarely does: CallRefused, ProtocolError, malformed and oversized frames. Run
 * with the 6.12 kernel (the client and the runtime are the same for every kernel).
 */
class GuestClientTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static KernelGuest guest(KernelBuild.Built built, int port, String partition) {
        return KernelGuest.start(built, "127.0.0.1", port, partition, KernelRun.CLOCK_SCALE, "GuestClientTest", null);
    }

    @Test
    @Timeout(60)
    void bootsReportsAndAgreesWithTheHypervisor() {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             KernelGuest g = guest(built, d.guestPort(), "lpar1")) {
            KernelGuest.Reply boot = g.bootInfo();
            assertEquals(built.kernelVersion(), boot.get("kernel"), boot.line());
            assertTrue(built.kernelVersion().startsWith("6.12."), built.kernelVersion());
            assertEquals("4", boot.get("vcpus"));
            assertEquals("0", boot.get("initcall_failures"));
            KernelGuest.Counters def = g.counters(1);
            assertTrue(def.enabled(), "Default credits initialised: " + def);
            assertEquals(40, def.total(), "2 cores x 20 credits");
            assertEquals("1", g.sysfsRead("/sys/kernel/mobility/api_version").trim());

            InvariantReport r = c.checkInvariants("lpar1", WAIT);
            assertEquals(1, r.getGuestReportsCompared(), "the C guest answered the report request");
            assertEquals(List.of(), KernelRun.violations(r), "the guest's counters, windows and device tree agree");
            var report = c.getState("lpar1").getGuestReport();
            assertEquals("linux-" + built.kernelVersion(), report.getVasPolicy());
            assertTrue(report.getDeviceTree().getNodesCount() > 5, "the report carries the guest's device tree");
        }
    }

    @Test
    @Timeout(60)
    void openPasteCloseReachTheHypervisor() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             KernelGuest g = guest(built, d.guestPort(), "lpar1")) {
            KernelGuest.OpenResult o = KernelRun.await(g.open("app", false, 0), "open");
            assertTrue(o.ok(), "open: " + o);
            assertEquals(0, o.mmapRc(), "mmap of the paste page");
            var windows = c.getState("lpar1").getWindowsList();
            assertEquals(1, windows.size());
            assertEquals(o.winId(), windows.get(0).getWinId());
            assertEquals("app", windows.get(0).getOwnerTask());
            assertEquals(o.pid(), windows.get(0).getPid(), "H_MODIFY_VAS_WINDOW carried the process's PID register");
            assertEquals("ok", KernelRun.await(g.paste("app", o.handle(), 4096), "paste"));
            assertEquals(0, KernelRun.await(g.close("app", o.handle()), "close"));
            assertEquals(0, c.getState("lpar1").getWindowsCount());
            assertEquals("EBADF", KernelRun.await(g.paste("app", o.handle(), 4096), "paste after close"));
        }
    }

    /** The contract the daemon is being taught to enforce, checked from its own trace. */
    @Test
    @Timeout(60)
    void aMigrationKeepsTheVcpuContract() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             KernelGuest g = guest(built, d.guestPort(), "lpar1")) {
            for (int i = 0; i < 3; i++) {
                assertTrue(KernelRun.await(g.open("user" + i, false, 0), "open").ok());
            }
            var m = c.migrate("lpar1", "");
            assertEquals(0, c.awaitEvent(m.getEventId(), WAIT).getStatus());
            MigrationOutcome o = c.awaitMigration("lpar1", WAIT);
            assertTrue(o.getSuccess(), o.toString());

            List<TraceRecord> trace = new ArrayList<>();
            long since = 0;
            while (true) {
                var chunk = c.getTrace("lpar1", since, 100_000);
                if (chunk.getRecordsCount() == 0) {
                    break;
                }
                trace.addAll(chunk.getRecordsList());
                since = chunk.getLastSeq();
            }
            // Per vCPU, every CALL_BEGIN is followed by its CALL_END before the next CALL_BEGIN.
            Map<Integer, Long> open = new HashMap<>();
            Map<Long, Integer> vcpuOfBegin = new HashMap<>();
            int joins = 0;
            for (TraceRecord t : trace) {
                if (t.getKind() == TraceKind.CALL_BEGIN) {
                    Long busy = open.put(t.getVcpu(), t.getSeq());
                    assertEquals(null, busy, "vCPU " + t.getVcpu() + " began " + t.getName() + " (seq " + t.getSeq()
                            + ") inside the call that began at seq " + busy);
                    vcpuOfBegin.put(t.getSeq(), t.getVcpu());
                    joins += t.getOpcode() == Hcall.H_JOIN ? 1 : 0;
                } else if (t.getKind() == TraceKind.CALL_END) {
                    Integer v = vcpuOfBegin.get(t.getBeginSeq());
                    if (v != null) {
                        open.remove(v, t.getBeginSeq());
                    }
                }
            }
            assertEquals(4, joins, "one H_JOIN per vCPU");
            KernelGuest.Stats s = g.stats();
            assertEquals(0, s.refused(), "no CallRefused");
            assertEquals(1, s.maxCallsPerVcpu(), "at most one call in flight per vCPU, by the guest's own count");
            assertEquals(1, s.maxRtasInFlight(), "RTAS calls one at a time");
            assertEquals(1, s.stopMachines());
        }
    }

    @Test
    @Timeout(60)
    void qosCreditsReachVasSysfsStore() {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             KernelGuest g = guest(built, d.guestPort(), "lpar1")) {
            long event = c.setQosCredits("lpar1", 8);
            var ack = c.awaitEvent(event, WAIT);
            assertEquals(0, ack.getStatus(), ack.getDetail());
            assertEquals(8, g.counters(0).total());
            assertEquals("8", g.sysfsRead("/sys/devices/virtual/misc/vas/vas0/gzip/qos_capabilities/nr_total_credits").trim());
            assertEquals(-22, g.sysfsWrite("/sys/devices/virtual/misc/vas/vas0/gzip/qos_capabilities/update_total_credits",
                    "lots"), "vas-sysfs.c's own store refuses a value that is not a u16");
        }
    }

    @Test
    @Timeout(60)
    void anUnknownPartitionIsAProtocolError() {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start()) {
            KernelHarnessException e = assertThrows(KernelHarnessException.class, () -> guest(built, d.guestPort(), "nope"));
            assertEquals(KernelHarnessException.Kind.GUEST_FAILED, e.kind());
            assertTrue(e.getMessage().contains("UNKNOWN_PARTITION"), e.getMessage());
        }
    }

    @Test
    @Timeout(60)
    void aDeletedPartitionEndsTheGuestWithItsReason() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); ControlClient c = d.control();
             KernelGuest g = guest(built, d.guestPort(), "lpar1")) {
            c.deletePartition("lpar1");
            assertTrue(awaitExit(g), "the guest exits");
            assertEquals(3, g.exitValue());
            assertTrue(g.lost().contains("PARTITION_GONE"), g.lost());
        }
    }

    // ---- against a fake daemon

    @Test
    @Timeout(60)
    void callRefusedIsReportedNotTakenForAnAnswer() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        try (FakeDaemon fake = new FakeDaemon((frame, out) -> {
            if (!frame.hasHcall()) {
                return false;
            }
            send(out, HostFrame.newBuilder().setRefused(CallRefused.newBuilder().setCallId(frame.getHcall().getCallId())
                    .setReason(CallRefused.Reason.VCPU_BUSY).setVcpu(frame.getHcall().getVcpu()).setInCall("H_JOIN")
                    .setBusyVcpu(frame.getHcall().getVcpu()).setMessage("vCPU is inside H_JOIN")).build());
            return true;
        }); KernelGuest g = guest(built, fake.port(), "lpar1")) {
            KernelGuest.Stats s = g.stats();
            assertTrue(s.refused() >= 1, "refusals counted: " + s);
            assertTrue(g.console().contains("CallRefused for H_QUERY_VAS_CAPABILITIES")
                    && g.console().contains("VCPU_BUSY"), g.console());
            assertTrue(g.console().contains("vas: H_QUERY_VAS_CAPABILITIES error -1"),
                    "the kernel saw a failed hcall, not a success:\n" + g.console());
            assertEquals(false, g.counters(1).enabled(), "VAS stayed off");
        }
    }

    @Test
    @Timeout(60)
    void aProtocolErrorEndsTheGuestWithItsCode() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        CompletableFuture<OutputStream> conn = new CompletableFuture<>();
        try (FakeDaemon fake = new FakeDaemon((frame, out) -> {
            conn.complete(out);
            return false;
        }); KernelGuest g = guest(built, fake.port(), "lpar1")) {
            send(conn.get(10, TimeUnit.SECONDS), HostFrame.newBuilder().setError(ProtocolError.newBuilder()
                    .setCode(ProtocolError.Code.SHUTTING_DOWN).setMessage("daemon stopping")).build());
            assertTrue(awaitExit(g));
            assertEquals(3, g.exitValue());
            assertTrue(g.lost().contains("SHUTTING_DOWN: daemon stopping"), g.lost());
        }
    }

    @Test
    @Timeout(60)
    void aMalformedOrOversizedFrameEndsTheGuest() throws Exception {
        KernelBuild.Built built = Kernels.debian("6.12");
        for (byte[] junk : List.of(new byte[] {5, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff},
                new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x40})) {
            CompletableFuture<OutputStream> conn = new CompletableFuture<>();
            try (FakeDaemon fake = new FakeDaemon((frame, out) -> {
                conn.complete(out);
                return false;
            }); KernelGuest g = guest(built, fake.port(), "lpar1")) {
                g.report();   // a frame from the guest, so the fake has the connection
                OutputStream out = conn.get(10, TimeUnit.SECONDS);
                synchronized (out) {
                    out.write(junk);
                    out.flush();
                }
                assertTrue(awaitExit(g));
                assertEquals(3, g.exitValue());
                assertTrue(g.lost().contains("MALFORMED"), g.lost());
            }
        }
    }

    private static boolean awaitExit(KernelGuest g) {
        return g.awaitExit(WAIT);
    }

    private static void send(OutputStream out, HostFrame f) {
        try {
            synchronized (out) {
                f.writeDelimitedTo(out);
                out.flush();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One connection: answers Hello with a Welcome (2 vCPUs, a tree with no VAS), then hands each frame to a
     * handler, and answers the hcalls and RTAS calls the handler left alone as a platform without them would
     * (H_FUNCTION, RTAS -1).
     */
    private static final class FakeDaemon implements AutoCloseable {
        private final ServerSocket server;
        private final Thread thread;
        private volatile Socket socket;

        /** Handles one frame from the guest; true when it answered it. */
        interface Handler {
            boolean handle(GuestFrame frame, OutputStream out);
        }

        FakeDaemon(Handler handler) throws IOException {
            server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                try (Socket s = server.accept()) {
                    socket = s;
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    GuestFrame hello = GuestFrame.parseDelimitedFrom(in);
                    assertNotNull(hello);
                    send(out, HostFrame.newBuilder().setWelcome(Welcome.newBuilder().setPartition(hello.getHello().getPartition())
                            .setProtocolVersion(1).setVcpus(2).setSystem("fake").setDeviceTree(DeviceTree.newBuilder())).build());
                    GuestFrame f;
                    while ((f = GuestFrame.parseDelimitedFrom(in)) != null) {
                        if (!handler.handle(f, out)) {
                            answerUnhandled(f, out);
                        }
                    }
                } catch (IOException e) {
                    // the guest went away
                }
            }, "fake-daemon");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private static void answerUnhandled(GuestFrame f, OutputStream out) {
            if (f.hasHcall()) {
                send(out, HostFrame.newBuilder().setHcall(HcallResponse.newBuilder()
                        .setCallId(f.getHcall().getCallId()).setStatus(-2)).build());
            } else if (f.hasRtas()) {
                send(out, HostFrame.newBuilder().setRtas(RtasResponse.newBuilder()
                        .setCallId(f.getRtas().getCallId()).setStatus(-1)).build());
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            Socket s = socket;
            if (s != null) {
                s.close();
            }
        }
    }
}
