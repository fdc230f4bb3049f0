package org.lparemu.server;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.codec.protobuf.ProtobufEncoder;
import io.netty.handler.codec.protobuf.ProtobufVarint32LengthFieldPrepender;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.server.connection.Connections;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.connection.RateLimitedLog;
import org.lparemu.server.control.ControlCommandAdapter;
import org.lparemu.server.control.ControlHandler;
import org.lparemu.wire.BoundedVarint32FrameDecoder;

/**
 * The control port's pipeline: connection limiter -> bounded varint32 frame decoder -> ControlRequest decoder ->
 * length prepender + protobuf encoder -> one {@link ControlHandler} per connection, all sharing one
 * {@link ControlCommandAdapter}.
 */
final class ControlServerInitializer extends ChannelInitializer<SocketChannel> {
    private final ControlCommandAdapter adapter;
    private final PlatformConfig.Limits limits;
    private final String controlToken;
    private final ConnectionLimiter limiter;
    private final ChannelGroup channels;
    private final DistinctErrorLog errors;
    private final RateLimitedLog connectionLog;

    ControlServerInitializer(ControlCommandAdapter adapter, String controlToken, ConnectionLimiter limiter,
                             ChannelGroup channels, DistinctErrorLog errors, RateLimitedLog connectionLog) {
        this.adapter = adapter;
        this.limits = adapter.platform().config().limits();
        this.controlToken = controlToken;
        this.limiter = limiter;
        this.channels = channels;
        this.errors = errors;
        this.connectionLog = connectionLog;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.attr(Connections.PORT).set("control");
        channels.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast("limit", limiter);
        p.addLast("frame", new BoundedVarint32FrameDecoder(limits.maxFrameBytes()));
        p.addLast("decode", new ProtobufDecoder(ControlRequest.getDefaultInstance()));
        p.addLast("prepend", new ProtobufVarint32LengthFieldPrepender());
        p.addLast("encode", new ProtobufEncoder());
        p.addLast("control", new ControlHandler(adapter, errors, connectionLog, controlToken,
                limits.maxInFlightPerConnection(), limits.helloTimeoutMs()));
    }
}
