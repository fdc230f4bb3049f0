package org.lparemu.server.control;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.Partition;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.trace.TraceRecord;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.Count;
import org.lparemu.proto.v1.Empty;
import org.lparemu.proto.v1.Error;
import org.lparemu.proto.v1.PartitionList;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.server.wire.ProtoMapping;

/**
 * Decodes control requests into platform operations and encodes their results (the control port's
 * adapter). Every failure becomes a typed {@code Error} carrying the request id; nothing here blocks: long
 * waits are futures completed by the platform.
 */
public final class ControlService {
    /** Records returned by one GetTrace when the request does not say. */
    public static final int DEFAULT_TRACE_CHUNK = 10_000;
    public static final int MAX_TRACE_CHUNK = 100_000;

    private final Platform platform;

    public ControlService(Platform platform) {
        this.platform = platform;
    }

    public Platform platform() {
        return platform;
    }

    /** Handles one request; the future always completes with a response (an Error on failure). */
    public CompletableFuture<ControlResponse> handle(ControlRequest req) {
        CompletableFuture<ControlResponse.Builder> result;
        try {
            result = dispatch(req);
        } catch (ControlException e) {
            result = CompletableFuture.failedFuture(e);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(new ControlException(ControlError.INTERNAL, e.toString()));
        }
        return result.handle((b, e) -> {
            if (e == null) {
                return b.setRequestId(req.getRequestId()).build();
            }
            return error(req.getRequestId(), e);
        });
    }

    /** An Error response for a failure, unwrapping completion wrappers. */
    public static ControlResponse error(long requestId, Throwable e) {
        Throwable c = e;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        ControlError code = c instanceof ControlException ce ? ce.code() : ControlError.INTERNAL;
        String message = c instanceof ControlException ? c.getMessage() : c.toString();
        return ControlResponse.newBuilder().setRequestId(requestId)
                .setError(Error.newBuilder().setCode(ProtoMapping.toProto(code)).setMessage(message)).build();
    }

    private CompletableFuture<ControlResponse.Builder> dispatch(ControlRequest req) {
        return switch (req.getOpCase()) {
            case CREATE_PARTITION -> {
                if (!req.getCreatePartition().hasSpec()) {
                    throw new ControlException(ControlError.BAD_SPEC, "CreatePartition needs a spec");
                }
                PartitionView v = platform.createPartition(ProtoMapping.fromProto(req.getCreatePartition().getSpec()));
                yield done(ControlResponse.newBuilder().setPartition(ProtoMapping.toProto(v)));
            }
            case DELETE_PARTITION -> {
                platform.deletePartition(req.getDeletePartition().getPartition());
                yield done(ControlResponse.newBuilder().setDone(Empty.getDefaultInstance()));
            }
            case LIST_PARTITIONS -> {
                PartitionList.Builder l = PartitionList.newBuilder();
                platform.listPartitions().forEach(s -> l.addPartitions(ProtoMapping.toProto(s)));
                yield done(ControlResponse.newBuilder().setPartitions(l));
            }
            case GET_STATE -> done(ControlResponse.newBuilder()
                    .setPartition(ProtoMapping.toProto(platform.getState(req.getGetState().getPartition()))));
            case RESET -> {
                platform.reset();
                yield done(ControlResponse.newBuilder().setDone(Empty.getDefaultInstance()));
            }
            case AWAIT_EVENT -> platform.awaitEvent(req.getAwaitEvent().getEventId(), req.getAwaitEvent().getTimeoutMs())
                    .thenApply(ControlService::eventAck);
            case GET_TRACE -> done(ControlResponse.newBuilder().setTrace(trace(req.getGetTrace())));
            case MIGRATE, PRRN, DLPAR_CPU, SET_QOS_CREDITS, AWAIT_MIGRATION, ADD_FAULT, REMOVE_FAULT, LIST_FAULTS,
                    CLEAR_FAULTS, AWAIT_HOLD, RELEASE_HOLD, CHECK_INVARIANTS -> throw new ControlException(
                    ControlError.UNSUPPORTED, req.getOpCase() + " is not supported by this daemon yet");
            case OP_NOT_SET -> throw new ControlException(ControlError.UNSUPPORTED,
                    "the request has no operation, or one this daemon does not know");
        };
    }

    private static ControlResponse.Builder eventAck(Partition.EventAck a) {
        return ControlResponse.newBuilder().setEventAck(org.lparemu.proto.v1.EventAck.newBuilder()
                .setEventId(a.eventId()).setStatus(a.status()).setDetail(a.detail()));
    }

    private TraceChunk trace(org.lparemu.proto.v1.GetTrace req) {
        int max = req.getMaxRecords() == 0 ? DEFAULT_TRACE_CHUNK : Math.min(req.getMaxRecords(), MAX_TRACE_CHUNK);
        if (!req.getPartition().isEmpty()) {
            platform.partition(req.getPartition());
        }
        TraceRing.Chunk c = platform.trace().read(req.getSinceSeq(), max, req.getPartition());
        TraceChunk.Builder b = TraceChunk.newBuilder().setLastSeq(c.lastSeq()).setDropped(c.dropped());
        for (TraceRecord r : c.records()) {
            b.addRecords(toProto(r));
        }
        return b.build();
    }

    static org.lparemu.proto.v1.TraceRecord toProto(TraceRecord r) {
        org.lparemu.proto.v1.TraceRecord.Builder b = org.lparemu.proto.v1.TraceRecord.newBuilder().setSeq(r.seq())
                .setNanos(r.nanos()).setKind(TraceKind.valueOf(r.kind().name())).setPartition(r.partition())
                .setVcpu(Math.max(r.vcpu(), 0)).setTask(r.task()).setName(r.name()).setStatus(r.status())
                .setBeginSeq(r.beginSeq()).setBeginNanos(r.beginNanos()).setDetail(r.detail()).setOpcode(r.opcode());
        for (long a : r.args()) {
            b.addArgs(a);
        }
        return b.build();
    }

    static <T> CompletableFuture<T> done(T v) {
        return CompletableFuture.completedFuture(v);
    }

    /** Count result helper. */
    static ControlResponse.Builder count(long n) {
        return ControlResponse.newBuilder().setCount(Count.newBuilder().setValue(n));
    }
}
