package org.lparemu.server.control;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.server.connection.BackpressuredHandler;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.connection.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.lparemu.server.connection.Connections;

/**
 * One control connection: authenticates it (when the daemon has a token), hands each request to the
 * {@link ControlCommandAdapter}, and writes responses as they complete (possibly out of order), flushing once per
 * read batch. Fields are touched only on the channel's event loop.
 *
 * <p>Backpressure and the exact in-flight limit are the guest port's ({@link BackpressuredHandler}). After an
 * UNAUTHENTICATED error or an unparseable frame the connection is closing and nothing more it sends is acted
 * on.
 */
public final class ControlHandler extends BackpressuredHandler<ControlRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(ControlHandler.class);

    private final ControlCommandAdapter adapter;
    private final DistinctErrorLog errors;
    private final RateLimitedLog connectionLog;
    private final byte[] token;

    private boolean authenticated;

    public ControlHandler(ControlCommandAdapter adapter, DistinctErrorLog errors, RateLimitedLog connectionLog,
                          String token, int maxInFlight, long helloTimeoutMs) {
        super(maxInFlight, helloTimeoutMs);
        this.adapter = adapter;
        this.errors = errors;
        this.connectionLog = connectionLog;
        this.token = token == null || token.isEmpty() ? null : token.getBytes(StandardCharsets.UTF_8);
        this.authenticated = this.token == null;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (Boolean.TRUE.equals(ctx.channel().attr(Connections.OVER_LIMIT).get())) {
            errors.record("control LIMIT_EXCEEDED", "connection limit reached, refused "
                    + ctx.channel().remoteAddress());
            failAndClose(0, ErrorCode.LIMIT_EXCEEDED, "the daemon's connection limit is reached");
            return;
        }
        connectionLog.info("control connection from {} opened", ctx.channel().remoteAddress());
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        connectionLog.info("control connection from {} closed", ctx.channel().remoteAddress());
        super.channelInactive(ctx);
    }

    @Override
    protected void helloExpired(long timeoutMs) {
        errors.record("control TIMEOUT", "no request within " + timeoutMs + " ms from " + ctx.channel().remoteAddress());
        failAndClose(0, ErrorCode.TIMEOUT, "no request within " + timeoutMs + " ms");
    }

    @Override
    protected void handle(ControlRequest req) {
        bound();
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
        callStarted();
        adapter.onRequest(req).whenComplete((resp, e) -> {
            ControlResponse r = e == null ? resp : ControlProxy.error(req.getRequestId(), e);
            onLoop(() -> {
                callFinished();
                write(r);
            });
        });
    }

    private void failAndClose(long requestId, ErrorCode code, String message) {
        closeWith(ControlProxy.error(requestId, code, message));
    }

    /** The daemon is stopping: answer SHUTTING_DOWN (request id 0) and close. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == Connections.SHUTDOWN) {
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
            LOG.debug("control connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else {
            errors.record("control " + cause.getClass().getSimpleName(), String.valueOf(cause.getMessage()));
            LOG.debug("control connection error", cause);
            failAndClose(0, ErrorCode.INTERNAL, "request could not be handled: " + cause);
        }
    }
}
