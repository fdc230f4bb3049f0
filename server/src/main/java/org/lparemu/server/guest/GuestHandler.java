package org.lparemu.server.guest;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.lparemu.core.hypervisor.CallAnswer;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.GuestSession;
import org.lparemu.core.hypervisor.GuestSink;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.Hello;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.RtasRequest;
import org.lparemu.server.connection.BackpressuredHandler;
import org.lparemu.server.connection.Connections;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.connection.RateLimitedLog;
import org.lparemu.server.metrics.CallMetrics;
import org.lparemu.wire.HcallCall;
import org.lparemu.wire.HcallFrames;
import org.lparemu.wire.ProtoMapping;
import org.lparemu.wire.Protocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-connection state of one guest connection (the adapter between frames and the core's
 * {@link GuestSession}). One instance per channel; its fields are touched only on the channel's event loop.
 * Flushing, the exact in-flight limit, backpressure and the close after a ProtocolError come from
 * {@link BackpressuredHandler}; this class decodes guest frames and answers calls.
 */
public final class GuestHandler extends BackpressuredHandler<Object> implements GuestSink {
    private static final Logger LOG = LoggerFactory.getLogger(GuestHandler.class);
    /** PAPR passes at most 9 argument registers (plpar_hcall9). */
    public static final int MAX_HCALL_ARGS = 9;
    public static final int MAX_RTAS_ARGS = 16;

    private final Platform platform;
    private final DistinctErrorLog errors;
    private final RateLimitedLog connectionLog;
    /** Null when the daemon serves no metrics: then a call pays one null check for them. */
    private final CallMetrics metrics;

    // event loop only
    private GuestSession session;
    private long answered;

    public GuestHandler(Platform platform, DistinctErrorLog errors, RateLimitedLog connectionLog, int maxInFlight,
                        long helloTimeoutMs, CallMetrics metrics) {
        super(maxInFlight, helloTimeoutMs);
        this.platform = platform;
        this.errors = errors;
        this.connectionLog = connectionLog;
        this.metrics = metrics;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (Boolean.TRUE.equals(ctx.channel().attr(Connections.OVER_LIMIT).get())) {
            ctx.channel().config().setAutoRead(false);
            fail(ProtocolError.Code.TOO_MANY_CONNECTIONS, "the daemon's connection limit is reached");
            return;
        }
        connectionLog.info("guest connection from {} opened", ctx.channel().remoteAddress());
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (session != null) {
            connectionLog.info("guest connection {} closed ({} calls answered)", session, answered);
            session.close();
        }
        super.channelInactive(ctx);
    }

    /** {@code msg}: an {@link HcallCall} (the decoder's fast path) or any other {@link GuestFrame}. */
    @Override
    protected void handle(Object msg) {
        if (msg instanceof HcallCall call) {
            hcall(call);
            return;
        }
        GuestFrame frame = (GuestFrame) msg;
        switch (frame.getKindCase()) {
            case HELLO -> hello(frame.getHello());
            case HCALL -> hcall(HcallCall.of(frame.getHcall()));
            case RTAS -> rtas(frame.getRtas());
            case EVENT_ACK -> {
                if (requireSession()) {
                    EventAck a = frame.getEventAck();
                    session.ack(a.getEventId(), a.getStatus(), a.getDetail());
                }
            }
            case REPORT -> {
                if (requireSession()) {
                    GuestReport report;
                    try {
                        report = ProtoMapping.fromProto(frame.getReport());
                    } catch (IllegalArgumentException e) {
                        // e.g. a device-tree node with a bad path: the frame parsed, its content is invalid
                        fail(ProtocolError.Code.MALFORMED_FRAME, "GuestReport is not valid: " + e.getMessage());
                        return;
                    }
                    session.report(report);
                }
            }
            case TRACEPOINT -> {
                if (requireSession()) {
                    var t = frame.getTracepoint();
                    session.tracepoint(t.getVcpu(), t.getTask(), t.getName(), t.getDetail());
                }
            }
            case KIND_NOT_SET -> fail(ProtocolError.Code.MALFORMED_FRAME, "empty or unknown GuestFrame kind");
        }
    }

    private void hello(Hello hello) {
        if (session != null) {
            fail(ProtocolError.Code.DUPLICATE_HELLO, "connection is already bound to " + session.partition().name());
            return;
        }
        if (hello.getProtocolVersion() != Protocol.PROTOCOL_VERSION) {
            closeWith(HostFrame.newBuilder().setError(ProtocolError.newBuilder()
                    .setCode(ProtocolError.Code.VERSION_MISMATCH)
                    .setMessage("protocol version " + hello.getProtocolVersion() + " is not spoken here; this daemon speaks "
                            + Protocol.PROTOCOL_VERSION)
                    .addSupportedVersions(Protocol.PROTOCOL_VERSION)).build());
            errors.record("guest VERSION_MISMATCH", "version " + hello.getProtocolVersion() + " from "
                    + ctx.channel().remoteAddress());
            return;
        }
        try {
            session = platform.attach(hello.getPartition(), hello.getClientName(), !hello.getNoEvents(), this);
        } catch (ControlException e) {
            fail(e.code() == ControlError.SHUTTING_DOWN ? ProtocolError.Code.SHUTTING_DOWN
                    : ProtocolError.Code.UNKNOWN_PARTITION, e.getMessage());
            return;
        }
        BootInfo boot = session.bootInfo();
        write(HostFrame.newBuilder().setWelcome(ProtoMapping.welcome(boot)).build());
        bound();
        connectionLog.info("guest connection {} bound", session);
    }

    @Override
    protected void helloExpired(long timeoutMs) {
        fail(ProtocolError.Code.HELLO_TIMEOUT, "no Hello within " + timeoutMs + " ms");
    }

    private boolean requireSession() {
        if (session == null) {
            fail(ProtocolError.Code.NO_HELLO, "the first frame on the guest port must be Hello");
            return false;
        }
        return true;
    }

    private void hcall(HcallCall req) {
        if (!requireSession()) {
            return;
        }
        long callId = req.callId();
        if (req.argCount() > MAX_HCALL_ARGS) {
            write(ProtoMapping.reply(callId, HcallResult.of(HStatus.H_PARAMETER)));
            return;
        }
        callStarted();
        CallMetrics.Series series = metrics == null ? null : metrics.hcall(req.opcode());
        session.hcall(req.vcpu(), req.opcode(), req.args(), req.buffer(), req.task(), req.interruptsDisabled(),
                new Reply(callId, series));
    }

    private void rtas(RtasRequest req) {
        if (!requireSession()) {
            return;
        }
        long callId = req.getCallId();
        if (req.getArgsCount() > MAX_RTAS_ARGS) {
            write(ProtoMapping.reply(callId, RtasResult.of(RtasStatus.PARAMETER_ERROR)));
            return;
        }
        callStarted();
        CallMetrics.Series series = metrics == null ? null : metrics.rtas(req.getService());
        session.rtas(req.getVcpu(), req.getService(), ProtoMapping.args(req), ProtoMapping.bytes(req.getWorkArea()),
                req.getTask(), new Reply(callId, series));
    }

    /**
     * One call's answer: builds the reply frame on whichever thread the core answers on (the event loop itself for
     * a call nothing held back) and writes it on the event loop. The only per-call object the handler adds.
     */
    private final class Reply implements CallAnswer {
        private final long callId;
        private final CallMetrics.Series series;
        private final long startNanos;

        Reply(long callId, CallMetrics.Series series) {
            this.callId = callId;
            this.series = series;
            this.startNanos = series == null ? 0 : System.nanoTime();
        }

        @Override
        public void answer(CallResult r, Throwable e) {
            if (series != null && r != null) {
                metrics.record(series, r, System.nanoTime() - startNanos);
            }
            // An hcall's answer is written as its serialized HostFrame (HcallFrames), anything else as the message.
            Object frame = e != null ? null : r instanceof HcallResult h
                    ? Unpooled.wrappedBuffer(HcallFrames.encodeReply(callId, h)) : ProtoMapping.reply(callId, r);
            if (ctx.executor().inEventLoop()) {
                replyOnLoop(frame, e);
            } else {
                ctx.executor().execute(() -> replyOnLoop(frame, e));
            }
        }
    }

    private void replyOnLoop(Object frame, Throwable error) {
        answered++;
        callFinished();
        if (frame != null) {
            write(frame);
        } else {
            // The partition is gone: the connection is being closed with PARTITION_GONE.
            Throwable c = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            LOG.debug("call on {} failed: {}", session, c.toString());
        }
    }

    private void fail(ProtocolError.Code code, String message) {
        fail("guest " + code, code, message);
    }

    /** Sends ProtocolError and closes; {@code kind} is what the distinct-error log counts it under. */
    private void fail(String kind, ProtocolError.Code code, String message) {
        if (closing()) {
            return;
        }
        errors.record(kind, message + " (from " + ctx.channel().remoteAddress() + ")");
        closeWith(code, message);
    }

    /**
     * Sends one ProtocolError and closes after it is written; from here on nothing the peer sends is acted
     * on. Event loop only; a second call is a no-op (the first reason wins).
     */
    private void closeWith(ProtocolError.Code code, String message) {
        closeWith(HostFrame.newBuilder().setError(ProtocolError.newBuilder().setCode(code).setMessage(message)).build());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            fail(ProtocolError.Code.FRAME_TOO_LARGE, cause.getMessage());
        } else if (cause instanceof CorruptedFrameException || cause instanceof DecoderException) {
            Throwable c = cause.getCause() != null ? cause.getCause() : cause;
            fail(ProtocolError.Code.MALFORMED_FRAME, "frame does not parse as GuestFrame: " + c.getMessage());
        } else if (cause instanceof IOException) {
            LOG.debug("guest connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            // A frame that parsed but could not be handled (e.g. a GuestReport whose contents do not convert):
            // still a typed answer, counted once per kind, never a stack trace per frame.
            LOG.debug("guest connection error", cause);
            fail("guest " + cause.getClass().getSimpleName(), ProtocolError.Code.MALFORMED_FRAME,
                    "frame could not be handled: " + cause);
        }
    }

    // GuestSink: called by the platform from any thread

    @Override
    public void deliver(PlatformEvent event) {
        HostFrame frame = HostFrame.newBuilder().setEvent(ProtoMapping.toProto(event)).build();
        ctx.executor().execute(() -> write(frame));
    }

    @Override
    public void disconnect(DisconnectReason reason, String message) {
        ProtocolError.Code code = switch (reason) {
            case FAULT_DISCONNECT -> ProtocolError.Code.FAULT_DISCONNECT;
            case PARTITION_GONE -> ProtocolError.Code.PARTITION_GONE;
            case SHUTTING_DOWN -> ProtocolError.Code.SHUTTING_DOWN;
        };
        ctx.executor().execute(() -> closeWith(code, message));
    }

    /**
     * The daemon is stopping: a connection the platform did not already close (no Hello yet) is told
     * SHUTTING_DOWN and closed.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == Connections.SHUTDOWN) {
            closeWith(ProtocolError.Code.SHUTTING_DOWN, "the daemon is shutting down");
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public String remote() {
        return String.valueOf(ctx.channel().remoteAddress());
    }
}
