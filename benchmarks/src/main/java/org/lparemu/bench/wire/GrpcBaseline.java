package org.lparemu.bench.wire;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HostFrame;

/**
 * The gRPC-java baseline: what someone would build instead of the emulator's protocol. One unary method
 * {@code lparemu.bench.Hcalls/Hcall(GuestFrame) returns (HostFrame)} over grpc-netty-shaded, plaintext, carrying
 * the same request and reply messages as the daemon, answered at once from the {@link ReplyTemplate}. The
 * method descriptor is written by hand with {@link ProtoUtils#marshaller} (no gRPC code generation).
 */
public final class GrpcBaseline implements AutoCloseable {
    public static final MethodDescriptor<GuestFrame, HostFrame> HCALL = MethodDescriptor.<GuestFrame, HostFrame>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("lparemu.bench.Hcalls", "Hcall"))
            .setRequestMarshaller(ProtoUtils.marshaller(GuestFrame.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(HostFrame.getDefaultInstance()))
            .build();

    private final Server server;
    private final boolean directExecutor;

    private GrpcBaseline(ReplyTemplate template, boolean directExecutor) throws IOException {
        this.directExecutor = directExecutor;
        ServerServiceDefinition service = ServerServiceDefinition.builder("lparemu.bench.Hcalls")
                .addMethod(HCALL, ServerCalls.asyncUnaryCall((req, obs) -> {
                    obs.onNext(template.reply(req.getHcall().getCallId()));
                    obs.onCompleted();
                }))
                .build();
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(service);
        if (directExecutor) {
            b.directExecutor();
        }
        server = b.build().start();
    }

    /**
     * A server with default settings (its default executor, a cached thread pool) or, with
     * {@code directExecutor}, one that runs the handler on its transport thread.
     */
    public static GrpcBaseline start(ReplyTemplate template, boolean directExecutor) throws IOException {
        return new GrpcBaseline(template, directExecutor);
    }

    public int port() {
        return server.getPort();
    }

    /** A new channel to this server; with directExecutor when the server has it too. */
    public ManagedChannel channel() {
        NettyChannelBuilder b = NettyChannelBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                port())).usePlaintext();
        if (directExecutor) {
            b.directExecutor();
        }
        return b.build();
    }

    /** One blocking unary call. */
    public static HostFrame blockingCall(ManagedChannel channel, GuestFrame request) {
        return ClientCalls.blockingUnaryCall(channel, HCALL, CallOptions.DEFAULT, request);
    }

    public static void shutdown(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
