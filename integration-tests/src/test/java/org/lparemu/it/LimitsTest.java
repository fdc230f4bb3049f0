package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.RemoveFault;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.VasiState;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.wire.ConfigLoader;

/**
 * Every limit in {@code config.proto Limits}, hit over real sockets with a small configured value: each
 * answers with its documented typed error, the daemon keeps serving, and the limit frees up again.
 */
class LimitsTest {
    /** An unknown opcode: the hypervisor answers H_FUNCTION, so only the fault plan makes it interesting. */
    static final long NOP = 0x4444;

    /** The default limits with some changed. */
    static final class L {
        int frame, conns, inFlight, rules, holds, trace, parts, windows, events, hello;

        L() {
            PlatformConfig.Limits d = PlatformConfig.Limits.DEFAULT;
            frame = d.maxFrameBytes();
            conns = d.maxConnections();
            inFlight = d.maxInFlightPerConnection();
            rules = d.maxFaultRules();
            holds = d.maxParkedHolds();
            trace = d.traceCapacity();
            parts = d.maxPartitions();
            windows = d.maxWindowsPerPartition();
            events = d.maxPendingEvents();
            hello = d.helloTimeoutMs();
        }

        EmbeddedDaemon start() {
            return EmbeddedDaemon.start(PlatformConfig.defaults().withLimits(new PlatformConfig.Limits(frame, conns,
                    inFlight, rules, holds, trace, parts, windows, events, hello)));
        }
    }

    static FaultRule holdRule(String latch) {
        return FaultRule.newBuilder().setMatch(FaultMatch.newBuilder().setOpcode(NOP))
                .setHold(Hold.newBuilder().setLatch(latch)).build();
    }

    static GuestFrame nop(long id) {
        return nop(id, 0);
    }

    static GuestFrame nop(long id, int vcpu) {
        return GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(id).setVcpu(vcpu).setOpcode(NOP))
                .build();
    }

    @Test
    void everyLimitIsReadFromTheConfigAndZeroMeansTheDefault() throws Exception {
        PlatformConfig.Limits l = ConfigLoader.parse("""
                limits { max_frame_bytes: 1 max_connections: 2 max_in_flight_per_connection: 3 max_fault_rules: 4
                         max_parked_holds: 5 trace_capacity: 16 max_partitions: 7 max_windows_per_partition: 8
                         max_pending_events: 9 hello_timeout_ms: 11 }""").limits();
        assertEquals(new PlatformConfig.Limits(1, 2, 3, 4, 5, 16, 7, 8, 9, 11), l);
        assertEquals(PlatformConfig.Limits.DEFAULT, ConfigLoader.parse("").limits());
        assertEquals(PlatformConfig.Limits.DEFAULT, ConfigLoader.parse("limits { }").limits());
    }

    @Test
    void outOfRangeLimitsAreRefusedNamingTheField() {
        Exception e = assertThrows(RuntimeException.class, () -> ConfigLoader.parse("limits { trace_capacity: 8 }"));
        assertTrue(e.getMessage().contains("trace_capacity"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> ConfigLoader.parse("limits { trace_capacity: 2000000000 }"));
        assertTrue(e.getMessage().contains("trace_capacity"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> ConfigLoader.parse("limits { max_frame_bytes: 4294967295 }"));
        assertTrue(e.getMessage().contains("max_frame_bytes"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> ConfigLoader.parse("limits { max_deferred_calls: 10 }"));
        assertTrue(e.getMessage().contains("max_deferred_calls is gone"), e.getMessage());
    }

    @Test
    void frameSizeLimitOnBothPorts() throws Exception {
        L l = new L();
        l.frame = 4096;
        try (EmbeddedDaemon d = l.start(); RawConn g = new RawConn(d.guestPort())) {
            assertEquals(HostFrame.KindCase.WELCOME, g.hello("lpar1").getKindCase());
            g.send(GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(1).setOpcode(NOP)
                    .setBuffer(ByteString.copyFrom(new byte[4000]))).build());
            assertEquals(HStatus.H_FUNCTION, g.readHost().getHcall().getStatus(), "a frame under the limit is served");
            g.send(GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(2).setOpcode(NOP)
                    .setBuffer(ByteString.copyFrom(new byte[4097]))).build());
            assertEquals(ProtocolError.Code.FRAME_TOO_LARGE, g.readHost().getError().getCode());
            assertTrue(g.closedByPeer());
            try (RawConn c = new RawConn(d.controlPort())) {
                ByteArrayOutputStream big = new ByteArrayOutputStream();
                ControlRequest.newBuilder().setRequestId(1).setAuthToken("x".repeat(5000))
                        .setListPartitions(ListPartitions.getDefaultInstance()).build().writeDelimitedTo(big);
                c.write(big.toByteArray());
                ControlResponse r = c.readControl();
                assertEquals(ErrorCode.BAD_REQUEST, r.getError().getCode());
                assertTrue(r.getError().getMessage().contains("4096"), r.getError().getMessage());
                assertTrue(c.closedByPeer());
            }
            try (ControlClient c = d.control()) {
                assertEquals(1, c.listPartitions().size(), "the daemon serves on");
            }
        }
    }

    @Test
    void connectionLimitCountsBothPortsAndRefusesWithATypedError() throws Exception {
        L l = new L();
        l.conns = 3;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control(); GuestConnection g = d.guest("lpar1")) {
            assertEquals(1, c.listPartitions().size(), "the control connection holds one of the three slots");
            RawConn third = new RawConn(d.guestPort());
            assertEquals(HostFrame.KindCase.WELCOME, third.hello("lpar1").getKindCase());
            RawConn.await("3 connections open", Duration.ofSeconds(10), () -> d.server().openConnections() == 3);
            try (RawConn over = new RawConn(d.guestPort())) {
                HostFrame f = over.readHost();
                assertEquals(ProtocolError.Code.TOO_MANY_CONNECTIONS, f.getError().getCode());
                assertTrue(over.closedByPeer());
            }
            try (RawConn over = new RawConn(d.controlPort())) {
                ControlResponse r = over.readControl();
                assertEquals(ErrorCode.LIMIT_EXCEEDED, r.getError().getCode());
                assertTrue(over.closedByPeer());
            }
            assertEquals(HStatus.H_FUNCTION, g.hcall(0, NOP).status(), "connections within the limit are served");
            third.close();
            RawConn.await("a slot frees when a connection closes", Duration.ofSeconds(10),
                    () -> d.server().openConnections() == 2);
            try (RawConn again = new RawConn(d.guestPort())) {
                assertEquals(HostFrame.KindCase.WELCOME, again.hello("lpar1").getKindCase());
            }
            assertTrue(d.server().errors().counts().get("guest TOO_MANY_CONNECTIONS") >= 1);
        }
    }

    @Test
    void silentConnectionsHoldTheLimitOnlyUntilTheHelloTimeout() throws Exception {
        L l = new L();
        l.conns = 5;
        l.hello = 300;
        try (EmbeddedDaemon d = l.start(); GuestConnection bound = d.guest("lpar1")) {
            List<RawConn> guests = List.of(new RawConn(d.guestPort()), new RawConn(d.guestPort()));
            List<RawConn> controls = List.of(new RawConn(d.controlPort()), new RawConn(d.controlPort()));
            RawConn.await("5 connections open", Duration.ofSeconds(10), () -> d.server().openConnections() == 5);
            try (RawConn locked = new RawConn(d.guestPort())) {
                assertEquals(ProtocolError.Code.TOO_MANY_CONNECTIONS, locked.readHost().getError().getCode(),
                        "silent connections fill the limit while they are allowed to be silent");
            }
            for (RawConn g : guests) {
                HostFrame f = g.readHost();
                assertEquals(ProtocolError.Code.HELLO_TIMEOUT, f.getError().getCode());
                assertTrue(f.getError().getMessage().contains("300 ms"), f.getError().getMessage());
                assertTrue(g.closedByPeer());
                g.close();
            }
            for (RawConn c : controls) {
                ControlResponse r = c.readControl();
                assertEquals(ErrorCode.TIMEOUT, r.getError().getCode());
                assertTrue(c.closedByPeer());
                c.close();
            }
            RawConn.await("the silent connections' slots free", Duration.ofSeconds(10),
                    () -> d.server().openConnections() == 1);
            assertEquals(HStatus.H_FUNCTION, bound.hcall(0, NOP).status(),
                    "a connection that said Hello is not closed by the deadline it met");
            try (GuestConnection late = d.guest("lpar1")) {
                assertEquals(HStatus.H_FUNCTION, late.hcall(0, NOP).status(), "a real guest gets in again");
            }
            assertEquals(2L, d.server().errors().counts().get("guest HELLO_TIMEOUT"));
            assertEquals(2L, d.server().errors().counts().get("control TIMEOUT"));
        }
    }

    @Test
    void callsInFlightPerConnectionStayAtTheLimitAndRecover() throws Exception {
        L l = new L();
        l.inFlight = 8;
        int total = 100;
        // A vCPU makes one call at a time, so more calls in flight than the limit need more vCPUs than that: a
        // 16-vCPU partition, call i from vCPU i % 16 (the 8 in flight are always on 8 different vCPUs).
        int vcpus = 16;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control(); RawConn g = new RawConn(d.guestPort())) {
            c.createPartition(PartitionSpec.newBuilder().setName("wide").setVcpus(vcpus)
                    .setCores(vcpus).build());
            c.addFault(holdRule("gate"));
            assertEquals(HostFrame.KindCase.WELCOME, g.hello("wide").getKindCase());
            // Counted before the write: the daemon starts dispatching as soon as the bytes arrive.
            long callsBefore = d.platform().callCount();
            // All 100 in one write: one socket read holds far more than the limit.
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (long id = 0; id < total; id++) {
                nop(id, (int) (id % vcpus)).writeDelimitedTo(batch);
            }
            g.write(batch.toByteArray());
            int released = 0;
            while (released < total) {
                int expect = Math.min(8, total - released);
                c.awaitHold("gate", expect, Duration.ofSeconds(10));
                // Nothing beyond the limit was dispatched: exactly released + 8 calls reached the platform.
                assertEquals(released + expect, d.platform().callCount() - callsBefore, "after " + released);
                assertEquals(expect, d.platform().holds().parkedCount());
                // Never over the limit; exactly the parked ones once the calls released before have been answered. On
                // the last round the 4 remaining calls are read as soon as 4 released ones are answered, while the
                // other released calls may still be on their way to their answer (counted, not parked).
                int inFlight = c.getState("wide").getConnections(0).getCallsInFlight();
                assertTrue(inFlight >= expect && inFlight <= 8, inFlight + " in flight after " + released);
                RawConn.await("the connection's calls in flight settle at " + expect, Duration.ofSeconds(10),
                        () -> c.getState("wide").getConnections(0).getCallsInFlight() == expect);
                released += (int) c.releaseHold("gate", 0);
            }
            Set<Long> answered = new HashSet<>();
            for (int i = 0; i < total; i++) {
                HostFrame f = g.readHost();
                assertEquals(HStatus.H_FUNCTION, f.getHcall().getStatus());
                assertTrue(answered.add(f.getHcall().getCallId()));
            }
            assertEquals(total, answered.size());
        }
    }

    @Test
    void faultRuleLimit() {
        L l = new L();
        l.rules = 3;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control()) {
            FaultRule r = FaultRule.newBuilder().setMatch(FaultMatch.newBuilder().setPartition("nobody"))
                    .setReturnStatus(ReturnStatus.newBuilder().setStatus(-1)).build();
            long first = c.addFault(r);
            c.addFault(r);
            c.addFault(r);
            ControlClientException e = assertThrows(ControlClientException.class, () -> c.addFault(r));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
            assertTrue(e.getMessage().contains("3"), e.getMessage());
            c.request(ControlRequest.newBuilder().setRemoveFault(
                    RemoveFault.newBuilder().setRuleId(first)));
            c.addFault(r);
            assertEquals(3, c.listFaults().size());
        }
    }

    @Test
    void parkedHoldLimitLetsTheCallRunAndCountsTheRefusal() throws Exception {
        L l = new L();
        l.holds = 2;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control(); GuestConnection g = d.guest("lpar1")) {
            c.addFault(holdRule("gate"));
            CompletableFuture<HcallResult> a = g.hcallAsync(0, NOP, new long[0], null);
            CompletableFuture<HcallResult> b = g.hcallAsync(1, NOP, new long[0], null);
            c.awaitHold("gate", 2, Duration.ofSeconds(10));
            // The third cannot park: it runs on and is answered.
            assertEquals(HStatus.H_FUNCTION, g.hcall(2, NOP).status());
            assertFalse(a.isDone() || b.isDone());
            assertEquals(1, c.listFaults().get(0).getHoldsRefused());
            assertEquals(2, c.releaseHold("gate", 0));
            assertEquals(HStatus.H_FUNCTION, a.get(10, TimeUnit.SECONDS).status());
            assertEquals(HStatus.H_FUNCTION, b.get(10, TimeUnit.SECONDS).status());
        }
    }

    @Test
    void traceRingOverwritesAndGetTraceReportsWhatWasDropped() {
        L l = new L();
        l.trace = 64;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control(); GuestConnection g = d.guest("lpar1")) {
            for (int i = 0; i < 100; i++) {
                g.hcall(0, NOP);
            }
            long newest = d.platform().trace().nextSeq() - 1;
            TraceChunk t = c.getTrace("", 0, 0);
            assertTrue(t.getRecordsCount() <= 64, "records " + t.getRecordsCount());
            assertEquals(newest - 64, t.getDropped(), "everything older than the ring's capacity");
            assertEquals(newest, t.getLastSeq());
            assertEquals(newest, t.getRecords(t.getRecordsCount() - 1).getSeq(), "the newest records are kept");
            TraceChunk next = c.getTrace("", t.getLastSeq(), 0);
            assertEquals(0, next.getRecordsCount());
            assertEquals(0, next.getDropped());
        }
    }

    @Test
    void partitionLimit() {
        L l = new L();
        l.parts = 2;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control()) {
            c.createPartition(PartitionSpec.newBuilder().setName("lpar2").build());
            ControlClientException e = assertThrows(ControlClientException.class,
                    () -> c.createPartition(PartitionSpec.newBuilder().setName("lpar3").build()));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
            c.deletePartition("lpar2");
            assertEquals("lpar3", c.createPartition(PartitionSpec.newBuilder().setName("lpar3").build())
                    .getSpec().getName());
        }
    }

    @Test
    void windowsPerPartitionLimitAnswersHResource() {
        L l = new L();
        l.windows = 2;
        try (EmbeddedDaemon d = l.start(); GuestConnection g = d.guest("lpar1")) {
            long w1 = g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).ret(0);
            assertEquals(HStatus.H_SUCCESS,
                    g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).status());
            assertEquals(HStatus.H_RESOURCE,
                    g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).status());
            assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, w1).status());
            assertEquals(HStatus.H_SUCCESS,
                    g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).status());
        }
    }

    @Test
    void pendingEventLimitPerPartition() throws Exception {
        L l = new L();
        l.events = 2;
        try (EmbeddedDaemon d = l.start(); ControlClient c = d.control()) {
            // No guest: events stay pending.
            c.setQosCredits("lpar1", 1);
            c.setQosCredits("lpar1", 2);
            ControlClientException e = assertThrows(ControlClientException.class, () -> c.setQosCredits("lpar1", 3));
            assertEquals(ErrorCode.LIMIT_EXCEEDED, e.code());
            assertEquals(ErrorCode.LIMIT_EXCEEDED,
                    assertThrows(ControlClientException.class, () -> c.migrate("lpar1", "")).code());
            var s = c.getState("lpar1");
            assertEquals(2, s.getPendingEventsCount());
            assertEquals(VasiState.VASI_ABORTED, s.getMigration().getVasiState(),
                    "a migration whose request cannot be pushed is aborted, not left open");
            // A guest connects, receives both, acknowledges them: room again.
            try (GuestConnection g = d.guest("lpar1")) {
                LinkedBlockingQueue<PlatformEvent> events = new LinkedBlockingQueue<>();
                g.setEventListener(events::add);
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    PlatformEvent ev = events.poll(10, TimeUnit.SECONDS);
                    assertTrue(ev instanceof PlatformEvent.QosCredits, String.valueOf(ev));
                    g.ackEvent(ev.eventId(), 0, "");
                    ids.add(ev.eventId());
                }
                for (long id : ids) {
                    c.awaitEvent(id, Duration.ofSeconds(10));
                }
                c.setQosCredits("lpar1", 4);
            }
        }
    }
}
