package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnknownFieldSet;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.AddFault;
import org.lparemu.proto.v1.AwaitEvent;
import org.lparemu.proto.v1.AwaitHold;
import org.lparemu.proto.v1.AwaitMigration;
import org.lparemu.proto.v1.CheckInvariants;
import org.lparemu.proto.v1.CallRefused;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.CreatePartition;
import org.lparemu.proto.v1.Delay;
import org.lparemu.proto.v1.DeletePartition;
import org.lparemu.proto.v1.DeviceTree;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.DeviceTreeNode;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.GetState;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.GuestCredits;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.GuestReport;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.Migrate;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.Property;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.Prrn;
import org.lparemu.proto.v1.ReleaseHold;
import org.lparemu.proto.v1.RemoveFault;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.RtasRequest;
import org.lparemu.proto.v1.SetQosCredits;
import org.lparemu.proto.v1.Trigger;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.EmbeddedDaemon;
import org.slf4j.LoggerFactory;

/**
 * Hostile input on both ports against a real daemon, seeded and bounded: random bytes, truncated varints,
 * huge length prefixes, frames that parse but make no sense (empty or unknown oneof, absurd vCPUs, too many
 * arguments, absurd values, unknown RTAS services, large buffers under the frame limit, other partitions'
 * window ids, control requests on the guest port and guest frames on the control port). Every case must get
 * a typed answer (a PAPR or RTAS status, a ProtocolError and close, a control Error) while a well-behaved
 * guest and control client, interleaved with the cases, keep getting exact answers. At the end: no stack
 * trace was logged, distinct errors were logged once each, connections, threads and heap are back to
 * bounded levels.
 *
 * <p>Seed: {@code -Dlparemu.fuzz.seed=N}, pinned unless {@code -Pstress} draws a fresh one (printed, and in every
 * assertion message); size: {@code -Dlparemu.fuzz.cases=N} (default 400), all of them run whatever the machine's
 * speed, so the cases are a function of the seed alone.
 */
class HostileInputFuzzTest {
    static final long SEED = Seeds.of("lparemu.fuzz.seed", 0xF022_2026_1202L);
    static final int CASES = Integer.getInteger("lparemu.fuzz.cases", 400);
    static final String REPRO = "seed " + SEED + " (replay: -Dlparemu.fuzz.seed=" + SEED + ")";
    static final int VCPUS = 4;
    static final long BUF = 0x10000;

    static final Set<ProtocolError.Code> BEFORE_HELLO = EnumSet.of(ProtocolError.Code.MALFORMED_FRAME,
            ProtocolError.Code.NO_HELLO, ProtocolError.Code.UNKNOWN_PARTITION, ProtocolError.Code.VERSION_MISMATCH,
            ProtocolError.Code.FRAME_TOO_LARGE);

    private final SplittableRandom rnd = new SplittableRandom(SEED);
    private EmbeddedDaemon d;
    private long goodWindow;
    private List<Long> opcodes;
    private List<String> services;
    private int typedErrors;
    /** Answers that were a ProtocolError, or a control Error followed by close: each must be counted. */
    private int protocolErrors;

    enum Kind {
        RANDOM_FRAME, RANDOM_BYTES, TRUNCATED_VARINT, HUGE_LENGTH, EMPTY_FRAME, UNKNOWN_ONEOF, DUPLICATE_HELLO,
        BAD_HELLO, CALL_BURST, HUGE_BUFFER, RANDOM_REPORT, CONTROL_ON_GUEST_PORT,
        CONTROL_RANDOM_FRAME, CONTROL_HUGE_LENGTH, CONTROL_BAD_REQUESTS, GUEST_ON_CONTROL_PORT
    }

    @Test
    void everyHostileInputGetsATypedAnswerWhileAWellBehavedClientIsServed() throws Exception {
        System.out.println("HostileInputFuzzTest: " + REPRO + ", " + CASES + " cases");
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        root.addAppender(logs);
        d = EmbeddedDaemon.start();
        try (ControlClient c = d.control(); GuestConnection good = d.guest("lpar1")) {
            c.createPartition(PartitionSpec.newBuilder().setName("fuzz").setVcpus(VCPUS).build());
            goodWindow = good.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).ret(0);
            assertEquals(HStatus.H_SUCCESS, good.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, goodWindow, 7, 0, Vas.MOD_WIN_FLAGS, 0)
                    .status());
            opcodes = new ArrayList<>(d.platform().dispatchTable().hcalls().keySet());
            opcodes.remove(Hcall.H_JOIN); // parks until prodded: a call that is never answered by design
            services = new ArrayList<>(d.platform().dispatchTable().rtasServices().keySet());
            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long heapBefore = usedHeapAfterGc();

            int run = 0;
            Kind[] kinds = Kind.values();
            for (; run < CASES; run++) {
                Kind k = kinds[rnd.nextInt(kinds.length)];
                String label = "case " + run + " " + k + ", " + REPRO;
                try {
                    runCase(k, label);
                } catch (IOException e) {
                    throw new AssertionError(label + ": " + e, e);
                }
                if (run % 8 == 0) {
                    wellBehaved(good, c, label);
                }
            }
            System.out.println("HostileInputFuzzTest: ran " + run + " cases, " + typedErrors + " typed errors ("
                    + protocolErrors + " protocol errors), "
                    + d.server().errors().counts());
            wellBehaved(good, c, "end, " + REPRO);
            assertNull(good.closeCode(), REPRO);

            // Bounded: connections back to the two well-behaved ones, threads and heap flat, nothing parked.
            RawConn.await("only the two well-behaved connections stay open, " + REPRO, Duration.ofSeconds(10),
                    () -> d.server().openConnections() == 2);
            assertEquals(0, d.platform().holds().parkedCount(), REPRO);
            int threadsAfter = ManagementFactory.getThreadMXBean().getThreadCount();
            assertTrue(threadsAfter <= threadsBefore + 2, "threads " + threadsBefore + " -> " + threadsAfter + ", " + REPRO);
            long heapAfter = usedHeapAfterGc();
            assertTrue(heapAfter <= 2 * heapBefore, "heap after GC " + heapBefore + " -> " + heapAfter + " bytes (at most 2x), "
                    + REPRO);

            // Logged: never a stack trace, each distinct error once.
            List<ILoggingEvent> traces = logs.list.stream().filter(e -> e.getThrowableProxy() != null).toList();
            assertEquals(List.of(), traces.stream().map(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).toList(),
                    REPRO);
            DistinctErrorLog errors = d.server().errors();
            assertTrue(errors.total() >= protocolErrors, "every protocol error is counted: " + protocolErrors
                    + " sent, " + errors.counts() + " " + REPRO);
            assertTrue(errors.counts().keySet().stream().noneMatch(k -> k.contains("Exception")),
                    "no frame made a handler throw: " + errors.counts() + " " + REPRO);
            long warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
            assertTrue(warnings <= errors.counts().size() + 4, warnings + " warnings for " + errors.counts().size()
                    + " distinct errors, " + REPRO);
            assertTrue(logs.list.stream().noneMatch(e -> e.getLevel() == Level.ERROR), REPRO);
        } finally {
            root.detachAppender(logs);
            d.close();
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void runCase(Kind k, String label) throws IOException {
        switch (k) {
            case RANDOM_FRAME -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    g.write(frame(randomBytes(1 + rnd.nextInt(300))));
                    expectProtocolError(g, BEFORE_HELLO, label);
                }
            }
            case RANDOM_BYTES, TRUNCATED_VARINT -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    byte[] b = k == Kind.RANDOM_BYTES ? randomBytes(1 + rnd.nextInt(300)) : truncatedVarint();
                    g.write(b);
                    g.socket.shutdownOutput();
                    // Possibly nothing complete arrived: then the end of the stream is the whole answer.
                    HostFrame f = g.readHost();
                    if (f != null) {
                        assertEquals(HostFrame.KindCase.ERROR, f.getKindCase(), label);
                        assertTrue(BEFORE_HELLO.contains(f.getError().getCode()), f + " " + label);
                        typedErrors++;
                        protocolErrors++;
                        assertTrue(g.closedByPeer(), label);
                    }
                }
            }
            case HUGE_LENGTH -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    if (rnd.nextBoolean()) {
                        assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
                    }
                    int variant = rnd.nextInt(3);
                    g.write(variant == 0 ? varint(d.platform().config().limits().maxFrameBytes() + 1
                            + rnd.nextInt(Integer.MAX_VALUE - d.platform().config().limits().maxFrameBytes()))
                            : variant == 1 ? new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}
                            : new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01});
                    expectProtocolError(g, variant == 0 ? EnumSet.of(ProtocolError.Code.FRAME_TOO_LARGE)
                            : EnumSet.of(ProtocolError.Code.MALFORMED_FRAME), label);
                }
            }
            case EMPTY_FRAME, UNKNOWN_ONEOF -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
                    byte[] body = k == Kind.EMPTY_FRAME ? new byte[0] : unknownField(6 + rnd.nextInt(10_000));
                    g.write(frame(body));
                    expectProtocolError(g, EnumSet.of(ProtocolError.Code.MALFORMED_FRAME), label);
                }
            }
            case DUPLICATE_HELLO -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
                    g.send(GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition("lpar1")
                            .setProtocolVersion(1)).build());
                    expectProtocolError(g, EnumSet.of(ProtocolError.Code.DUPLICATE_HELLO), label);
                }
            }
            case BAD_HELLO -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    boolean badVersion = rnd.nextBoolean();
                    g.send(GuestFrame.newBuilder().setHello(Hello.newBuilder()
                            .setPartition(badVersion ? "fuzz" : randomString(40))
                            .setProtocolVersion(badVersion ? 2 + rnd.nextInt(Integer.MAX_VALUE - 2) : 1)).build());
                    expectProtocolError(g, EnumSet.of(badVersion ? ProtocolError.Code.VERSION_MISMATCH
                            : ProtocolError.Code.UNKNOWN_PARTITION), label);
                }
            }
            case CALL_BURST -> callBurst(label, 1 + rnd.nextInt(20), false);
            case HUGE_BUFFER -> callBurst(label, 1, true);
            case RANDOM_REPORT -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
                    g.send(GuestFrame.newBuilder().setReport(randomReport()).build());
                    g.send(GuestFrame.newBuilder().setEventAck(EventAck.newBuilder().setEventId(rnd.nextLong())
                            .setStatus(rnd.nextInt()).setDetail(randomString(20))).build());
                    g.send(GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(1).setOpcode(0x4444))
                            .build());
                    HostFrame f = nextNonEvent(g);
                    if (f.getKindCase() == HostFrame.KindCase.ERROR) {
                        assertEquals(ProtocolError.Code.MALFORMED_FRAME, f.getError().getCode(), label);
                        typedErrors++;
                        protocolErrors++;
                    } else if (f.getKindCase() == HostFrame.KindCase.REFUSED) {
                        // An earlier burst's random stop-self may have stopped vCPU 0 of the fuzz partition.
                        assertEquals(CallRefused.Reason.VCPU_STOPPED, f.getRefused().getReason(), f + " " + label);
                        typedErrors++;
                    } else {
                        assertEquals(HStatus.H_FUNCTION, f.getHcall().getStatus(), label);
                    }
                }
            }
            case CONTROL_ON_GUEST_PORT -> {
                try (RawConn g = new RawConn(d.guestPort())) {
                    boolean hello = rnd.nextBoolean();
                    if (hello) {
                        assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
                    }
                    g.send(ControlRequest.newBuilder().setRequestId(rnd.nextLong())
                            .setDeletePartition(DeletePartition.newBuilder().setPartition("lpar1")).build());
                    expectProtocolError(g, EnumSet.of(ProtocolError.Code.MALFORMED_FRAME, ProtocolError.Code.NO_HELLO),
                            label);
                }
            }
            case CONTROL_RANDOM_FRAME -> {
                byte[] body = randomBytes(1 + rnd.nextInt(300));
                try {
                    ControlRequest parsed = ControlRequest.parseFrom(body);
                    if (parsed.getOpCase() != ControlRequest.OpCase.OP_NOT_SET) {
                        return; // a real operation by chance (Reset, AddFault ...): not hostile input, skip
                    }
                } catch (InvalidProtocolBufferException expected) {
                    // the usual case
                }
                try (RawConn c = new RawConn(d.controlPort())) {
                    c.write(frame(body));
                    ControlResponse r = c.readControl();
                    expectTypedControlError(r, label);
                    if (r.getError().getCode() == ErrorCode.BAD_REQUEST) {
                        protocolErrors++;
                        assertTrue(c.closedByPeer(), label);
                    }
                }
            }
            case CONTROL_HUGE_LENGTH -> {
                try (RawConn c = new RawConn(d.controlPort())) {
                    c.write(varint(d.platform().config().limits().maxFrameBytes() + 1 + rnd.nextInt(1 << 30)));
                    ControlResponse r = c.readControl();
                    assertEquals(ErrorCode.BAD_REQUEST, r.getError().getCode(), label);
                    typedErrors++;
                    protocolErrors++;
                    assertTrue(c.closedByPeer(), label);
                }
            }
            case CONTROL_BAD_REQUESTS -> {
                try (RawConn c = new RawConn(d.controlPort())) {
                    int n = 1 + rnd.nextInt(8);
                    Set<Long> ids = new HashSet<>();
                    for (int i = 0; i < n; i++) {
                        long id = 1000L + i;
                        ids.add(id);
                        c.send(badControlRequest().setRequestId(id).build());
                    }
                    for (int i = 0; i < n; i++) {
                        ControlResponse r = c.readControl();
                        assertTrue(r != null && ids.remove(r.getRequestId()), r + " " + label);
                        if (r.hasError()) {
                            expectTypedControlError(r, label);
                        }
                    }
                }
            }
            case GUEST_ON_CONTROL_PORT -> {
                try (RawConn c = new RawConn(d.controlPort())) {
                    c.send(GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(5).setOpcode(0x388)
                            .addArgs(rnd.nextLong())).build());
                    expectTypedControlError(c.readControl(), label);
                }
            }
        }
    }

    /** A burst of calls that parse but are nonsense, on one connection; each must be answered by its id. */
    private void callBurst(String label, int n, boolean huge) throws IOException {
        try (RawConn g = new RawConn(d.guestPort())) {
            assertEquals(HostFrame.KindCase.WELCOME, g.hello("fuzz").getKindCase(), label);
            List<Long> expectStatus = new ArrayList<>();
            List<Boolean> rtas = new ArrayList<>();
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            for (int i = 0; i < n; i++) {
                long expect = Long.MIN_VALUE; // any status
                GuestFrame f;
                int v = huge ? -1 : rnd.nextInt(7);
                if (v <= 2) {
                    int vcpu = rnd.nextInt(5) == 0 ? absurdVcpu() : rnd.nextInt(VCPUS);
                    long opcode = rnd.nextInt(4) == 0 ? rnd.nextLong() : opcodes.get(rnd.nextInt(opcodes.size()));
                    int argc = rnd.nextInt(6) == 0 ? 10 + rnd.nextInt(40) : rnd.nextInt(10);
                    HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(i).setVcpu(vcpu).setOpcode(opcode)
                            .setTask(randomString(10));
                    for (int a = 0; a < argc; a++) {
                        b.addArgs(interesting());
                    }
                    if (huge) {
                        int max = d.platform().config().limits().maxFrameBytes();
                        b.setBuffer(ByteString.copyFrom(randomBytes(max / 2 + rnd.nextInt(max / 2 - 1024))));
                    } else if (rnd.nextInt(4) == 0) {
                        b.setBuffer(ByteString.copyFrom(randomBytes(rnd.nextInt(8192))));
                    }
                    if (argc > 9 || vcpu < 0 || vcpu >= VCPUS) {
                        expect = HStatus.H_PARAMETER;
                    }
                    f = GuestFrame.newBuilder().setHcall(b).build();
                } else if (v == 3) {
                    // Another partition's window: as if it did not exist.
                    long op = List.of(Hcall.H_MODIFY_VAS_WINDOW, Hcall.H_DEALLOCATE_VAS_WINDOW, Hcall.H_QUERY_VAS_WINDOW)
                            .get(rnd.nextInt(3));
                    f = GuestFrame.newBuilder().setHcall(HcallRequest.newBuilder().setCallId(i).setOpcode(op)
                            .addArgs(goodWindow).addArgs(op == Hcall.H_QUERY_VAS_WINDOW ? BUF : 7)).build();
                    expect = HStatus.H_PARAMETER;
                } else {
                    boolean known = v == 4;
                    int argc = rnd.nextInt(6) == 0 ? 17 + rnd.nextInt(20) : rnd.nextInt(8);
                    RtasRequest.Builder b = RtasRequest.newBuilder().setCallId(i)
                            .setVcpu(rnd.nextInt(VCPUS)).setService(known ? services.get(rnd.nextInt(services.size()))
                                    : randomString(1 + rnd.nextInt(64)));
                    for (int a = 0; a < argc; a++) {
                        b.addArgs(interesting());
                    }
                    if (rnd.nextBoolean()) {
                        b.setWorkArea(ByteString.copyFrom(randomBytes(rnd.nextBoolean() ? 4096 : rnd.nextInt(9000))));
                    }
                    if ((!known && !services.contains(b.getService())) || argc > 16) {
                        expect = RtasStatus.PARAMETER_ERROR;
                    }
                    f = GuestFrame.newBuilder().setRtas(b).build();
                }
                expectStatus.add(expect);
                rtas.add(f.getKindCase() == GuestFrame.KindCase.RTAS);
                f.writeDelimitedTo(batch);
            }
            g.write(batch.toByteArray());
            Set<Long> answered = new HashSet<>();
            while (answered.size() < n) {
                HostFrame f = nextNonEvent(g);
                if (f.getKindCase() == HostFrame.KindCase.REFUSED) {
                    // A burst puts several calls on one vCPU, RTAS calls side by side, calls on vCPUs a random
                    // stop-self stopped: no processor could make them, and each is refused, by its id.
                    long id = f.getRefused().getCallId();
                    assertTrue(id >= 0 && id < n && answered.add(id), "refusal of " + id + ", " + label);
                    assertTrue(f.getRefused().getReason() != CallRefused.Reason.CALL_REFUSED_UNSPECIFIED, label);
                    typedErrors++;
                    continue;
                }
                assertTrue(f.getKindCase() == HostFrame.KindCase.HCALL || f.getKindCase() == HostFrame.KindCase.RTAS,
                        f + " " + label);
                long id = f.hasHcall() ? f.getHcall().getCallId() : f.getRtas().getCallId();
                long status = f.hasHcall() ? f.getHcall().getStatus() : f.getRtas().getStatus();
                assertTrue(id >= 0 && id < n && answered.add(id), "reply to " + id + ", " + label);
                assertEquals(rtas.get((int) id), f.hasRtas(), label);
                if (expectStatus.get((int) id) != Long.MIN_VALUE) {
                    assertEquals(expectStatus.get((int) id), status, "call " + id + ", " + label);
                    typedErrors++;
                }
            }
        }
    }

    private ControlRequest.Builder badControlRequest() {
        String ghost = "ghost" + rnd.nextInt(1000);
        ControlRequest.Builder r = ControlRequest.newBuilder();
        switch (rnd.nextInt(16)) {
            case 0 -> r.setGetState(GetState.newBuilder().setPartition(randomString(30)));
            case 1 -> r.setDeletePartition(DeletePartition.newBuilder().setPartition(ghost));
            case 2 -> r.setMigrate(Migrate.newBuilder().setPartition(rnd.nextBoolean() ? ghost : "fuzz")
                    .setDestination(randomString(8)));
            case 3 -> r.setPrrn(Prrn.newBuilder().setPartition(rnd.nextBoolean() ? ghost : "fuzz")
                    .addChanges(DeviceTreeChange.newBuilder().setPath(randomString(20))
                            .setSetProperty(Property.newBuilder().setName(randomString(10))
                                    .setValue(ByteString.copyFrom(randomBytes(rnd.nextInt(64)))))));
            case 4 -> r.setDlparCpu(DlparCpu.newBuilder().setPartition(rnd.nextBoolean() ? ghost : "fuzz")
                    .setActionValue(rnd.nextInt(5)).setCores(rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(3)));
            case 5 -> r.setSetQosCredits(SetQosCredits.newBuilder().setPartition(ghost).setCredits(rnd.nextInt()));
            case 6 -> r.setCreatePartition(CreatePartition.newBuilder().setSpec(PartitionSpec.newBuilder()
                    .setName(rnd.nextBoolean() ? "bad name " + rnd.nextInt() : "lpar1").setVcpus(rnd.nextInt())
                    .setCores(rnd.nextInt()).setSystem(randomString(5))));
            case 7 -> r.setAddFault(AddFault.newBuilder().setRule(randomRule(ghost)));
            case 8 -> r.setRemoveFault(RemoveFault.newBuilder().setRuleId(1_000_000 + rnd.nextInt(1000)));
            case 9 -> r.setAwaitHold(AwaitHold.newBuilder().setLatch(rnd.nextBoolean() ? "" : randomString(10))
                    .setTimeoutMs(1 + rnd.nextInt(20)).setMinCount(rnd.nextInt()));
            case 10 -> r.setReleaseHold(ReleaseHold.newBuilder().setLatch(rnd.nextBoolean() ? "" : randomString(10))
                    .setCount(rnd.nextInt()));
            case 11 -> r.setAwaitEvent(AwaitEvent.newBuilder().setEventId(rnd.nextLong()).setTimeoutMs(1 + rnd.nextInt(20)));
            case 12 -> r.setAwaitMigration(AwaitMigration.newBuilder().setPartition(rnd.nextBoolean() ? ghost : "fuzz")
                    .setTimeoutMs(1 + rnd.nextInt(20)));
            case 13 -> r.setGetTrace(GetTrace.newBuilder().setPartition(rnd.nextBoolean() ? "" : ghost)
                    .setSinceSeq(rnd.nextLong()).setMaxRecords(rnd.nextInt()));
            case 14 -> r.setCheckInvariants(CheckInvariants.newBuilder().setPartition(ghost).setTimeoutMs(20));
            default -> r.setUnknownFields(UnknownFieldSet.newBuilder().addField(100 + rnd.nextInt(1000),
                    UnknownFieldSet.Field.newBuilder().addVarint(rnd.nextLong()).build()).build());
        }
        return r;
    }

    private FaultRule randomRule(String ghost) {
        FaultRule.Builder b = FaultRule.newBuilder();
        if (rnd.nextInt(5) > 0) {
            FaultMatch.Builder m = FaultMatch.newBuilder().setPartition(ghost).setProbability(
                    List.of(0.0, 0.5, -1.0, 2.0, Double.NaN, Double.POSITIVE_INFINITY).get(rnd.nextInt(6)))
                    .setSkipFirst(rnd.nextLong()).setMaxFires(rnd.nextLong()).setSeed(rnd.nextLong());
            if (rnd.nextBoolean()) {
                m.setOpcode(rnd.nextLong());
            } else {
                m.setRtasService(randomString(12));
            }
            b.setMatch(m);
        }
        switch (rnd.nextInt(6)) {
            case 0 -> b.setReturnStatus(ReturnStatus.newBuilder().setStatus(rnd.nextLong()).addRets(rnd.nextLong()));
            case 1 -> b.setDelay(Delay.newBuilder().setMs(rnd.nextInt()));
            case 2 -> b.setHold(Hold.newBuilder().setLatch(rnd.nextBoolean() ? "" : randomString(8)));
            case 3 -> b.setTrigger(Trigger.newBuilder());
            case 4 -> b.setTrigger(Trigger.newBuilder().setDlparCpu(DlparCpu.newBuilder().setPartition(ghost)));
            default -> {
                // no action
            }
        }
        return b.build();
    }

    private GuestReport randomReport() {
        GuestReport.Builder r = GuestReport.newBuilder().setSeq(rnd.nextLong()).setInReplyToEvent(rnd.nextLong())
                .setVasPolicy(randomString(8)).setMigrationsOk(rnd.nextLong());
        for (int i = rnd.nextInt(3); i > 0; i--) {
            r.addCredits(GuestCredits.newBuilder().setWinType(rnd.nextInt()).setCreditsTotal(rnd.nextInt()));
        }
        r.putErrorsByErrno(randomString(5), rnd.nextLong());
        if (rnd.nextBoolean()) {
            DeviceTree.Builder t = DeviceTree.newBuilder().setGeneration(rnd.nextLong());
            for (int i = rnd.nextInt(5); i > 0; i--) {
                t.addNodes(DeviceTreeNode.newBuilder().setPath(rnd.nextBoolean() ? "/" : randomString(12))
                        .setPhandle(rnd.nextInt()).addProperties(Property.newBuilder().setName(randomString(6))
                                .setValue(ByteString.copyFrom(randomBytes(rnd.nextInt(32))))));
            }
            r.setDeviceTree(t);
        }
        return r.build();
    }

    /** Exact answers for the well-behaved guest (lpar1) and control client, between hostile cases. */
    private void wellBehaved(GuestConnection good, ControlClient c, String label) {
        assertEquals(HStatus.H_FUNCTION, good.hcall(0, 0x4444L).status(), label);
        assertEquals(HStatus.H_SUCCESS, good.hcall(1, Hcall.H_QUERY_VAS_WINDOW, goodWindow, BUF).status(), label);
        long w = good.hcall(2, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).ret(0);
        assertEquals(HStatus.H_SUCCESS, good.hcall(3, Hcall.H_DEALLOCATE_VAS_WINDOW, w).status(), label);
        var s = c.getState("lpar1");
        assertEquals(List.of(goodWindow), s.getWindowsList().stream().map(x -> x.getWinId()).toList(), label);
        assertEquals(0, s.getWindows(0).getStatus(), "still ACTIVE, " + label);
        assertTrue(c.listPartitions().stream().anyMatch(p -> p.getName().equals("fuzz")), label);
    }

    private void expectProtocolError(RawConn g, Set<ProtocolError.Code> allowed, String label) throws IOException {
        HostFrame f = nextNonEvent(g);
        assertTrue(f != null && f.getKindCase() == HostFrame.KindCase.ERROR, "expected a ProtocolError, got " + f + ", "
                + label);
        assertTrue(allowed.contains(f.getError().getCode()), f.getError() + " not in " + allowed + ", " + label);
        typedErrors++;
        protocolErrors++;
        assertTrue(g.closedByPeer(), "closed after the error, " + label);
    }

    private void expectTypedControlError(ControlResponse r, String label) {
        assertTrue(r != null && r.hasError(), "expected an Error, got " + r + ", " + label);
        ErrorCode code = r.getError().getCode();
        assertTrue(code != ErrorCode.ERROR_UNSPECIFIED && code != ErrorCode.INTERNAL, r + " " + label);
        typedErrors++;
    }

    /** The next frame that is not a pushed platform event (hostile connections to "fuzz" may receive those). */
    private static HostFrame nextNonEvent(RawConn g) throws IOException {
        HostFrame f;
        do {
            f = g.readHost();
        } while (f != null && f.getKindCase() == HostFrame.KindCase.EVENT);
        return f;
    }

    // ---------------------------------------------------------------------------------------------
    // generators

    private long interesting() {
        return switch (rnd.nextInt(10)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Long.MIN_VALUE;
            case 3 -> Long.MAX_VALUE;
            case 4 -> 0xFFFF_FFFFL;
            case 5 -> 1L << 32;
            case 6 -> goodWindow;
            case 7 -> BUF;
            case 8 -> rnd.nextInt(16);
            default -> rnd.nextLong();
        };
    }

    private int absurdVcpu() {
        return switch (rnd.nextInt(3)) {
            case 0 -> VCPUS + rnd.nextInt(1000);
            case 1 -> -1 - rnd.nextInt(Integer.MAX_VALUE); // above 2^31 as a uint32
            default -> Integer.MAX_VALUE;
        };
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    /** Random text, sometimes with characters outside ASCII. */
    private String randomString(int max) {
        StringBuilder s = new StringBuilder();
        for (int i = rnd.nextInt(max + 1); i > 0; i--) {
            s.append(rnd.nextInt(8) == 0 ? (char) (0x80 + rnd.nextInt(0x2000)) : (char) (0x20 + rnd.nextInt(0x5F)));
        }
        return s.toString();
    }

    /** 1..4 bytes of a varint that never ends. */
    private byte[] truncatedVarint() {
        byte[] b = new byte[1 + rnd.nextInt(4)];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (0x80 | rnd.nextInt(128));
        }
        return b;
    }

    /** A message body holding only field {@code number} (varint wire type). */
    private byte[] unknownField(int number) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(varint(number << 3));
        out.writeBytes(varint(rnd.nextInt(Integer.MAX_VALUE)));
        return out.toByteArray();
    }

    static byte[] varint(int v) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while ((v & ~0x7F) != 0) {
            out.write((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write(v);
        return out.toByteArray();
    }

    static byte[] frame(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(varint(body.length));
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static long usedHeapAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
