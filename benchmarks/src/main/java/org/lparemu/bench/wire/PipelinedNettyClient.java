package org.lparemu.bench.wire;

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
import io.netty.handler.codec.protobuf.ProtobufVarint32FrameDecoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.wire.Transports;

/**
 * The pipelined client for the daemon and the floor: N connections on one client IO thread, each keeping
 * {@code depth} HcallRequests in flight. A reply's slot carries the next request at once (written, not
 * flushed); the connection flushes once per read batch, the same batching the daemon does.
 */
public final class PipelinedNettyClient extends ClosedLoopLoad {
    private static final int RING = 4096;

    private final EventLoopGroup group;
    private final List<Conn> conns = new ArrayList<>();
    private final Workload workload;
    private final long expectedStatus;

    public PipelinedNettyClient(int port, Workload workload, long expectedStatus, int connections, int depth)
            throws Exception {
        super(connections, depth);
        if (depth > RING / 4) {
            throw new IllegalArgumentException("depth " + depth + " too large");
        }
        this.workload = workload;
        this.expectedStatus = expectedStatus;
        group = Transports.group(1, "bench-client-io");
        try {
            for (int i = 0; i < connections; i++) {
                Conn c = new Conn();
                Channel ch = new Bootstrap().group(group).channel(Transports.clientChannel())
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel sc) {
                                sc.pipeline().addLast(new ProtobufVarint32FrameDecoder(),
                                        new ProtobufDecoder(HostFrame.getDefaultInstance()),
                                        new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder(), c);
                            }
                        }).connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
                c.channel = ch;
                conns.add(c);
                ch.writeAndFlush(Workload.hello("bench-pipelined-" + i));
                c.welcome.get(10, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    @Override
    protected void startAll() {
        for (Conn c : conns) {
            c.channel.eventLoop().execute(c::kick);
        }
    }

    @Override
    public void close() {
        for (Conn c : conns) {
            c.channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** One connection; every field is touched only on its event loop. */
    private final class Conn extends SimpleChannelInboundHandler<HostFrame> {
        final CompletableFuture<Void> welcome = new CompletableFuture<>();
        final long[] sentAt = new long[RING];
        Channel channel;
        long nextId = 1;

        void kick() {
            for (int i = 0; i < depth; i++) {
                slotOpened();
                send();
            }
            channel.flush();
        }

        void send() {
            long id = nextId++;
            sentAt[(int) (id & (RING - 1))] = System.nanoTime();
            channel.write(workload.frame(id), channel.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HostFrame f) {
            if (f.hasHcall()) {
                long id = f.getHcall().getCallId();
                long latency = System.nanoTime() - sentAt[(int) (id & (RING - 1))];
                boolean ok = f.getHcall().getStatus() == expectedStatus;
                if (answered(latency, ok, f)) {
                    send();
                }
            } else if (f.hasWelcome()) {
                welcome.complete(null);
            } else {
                welcome.completeExceptionally(new IllegalStateException("unexpected frame " + f));
                answered(0, false, f);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            welcome.completeExceptionally(cause);
            ctx.close();
        }
    }
}
