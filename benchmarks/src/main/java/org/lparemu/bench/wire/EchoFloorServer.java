package org.lparemu.bench.wire;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
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
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.Welcome;
import org.lparemu.wire.Transports;

/**
 * The floor: a raw Netty protobuf echo server with the daemon's framing, transport and settings (varint32
 * delimited GuestFrame in, HostFrame out, same transport, one IO thread, TCP_NODELAY, write per message and
 * one flush per read batch) and no emulator behind it: each HcallRequest is answered at once with the
 * daemon's captured reply carrying the request's call id. What the daemon costs beyond this is the emulator.
 */
public final class EchoFloorServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel server;

    private EchoFloorServer(ReplyTemplate template) throws InterruptedException {
        group = Transports.group(1, "floor-io");
        Handler handler = new Handler(template);
        try {
            server = new ServerBootstrap().group(group).channel(Transports.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new ProtobufVarint32FrameDecoder(),
                                    new ProtobufDecoder(GuestFrame.getDefaultInstance()),
                                    new ProtobufVarint32LengthFieldPrepender(), new ProtobufEncoder(), handler);
                        }
                    }).bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    public static EchoFloorServer start(ReplyTemplate template) throws InterruptedException {
        return new EchoFloorServer(template);
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @ChannelHandler.Sharable
    private static final class Handler extends SimpleChannelInboundHandler<GuestFrame> {
        private final ReplyTemplate template;

        Handler(ReplyTemplate template) {
            this.template = template;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, GuestFrame f) {
            switch (f.getKindCase()) {
                case HCALL -> ctx.write(template.reply(f.getHcall().getCallId()), ctx.voidPromise());
                case HELLO -> ctx.write(HostFrame.newBuilder().setWelcome(Welcome.newBuilder()
                        .setPartition(f.getHello().getPartition()).setProtocolVersion(1)).build(), ctx.voidPromise());
                default -> {
                }
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!(cause instanceof IOException)) {
                cause.printStackTrace();
            }
            ctx.close();
        }
    }
}
