package org.lparemu.bench.jmh;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.concurrent.TimeUnit;
import org.lparemu.bench.wire.ReplyTemplate;
import org.lparemu.bench.wire.Workload;
import org.lparemu.core.hypervisor.CallAnswer;
import org.lparemu.core.hypervisor.GuestSession;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.HcallResponse;
import org.lparemu.wire.HcallCall;
import org.lparemu.wire.HcallFrames;
import org.lparemu.wire.ProtoMapping;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-call core cost with no socket: the workload's hcall through {@link InProcessPort} (session, dispatch
 * table under the partition lock, both trace records, the future), and the same plus what the daemon does
 * around it per frame (parse the GuestFrame, map it, build and serialize the HostFrame reply), which is the
 * server-side CPU of one socket call minus Netty and the kernel. {@link #floorEchoWithCodec} is what the B1/B2
 * floor's handler does per call (parse, answer from the captured reply, serialize), so the difference between
 * the two codec benchmarks is the emulator's own per-call CPU.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class InProcessDispatchBench {
    private Platform platform;
    private InProcessPort port;
    private GuestSession session;
    private Workload workload;
    private byte[] requestBytes;
    private ReplyTemplate template;
    private final HcallFrames.Reader reader = new HcallFrames.Reader();

    @Setup(Level.Trial)
    public void setUp() {
        platform = new Platform(PlatformConfig.defaults());
        Workload.armNonMatchingFaultRule(platform);
        port = new InProcessPort(platform, Workload.PARTITION, "jmh", false);
        session = port.session();
        workload = Workload.prepare(port);
        requestBytes = workload.frame(12345).toByteArray();
        HcallResult r = port.hcall(0, workload.opcode, workload.args, null);
        HcallResponse.Builder b = HcallResponse.newBuilder().setStatus(r.status());
        for (long v : r.rets()) {
            b.addRets(v);
        }
        if (r.buffer().length > 0) {
            b.setBuffer(ByteString.copyFrom(r.buffer()));
        }
        template = new ReplyTemplate(b.build());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        port.close();
        platform.close();
    }

    /** One blocking hcall through the in-process port. */
    @Benchmark
    public HcallResult hcall() {
        return port.hcall(0, workload.opcode, workload.args, null);
    }

    /**
     * Decode request frame -> dispatch -> serialize the reply frame, as the daemon does per call (its
     * GuestFrameDecoder's {@link HcallFrames.Reader}, GuestHandler's session call with one answer object, and the
     * answer's {@link HcallFrames#encodeReply}).
     */
    @Benchmark
    public byte[] hcallWithCodec() {
        HcallCall c = reader.decode(requestBytes, 0, requestBytes.length);
        Reply reply = new Reply(c.callId());
        session.hcall(c.vcpu(), c.opcode(), c.args(), c.buffer(), c.task(), c.interruptsDisabled(), reply);
        return reply.bytes;
    }

    /** The daemon's per-call answer: serializes the reply frame when the core answers (here, before hcall returns). */
    private static final class Reply implements CallAnswer {
        final long callId;
        byte[] bytes;

        Reply(long callId) {
            this.callId = callId;
        }

        @Override
        public void answer(CallResult r, Throwable e) {
            if (e != null) {
                throw new IllegalStateException(e);
            }
            bytes = r instanceof HcallResult h ? HcallFrames.encodeReply(callId, h)
                    : ProtoMapping.reply(callId, r).toByteArray();
        }
    }

    /** The floor's per-call work: parse the request frame, answer with the captured reply, serialize it. */
    @Benchmark
    public byte[] floorEchoWithCodec() throws InvalidProtocolBufferException {
        HcallRequest req = GuestFrame.parseFrom(requestBytes).getHcall();
        return template.reply(req.getCallId()).toByteArray();
    }
}
