package org.lparemu.server.connection;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection after its last frame (a ProtocolError, an UNAUTHENTICATED error) so that the peer can
 * read that frame. Closing a TCP socket that still has unread input makes the kernel send RST, and a peer
 * that is still writing (the rest of an oversized frame, more pipelined calls) then gets "connection reset"
 * and may never see the error. So: write the frame, shut our output down (FIN), keep reading and discarding
 * for at most {@link #LINGER_MS}, then close; a peer that closes first ends it sooner. The caller has already
 * stopped acting on anything the peer sends.
 */
public final class LingeringClose {
    /** Longest a closing connection keeps draining its peer's input. */
    public static final long LINGER_MS = 1000;

    private LingeringClose() {
    }

    /** Writes {@code lastFrame}, then closes as described above. Event loop only. */
    public static void writeAndClose(ChannelHandlerContext ctx, Object lastFrame) {
        ctx.writeAndFlush(lastFrame).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() || !(f.channel() instanceof DuplexChannel dc) || !dc.isActive()) {
                ctx.close();
                return;
            }
            dc.shutdownOutput().addListener((ChannelFutureListener) s -> {
                if (!s.isSuccess()) {
                    ctx.close();
                    return;
                }
                ctx.executor().schedule(() -> {
                    ctx.close();
                }, LINGER_MS, TimeUnit.MILLISECONDS);
                dc.config().setAutoRead(true);
            });
        });
    }
}
