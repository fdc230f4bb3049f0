package org.lparemu.server;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicInteger;
import org.lparemu.server.connection.Connections;

/**
 * Counts open connections on both ports and marks a channel as over the limit, so its protocol handler can
 * answer TOO_MANY_CONNECTIONS and close it (rather than the listener silently dropping it).
 */
@ChannelHandler.Sharable
public final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();

    public ConnectionLimiter(int max) {
        this.max = max;
    }

    public int open() {
        return open.get();
    }

    /** Claims a slot; false when the limit is reached (the slot is not taken). */
    public boolean tryAcquire() {
        while (true) {
            int n = open.get();
            if (n >= max) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void release() {
        open.decrementAndGet();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (tryAcquire()) {
            ctx.channel().closeFuture().addListener(f -> release());
        } else {
            ctx.channel().attr(Connections.OVER_LIMIT).set(Boolean.TRUE);
        }
        super.channelActive(ctx);
    }
}
