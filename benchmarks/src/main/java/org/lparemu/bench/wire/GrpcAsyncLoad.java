package org.lparemu.bench.wire;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.proto.v1.HostFrame;

/**
 * The pipelined load against the gRPC baseline: N channels, {@code depth} async unary calls in flight per
 * channel ({@link ClientCalls#asyncUnaryCall}, what the async stub does); each completion issues the next call.
 */
public final class GrpcAsyncLoad extends ClosedLoopLoad {
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final Workload workload;
    private final long expectedStatus;
    private final AtomicLong nextId = new AtomicLong(1);

    public GrpcAsyncLoad(GrpcBaseline server, Workload workload, long expectedStatus, int connections, int depth) {
        super(connections, depth);
        this.workload = workload;
        this.expectedStatus = expectedStatus;
        for (int i = 0; i < connections; i++) {
            ManagedChannel ch = server.channel();
            // Connect now, not on the first measured call.
            GrpcBaseline.blockingCall(ch, workload.frame(0));
            channels.add(ch);
        }
    }

    @Override
    protected void startAll() {
        for (ManagedChannel ch : channels) {
            for (int i = 0; i < depth; i++) {
                slotOpened();
                issue(ch);
            }
        }
    }

    private void issue(ManagedChannel ch) {
        long id = nextId.getAndIncrement();
        ClientCalls.asyncUnaryCall(ch.newCall(GrpcBaseline.HCALL, CallOptions.DEFAULT), workload.frame(id),
                new StreamObserver<HostFrame>() {
                    final long t0 = System.nanoTime();
                    boolean ok;
                    Object detail;

                    @Override
                    public void onNext(HostFrame f) {
                        ok = f.hasHcall() && f.getHcall().getCallId() == id && f.getHcall().getStatus() == expectedStatus;
                        detail = f;
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (answered(System.nanoTime() - t0, false, t)) {
                            issue(ch);
                        }
                    }

                    @Override
                    public void onCompleted() {
                        if (answered(System.nanoTime() - t0, ok, detail)) {
                            issue(ch);
                        }
                    }
                });
    }

    @Override
    public void close() {
        channels.forEach(GrpcBaseline::shutdown);
    }
}
