package org.lparemu.server.connection;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The per-connection machinery both ports share: replies flushed once per read batch, an exact limit on calls
 * in flight, reading suspended under backpressure, and an orderly close after a final error frame. Subclasses
 * decode their own frames in {@link #handle} and report calls with {@link #callStarted} / {@link #callFinished}.
 * Every method runs on the channel's event loop unless it says otherwise.
 *
 * <p>Flushing: a frame written while a read batch is being processed is flushed once in
 * {@link #channelReadComplete} (flushing per message measured 10x lower throughput); a frame written later
 * (a call answered after a hold, an H_JOIN, a suspension) gets one queued flush.
 *
 * <p>Backpressure: reading stops while the calls in flight reach the limit or the outbound buffer is above its
 * high watermark. Turning auto-read off only stops the next socket read: the frames the decoder already split
 * out of the current one still arrive, so they wait in a queue (at most one read's worth) and are dispatched, in
 * order, when reading resumes. That keeps the limit exact.
 *
 * <p>Silence: a connection that has not identified itself ({@link #bound}: Hello on the guest port, the first
 * request on the control port) within the hello timeout is told so ({@link #helloExpired}) and closed, so that
 * silent connections cannot hold the connection limit.
 *
 * <p>Closing: after {@link #closeWith} nothing the peer sends is acted on.
 */
public abstract class BackpressuredHandler<I> extends SimpleChannelInboundHandler<I> {
    private final int maxInFlight;
    private final long helloTimeoutMs;
    protected ChannelHandlerContext ctx;
    private ScheduledFuture<?> helloDeadline;
    private boolean bound;
    private boolean reading;
    private boolean needsFlush;
    private int inFlight;
    private boolean readSuspended;
    /** Frames decoded while reading was suspended, oldest first. */
    private final ArrayDeque<I> held = new ArrayDeque<>();
    /** True while the held frames are dispatched (a reply completing inline must not recurse into it). */
    private boolean draining;
    private boolean closing;
    /** Set from any thread when a flush task is queued. */
    private final AtomicBoolean flushQueued = new AtomicBoolean();

    /** @param helloTimeoutMs how long the connection may stay unbound; 0 = for ever */
    protected BackpressuredHandler(int maxInFlight, long helloTimeoutMs) {
        this.maxInFlight = maxInFlight;
        this.helloTimeoutMs = helloTimeoutMs;
    }

    /** Acts on one frame (never called after {@link #closeWith}). */
    protected abstract void handle(I frame);

    /** The connection stayed unbound for the hello timeout: send the typed error with {@link #closeWith}. */
    protected abstract void helloExpired(long timeoutMs);

    /** Starts the hello deadline; subclasses that refuse the connection at once do not call this. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (helloTimeoutMs > 0 && !bound) {
            helloDeadline = ctx.executor().schedule(() -> {
                if (!bound && !closing) {
                    helloExpired(helloTimeoutMs);
                }
            }, helloTimeoutMs, TimeUnit.MILLISECONDS);
        }
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelDeadline();
        super.channelInactive(ctx);
    }

    /** The peer identified itself: no hello deadline any more. */
    protected final void bound() {
        bound = true;
        cancelDeadline();
    }

    private void cancelDeadline() {
        if (helloDeadline != null) {
            helloDeadline.cancel(false);
            helloDeadline = null;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
    }

    @Override
    protected final void channelRead0(ChannelHandlerContext ctx, I frame) {
        reading = true;
        if (closing) {
            return;
        }
        if (readSuspended || !held.isEmpty()) {
            held.add(frame);
            return;
        }
        handle(frame);
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

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        updateAutoRead();
        super.channelWritabilityChanged(ctx);
    }

    /** A call was dispatched. */
    protected final void callStarted() {
        inFlight++;
        updateAutoRead();
    }

    /** A call was answered. */
    protected final void callFinished() {
        inFlight--;
        updateAutoRead();
    }

    /** Writes a frame; flushes at the end of the read batch, or with one queued flush otherwise. */
    protected final void write(Object frame) {
        ctx.write(frame);
        if (reading) {
            needsFlush = true;
        } else if (flushQueued.compareAndSet(false, true)) {
            ctx.executor().execute(() -> {
                flushQueued.set(false);
                ctx.flush();
            });
        }
    }

    /** Runs {@code r} on the event loop: at once when already on it. Any thread. */
    protected final void onLoop(Runnable r) {
        if (ctx.executor().inEventLoop()) {
            r.run();
        } else {
            ctx.executor().execute(r);
        }
    }

    protected final boolean closing() {
        return closing;
    }

    /**
     * Sends one final frame and closes after it is written (half-close, brief drain: {@link LingeringClose});
     * from here on nothing the peer sends is acted on. A second call is a no-op: the first reason wins.
     */
    protected final void closeWith(Object finalFrame) {
        if (closing) {
            return;
        }
        closing = true;
        held.clear();
        ctx.channel().config().setAutoRead(false);
        LingeringClose.writeAndClose(ctx, finalFrame);
    }

    private void updateAutoRead() {
        if (closing) {
            return; // LingeringClose owns reading now
        }
        Channel ch = ctx.channel();
        boolean shouldRead = inFlight < maxInFlight && ch.isWritable();
        if (shouldRead == readSuspended) {
            readSuspended = !shouldRead;
            ch.config().setAutoRead(shouldRead);
            if (shouldRead) {
                drainHeld();
                if (!readSuspended && held.isEmpty()) {
                    ch.read();
                }
            }
        }
    }

    /** Dispatches the frames held while reading was suspended, until it is suspended again. */
    private void drainHeld() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            I f;
            while (!readSuspended && !closing && (f = held.poll()) != null) {
                handle(f);
            }
        } finally {
            draining = false;
        }
        if (closing) {
            held.clear();
        }
    }
}
