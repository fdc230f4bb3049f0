package org.lparemu.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.wire.ProtoMapping;

/** Socket tier: a real daemon on ephemeral ports, the Java clients and a plain-socket client. */
class DaemonSocketTest {
    private EmbeddedDaemon daemon;

    @BeforeEach
    void start() {
        daemon = EmbeddedDaemon.start();
    }

    @AfterEach
    void stop() {
        daemon.close();
    }

    /** A client written from the .proto alone: java.net.Socket + writeDelimitedTo / parseDelimitedFrom. */
    private static final class RawGuest implements AutoCloseable {
        final Socket socket;
        final OutputStream out;
        final InputStream in;

        RawGuest(int port) throws IOException {
            socket = new Socket(InetAddress.getLoopbackAddress(), port);
            socket.setSoTimeout(10_000);
            out = socket.getOutputStream();
            in = socket.getInputStream();
        }

        void send(GuestFrame f) throws IOException {
            f.writeDelimitedTo(out);
            out.flush();
        }

        HostFrame read() throws IOException {
            return HostFrame.parseDelimitedFrom(in);
        }

        /** True when the daemon closed the connection (EOF). */
        boolean closedByPeer() throws IOException {
            return in.read() == -1;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static GuestFrame hello(String partition, int version) {
        return GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition(partition).setProtocolVersion(version)
                .setClientName("raw")).build();
    }

    private static GuestFrame hcall(long id, long opcode, long... args) {
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(id).setVcpu(0).setOpcode(opcode);
        for (long a : args) {
            b.addArgs(a);
        }
        return GuestFrame.newBuilder().setHcall(b).build();
    }

    @Test
    void helloGetsWelcomeWithThePartitionAndItsDeviceTree() throws IOException {
        try (RawGuest g = new RawGuest(daemon.guestPort())) {
            g.send(hello("lpar1", 1));
            HostFrame f = g.read();
            assertEquals(HostFrame.KindCase.WELCOME, f.getKindCase());
            assertEquals("lpar1", f.getWelcome().getPartition());
            assertEquals(1, f.getWelcome().getProtocolVersion());
            assertEquals(4, f.getWelcome().getVcpus());
            assertEquals("source", f.getWelcome().getSystem());
            assertTrue(f.getWelcome().getDeviceTree().getNodesList().stream()
                    .anyMatch(n -> n.getPath().startsWith("/cpus/PowerPC,POWER10@")));
        }
    }

    @Test
    void unknownOpcodeAnswersHFunction() {
        try (GuestConnection g = daemon.guest("lpar1")) {
            HcallResult r = g.hcall(0, 0x4444L);
            assertEquals(HStatus.H_FUNCTION, r.status());
        }
    }

    @Test
    void callBeforeHelloIsAProtocolErrorAndClose() throws IOException {
        try (RawGuest g = new RawGuest(daemon.guestPort())) {
            g.send(hcall(1, 0x388));
            HostFrame f = g.read();
            assertEquals(ProtocolError.Code.NO_HELLO, f.getError().getCode());
            assertTrue(g.closedByPeer());
        }
    }

    @Test
    void unknownPartitionAndVersionMismatchAreTypedErrors() throws IOException {
        try (RawGuest g = new RawGuest(daemon.guestPort())) {
            g.send(hello("nosuch", 1));
            assertEquals(ProtocolError.Code.UNKNOWN_PARTITION, g.read().getError().getCode());
            assertTrue(g.closedByPeer());
        }
        try (RawGuest g = new RawGuest(daemon.guestPort())) {
            g.send(hello("lpar1", 2));
            ProtocolError e = g.read().getError();
            assertEquals(ProtocolError.Code.VERSION_MISMATCH, e.getCode());
            assertEquals(List.of(1), e.getSupportedVersionsList());
            assertTrue(g.closedByPeer());
        }
        PortException e = assertThrows(PortException.class, () -> daemon.guest("nosuch"));
        assertTrue(e.getMessage().contains("UNKNOWN_PARTITION"), e.getMessage());
    }

    @Test
    void oversizeFrameAndGarbageGetProtocolErrorsWhileASecondClientIsServed() throws IOException {
        try (GuestConnection good = daemon.guest("lpar1")) {
            try (RawGuest bad = new RawGuest(daemon.guestPort())) {
                bad.send(hello("lpar1", 1));
                assertEquals(HostFrame.KindCase.WELCOME, bad.read().getKindCase());
                // Announce a 16 MiB frame: above the 1 MiB default maximum.
                new DataOutputStream(bad.out).write(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08});
                bad.out.flush();
                assertEquals(ProtocolError.Code.FRAME_TOO_LARGE, bad.read().getError().getCode());
                assertTrue(bad.closedByPeer());
            }
            assertEquals(HStatus.H_FUNCTION, good.hcall(0, 0x4444L).status());
            try (RawGuest bad = new RawGuest(daemon.guestPort())) {
                bad.out.write(new byte[] {5, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF});
                bad.out.flush();
                assertEquals(ProtocolError.Code.MALFORMED_FRAME, bad.read().getError().getCode());
                assertTrue(bad.closedByPeer());
            }
            try (RawGuest bad = new RawGuest(daemon.guestPort())) {
                bad.send(GuestFrame.getDefaultInstance()); // empty oneof
                assertEquals(ProtocolError.Code.MALFORMED_FRAME, bad.read().getError().getCode());
            }
            assertEquals(HStatus.H_FUNCTION, good.hcall(1, 0x4448L).status());
            assertTrue(daemon.server().errors().counts().containsKey("guest FRAME_TOO_LARGE"));
        }
        // The daemon kept every partition.
        try (ControlClient c = daemon.control()) {
            assertEquals("lpar1", c.listPartitions().get(0).getName());
        }
    }

    @Test
    void thousandCallsInFlightOnOneConnectionAreAllAnsweredByTheirIds() throws Exception {
        // H_HOME_NODE_ASSOCIATIVITY(VPHN_FLAG_VCPU, vcpu) answers each vCPU's own associativity, so a reply
        // matched to the wrong call id would carry the wrong registers.
        Map<Long, List<Long>> expected = new HashMap<>();
        try (GuestConnection g = daemon.guest("lpar1")) {
            for (long v = 0; v < 4; v++) {
                HcallResult r = g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, 1, v);
                assertEquals(HStatus.H_SUCCESS, r.status());
                expected.put(v, ProtoMapping.boxed(r.rets()));
            }
        }
        // lpar1 has 2 cores: vCPUs 0 and 2 sit on one, 1 and 3 on the other.
        assertEquals(2, new HashSet<>(expected.values()).size(), "the two cores' associativity differs");
        try (RawGuest g = new RawGuest(daemon.guestPort())) {
            g.send(hello("lpar1", 1));
            assertEquals(HostFrame.KindCase.WELCOME, g.read().getKindCase());
            // Write all 1,000 before reading any reply.
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            Set<Long> sent = new HashSet<>();
            for (long id = 1000; id < 2000; id++) {
                hcall(id, Hcall.H_HOME_NODE_ASSOCIATIVITY, 1, id % 4).writeDelimitedTo(batch);
                sent.add(id);
            }
            g.out.write(batch.toByteArray());
            g.out.flush();
            Set<Long> got = new HashSet<>();
            for (int i = 0; i < 1000; i++) {
                HostFrame f = g.read();
                assertEquals(HostFrame.KindCase.HCALL, f.getKindCase());
                long id = f.getHcall().getCallId();
                assertEquals(HStatus.H_SUCCESS, f.getHcall().getStatus());
                assertEquals(expected.get(id % 4), f.getHcall().getRetsList(), "reply to call " + id);
                assertTrue(got.add(id), "duplicate reply " + id);
            }
            assertEquals(sent, got);
        }
        // The same through the Java client's async form, from one connection.
        try (GuestConnection g = daemon.guest("lpar1")) {
            List<CompletableFuture<HcallResult>> fs = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                fs.add(g.hcallAsync(i % 4, 0x4444L, new long[] {i}, null));
            }
            CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (CompletableFuture<HcallResult> f : fs) {
                assertEquals(HStatus.H_FUNCTION, f.join().status());
            }
            assertEquals(0, g.pendingCalls());
        }
    }

    @Test
    void guestTracepointsReachTheTraceAndCanBeAwaited() {
        try (GuestConnection g = daemon.guest("lpar1"); ControlClient c = daemon.control()) {
            long since = c.getTrace("lpar1", 0, 100_000).getLastSeq();
            CompletableFuture<TraceRecord> waiting = CompletableFuture.supplyAsync(
                    () -> c.awaitTrace("lpar1", since, Duration.ofSeconds(10), "vas_migration_closed", "lock_contended"));
            g.tracepoint(2, "vas_migration_closed", "type default, 0 windows");
            TraceRecord r = waiting.join();
            assertEquals(TraceKind.GUEST, r.getKind());
            assertEquals("vas_migration_closed", r.getName());
            assertEquals(2, r.getVcpu());
            assertEquals("type default, 0 windows", r.getDetail());
            assertEquals(Thread.currentThread().getName(), r.getTask());
            ControlClientException timeout = assertThrows(ControlClientException.class,
                    () -> c.awaitTrace("lpar1", r.getSeq(), Duration.ofMillis(50), "never"));
            assertEquals(ErrorCode.TIMEOUT, timeout.code());
            assertEquals(0, daemon.platform().trace().waiterCount(), "a timed-out waiter is dropped");
        }
    }

    @Test
    void controlOperationsWorkAndFailWithTypedErrors() {
        try (ControlClient c = daemon.control()) {
            PartitionState s = c.createPartition(PartitionSpec.newBuilder().setName("lpar2").build());
            assertEquals("lpar2", s.getSpec().getName());
            assertEquals(4, s.getSpec().getVcpus(), "unset vcpus takes the default");
            assertEquals(2, s.getSpec().getCores());
            assertEquals(List.of("lpar1", "lpar2"), c.listPartitions().stream().map(p -> p.getName()).toList());

            assertEquals(ErrorCode.DUPLICATE_NAME, assertThrows(ControlClientException.class,
                    () -> c.createPartition(PartitionSpec.newBuilder().setName("lpar2").build())).code());
            assertEquals(ErrorCode.BAD_SPEC, assertThrows(ControlClientException.class,
                    () -> c.createPartition(PartitionSpec.newBuilder().setName("bad name!").build())).code());
            assertEquals(ErrorCode.BAD_SPEC, assertThrows(ControlClientException.class,
                    () -> c.createPartition(PartitionSpec.newBuilder().setName("x").setVcpus(5000).build())).code());
            assertEquals(ErrorCode.UNKNOWN_SYSTEM, assertThrows(ControlClientException.class,
                    () -> c.createPartition(PartitionSpec.newBuilder().setName("y").setSystem("mars").build())).code());
            assertEquals(ErrorCode.UNKNOWN_PARTITION, assertThrows(ControlClientException.class,
                    () -> c.getState("nosuch")).code());
            assertEquals(ErrorCode.UNKNOWN_PARTITION, assertThrows(ControlClientException.class,
                    () -> c.deletePartition("nosuch")).code());
            assertEquals(ErrorCode.UNSUPPORTED, assertThrows(ControlClientException.class,
                    () -> c.request(ControlRequest.newBuilder())).code(), "a request with no operation");
        }
        try (ControlClient c = daemon.control()) {
            c.deletePartition("lpar2");
            assertEquals(List.of("lpar1"), c.listPartitions().stream().map(p -> p.getName()).toList());
        }
    }

    @Test
    void deletingAPartitionDisconnectsItsGuestWithPartitionGone() {
        GuestConnection g = daemon.guest("lpar1");
        try (ControlClient c = daemon.control()) {
            assertEquals(1, c.getState("lpar1").getConnectionsCount());
            c.deletePartition("lpar1");
        }
        assertThrows(PortException.class, () -> g.hcall(0, 0x4444L));
        assertEquals(ProtocolError.Code.PARTITION_GONE, g.closeCode());
        g.close();
    }

    @Test
    void resetRecreatesTheConfiguredPartitions() {
        try (ControlClient c = daemon.control()) {
            c.createPartition(PartitionSpec.newBuilder().setName("extra").build());
            c.deletePartition("lpar1");
            c.reset();
            assertEquals(List.of("lpar1"), c.listPartitions().stream().map(p -> p.getName()).toList());
        }
    }

    @Test
    void unauthenticatedControlRequestsAreRefusedWithATypedError() throws Exception {
        try (EmbeddedDaemon secured = EmbeddedDaemon.start(PlatformConfig.defaults(),
                ServerSettings.ephemeral().withToken("s3cret"))) {
            try (ControlClient anon = secured.control()) {
                ControlClientException e = assertThrows(ControlClientException.class, anon::listPartitions);
                assertEquals(ErrorCode.UNAUTHENTICATED, e.code());
            }
            try (ControlClient c = ControlClient.connect("127.0.0.1", secured.controlPort(), "s3cret",
                    Duration.ofSeconds(5))) {
                assertEquals(1, c.listPartitions().size());
            }
        }
    }

    @Test
    void clientsFailClearlyWhenTheDaemonIsGone() {
        GuestConnection g = daemon.guest("lpar1");
        ControlClient c = daemon.control();
        daemon.close();
        PortException e = assertThrows(PortException.class, () -> g.hcall(0, 0x4444L));
        assertNotNull(e.getMessage());
        assertThrows(RuntimeException.class, c::listPartitions);
        assertFalse(g.isOpen());
        g.close();
        c.close();
        assertThrows(PortException.class, () -> ControlClient.connect("127.0.0.1", daemon.controlPort()));
    }
}
