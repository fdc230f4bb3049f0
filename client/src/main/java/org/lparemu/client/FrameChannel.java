package org.lparemu.client;

import com.google.protobuf.MessageLite;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.lparemu.core.port.PortException;
import org.lparemu.wire.BoundedVarint32FrameDecoder;
import org.lparemu.wire.Transports;

/**
 * A client connection speaking delimited protobuf frames, shared by {@link GuestConnection} and
 * {@link ControlClient}: one event-loop thread, writes from any thread coalesced into one flush per burst
 * (so pipelined callers get batching and a lone blocking caller still gets its frame sent at once).
 */
final class FrameChannel<I extends MessageLite> implements AutoCloseable {
    /** Replies larger than this are refused (the daemon's default maximum frame is 1 MiB). */
    static final int MAX_INBOUND_FRAME = 64 << 20;

    private final EventLoopGroup group;
    private final Channel channel;
    private final AtomicBoolean flushQueued = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Object> outbox = new ConcurrentLinkedQueue<>();

    FrameChannel(String host, int port, I prototype, Consumer<I> onFrame, Consumer<Throwable> onClose,
                 long connectTimeoutMs, String threadName) {
        group = Transports.group(1, threadName);
        try {
            Bootstrap b = new Bootstrap().group(group).channel(Transports.clientChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeoutMs)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new BoundedVarint32FrameDecoder(MAX_INBOUND_FRAME),
                                    new ProtobufDecoder(prototype), new ProtobufVarint32LengthFieldPrepender(),
                                    new ProtobufEncoder(), new SimpleChannelInboundHandler<I>() {
                                        @Override
                                        protected void channelRead0(ChannelHandlerContext ctx, I msg) {
                                            onFrame.accept(msg);
                                        }

                                        @Override
                                        public void channelInactive(ChannelHandlerContext ctx) {
                                            onClose.accept(null);
                                        }

                                        @Override
                                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                            onClose.accept(cause);
                                            ctx.close();
                                        }
                                    });
                        }
                    });
            var f = b.connect(new InetSocketAddress(host, port)).awaitUninterruptibly();
            if (!f.isSuccess()) {
                throw new PortException("cannot connect to lparemu daemon at " + host + ":" + port + ": "
                        + (f.cause() == null ? "timed out" : f.cause().getMessage()), f.cause());
            }
            channel = f.channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    boolean isActive() {
        return channel.isActive();
    }

    /**
     * Queues a frame; one task on the event loop writes everything queued and flushes once, so a burst from
     * many threads becomes one write syscall. (Writing from outside the loop directly would be queued lazily
     * by Netty and could land after the flush.) Returns false when the channel is closed.
     */
    boolean send(Object frame) {
        if (!channel.isActive()) {
            return false;
        }
        outbox.add(frame);
        if (flushQueued.compareAndSet(false, true)) {
            channel.eventLoop().execute(this::drain);
        }
        return true;
    }

    private void drain() {
        flushQueued.set(false);
        for (Object f; (f = outbox.poll()) != null; ) {
            channel.write(f, channel.voidPromise());
        }
        channel.flush();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
}
