package org.lparemu.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.server.connection.Connections;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.connection.RateLimitedLog;
import org.lparemu.server.guest.GuestHandler;
import org.lparemu.server.metrics.CallMetrics;
import org.lparemu.wire.BoundedVarint32FrameDecoder;
import org.lparemu.wire.GuestFrameDecoder;

/**
 * The guest port's pipeline: connection limiter -> bounded varint32 frame decoder -> GuestFrame decoder ->
 * length prepender + protobuf encoder -> one {@link GuestHandler} per connection.
 */
final class GuestServerInitializer extends ChannelInitializer<SocketChannel> {
    private final Platform platform;
    private final ConnectionLimiter limiter;
    private final ChannelGroup channels;
    private final DistinctErrorLog errors;
    private final RateLimitedLog connectionLog;
    /** Null when the daemon serves no metrics. */
    private final CallMetrics metrics;

    GuestServerInitializer(Platform platform, ConnectionLimiter limiter, ChannelGroup channels, DistinctErrorLog errors,
                           RateLimitedLog connectionLog, CallMetrics metrics) {
        this.platform = platform;
        this.limiter = limiter;
        this.channels = channels;
        this.errors = errors;
        this.connectionLog = connectionLog;
        this.metrics = metrics;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.attr(Connections.PORT).set("guest");
        channels.add(ch);
        var limits = platform.config().limits();
        ChannelPipeline p = ch.pipeline();
        p.addLast("limit", limiter);
        p.addLast("frame", new BoundedVarint32FrameDecoder(limits.maxFrameBytes()));
        p.addLast("decode", new GuestFrameDecoder());
        p.addLast("prepend", new ProtobufVarint32LengthFieldPrepender());
        p.addLast("encode", new ProtobufEncoder());
        p.addLast("session", new GuestHandler(platform, errors, connectionLog, limits.maxInFlightPerConnection(),
                limits.helloTimeoutMs(), metrics));
    }
}
