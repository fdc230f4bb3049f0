package org.lparemu.server.control;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicBoolean;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.Error;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.server.LparemuServer;
import org.lparemu.server.wire.DistinctErrorLog;
import org.lparemu.server.wire.LingeringClose;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One control connection: authenticates it (when the daemon has a token), hands each request to the
 * {@link ControlService}, and writes responses as they complete (possibly out of order), flushing once per
 * read batch. Fields are touched only on the channel's event loop.
 *
 * <p>Like the guest port, reading stops while the requests in flight reach the per-connection limit or the
 * outbound buffer is above its high watermark; requests already decoded from the last socket read wait in
 * {@link #held} and are handled in order when reading resumes. After an UNAUTHENTICATED error or an
 * unparseable frame the connection is closing and nothing more it sends is acted on.
 */
public final class ControlHandler extends SimpleChannelInboundHandler<ControlRequest> {
    private static final Logger log = LoggerFactory.getLogger(ControlHandler.class);

    private final ControlService service;
    private final DistinctErrorLog errors;
    private final byte[] token;
    private final int maxInFlight;

    private ChannelHandlerContext ctx;
    private boolean authenticated;
    private boolean reading;
    private boolean needsFlush;
    private int inFlight;
    private boolean readSuspended;
    private boolean draining;
    private boolean closing;
    /** Requests decoded while reading was suspended, oldest first. */
    private final java.util.ArrayDeque<ControlRequest> held = new java.util.ArrayDeque<>();
    private final AtomicBoolean flushQueued = new AtomicBoolean();

    public ControlHandler(ControlService service, DistinctErrorLog errors, String token, int maxInFlight) {
        this.service = service;
        this.errors = errors;
        this.token = token == null || token.isEmpty() ? null : token.getBytes(StandardCharsets.UTF_8);
        this.authenticated = this.token == null;
        this.maxInFlight = maxInFlight;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        if (Boolean.TRUE.equals(ctx.channel().attr(LparemuServer.OVER_LIMIT).get())) {
            errors.record("control LIMIT_EXCEEDED", "connection limit reached, refused "
                    + ctx.channel().remoteAddress());
            failAndClose(0, ErrorCode.LIMIT_EXCEEDED, "the daemon's connection limit is reached");
            return;
        }
        log.info("control connection from {} opened", ctx.channel().remoteAddress());
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        log.info("control connection from {} closed", ctx.channel().remoteAddress());
        super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ControlRequest req) {
        reading = true;
        if (closing) {
            return;
        }
        if (readSuspended || !held.isEmpty()) {
            held.add(req);
            return;
        }
        handle(req);
    }

    private void handle(ControlRequest req) {
        if (!authenticated) {
            byte[] given = req.getAuthToken().getBytes(StandardCharsets.UTF_8);
            // Constant-time comparison: the time taken does not reveal how much of the token matched.
            if (!MessageDigest.isEqual(given, token)) {
                errors.record("control UNAUTHENTICATED", "bad or missing token from " + ctx.channel().remoteAddress());
                failAndClose(req.getRequestId(), ErrorCode.UNAUTHENTICATED, "this daemon requires its control token");
                return;
            }
            authenticated = true;
        }
        inFlight++;
        updateAutoRead();
        service.handle(req).whenComplete((resp, e) -> {
            ControlResponse r = e == null ? resp : ControlService.error(req.getRequestId(), e);
            if (ctx.executor().inEventLoop()) {
                respond(r);
            } else {
                ctx.executor().execute(() -> respond(r));
            }
        });
    }

    private void respond(ControlResponse r) {
        inFlight--;
        updateAutoRead();
        ctx.write(r);
        if (reading) {
            needsFlush = true;
        } else if (flushQueued.compareAndSet(false, true)) {
            ctx.executor().execute(() -> {
                flushQueued.set(false);
                ctx.flush();
            });
        }
    }

    private void updateAutoRead() {
        if (closing) {
            return; // LingeringClose owns reading now
        }
        boolean shouldRead = inFlight < maxInFlight && ctx.channel().isWritable();
        if (shouldRead == readSuspended) {
            readSuspended = !shouldRead;
            ctx.channel().config().setAutoRead(shouldRead);
            if (shouldRead && !draining) {
                draining = true;
                try {
                    ControlRequest r;
                    while (!readSuspended && !closing && (r = held.poll()) != null) {
                        handle(r);
                    }
                } finally {
                    draining = false;
                }
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        updateAutoRead();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        reading = false;
        if (needsFlush) {
            needsFlush = false;
            ctx.flush();
        }
        ctx.fireChannelReadComplete();
    }

    private void failAndClose(long requestId, ErrorCode code, String message) {
        if (closing) {
            return;
        }
        closing = true;
        held.clear();
        ctx.channel().config().setAutoRead(false);
        LingeringClose.writeAndClose(ctx, ControlResponse.newBuilder().setRequestId(requestId)
                .setError(Error.newBuilder().setCode(code).setMessage(message)).build());
    }

    /** The daemon is stopping: answer SHUTTING_DOWN (request id 0) and close. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == LparemuServer.SHUTDOWN) {
            failAndClose(0, ErrorCode.SHUTTING_DOWN, "the daemon is shutting down");
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            errors.record("control frame too large", cause.getMessage());
            failAndClose(0, ErrorCode.BAD_REQUEST, cause.getMessage());
        } else if (cause instanceof CorruptedFrameException || cause instanceof DecoderException) {
            Throwable c = cause.getCause() != null ? cause.getCause() : cause;
            errors.record("control malformed frame", String.valueOf(c.getMessage()));
            failAndClose(0, ErrorCode.BAD_REQUEST, "frame does not parse as ControlRequest: " + c.getMessage());
        } else if (cause instanceof IOException) {
            log.debug("control connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            errors.record("control " + cause.getClass().getSimpleName(), String.valueOf(cause.getMessage()));
            log.debug("control connection error", cause);
            failAndClose(0, ErrorCode.INTERNAL, "request could not be handled: " + cause);
        }
    }
}
