package org.lparemu.server.control;

import java.util.concurrent.CompletableFuture;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.trace.TraceRecord;
import org.lparemu.proto.v1.AddFault;
import org.lparemu.proto.v1.AwaitHold;
import org.lparemu.proto.v1.AwaitTrace;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.ReleaseHold;
import org.lparemu.wire.ControlMapping;
import org.lparemu.wire.FaultMapping;
import org.lparemu.wire.ProtoMapping;

/**
 * Decodes control requests and calls the core (the control port's adapter, after Aeron's
 * {@code ClientCommandAdapter}): one method per operation, each reading its arguments, calling {@link Platform}
 * and handing the result to {@link ControlProxy}. Nothing here blocks: long waits are futures completed by the
 * platform. Every failure becomes a typed Error carrying the request id.
 */
public final class ControlCommandAdapter {
    /** Records returned by one GetTrace when the request does not say. */
    public static final int DEFAULT_TRACE_CHUNK = 10_000;
    public static final int MAX_TRACE_CHUNK = 100_000;
    /** AwaitTrace's wait when the request does not say. */
    static final long DEFAULT_AWAIT_TRACE_MS = 30_000;

    private final Platform platform;

    public ControlCommandAdapter(Platform platform) {
        this.platform = platform;
    }

    public Platform platform() {
        return platform;
    }

    /** Handles one request; the future always completes with a response (an Error on failure). */
    public CompletableFuture<ControlResponse> onRequest(ControlRequest req) {
        long id = req.getRequestId();
        CompletableFuture<ControlResponse> result;
        try {
            result = dispatch(id, req);
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        return result.handle((r, e) -> {
            if (e == null) {
                return r;
            }
            if (platform.isClosed()) {
                // Waits failed by the shutdown (AwaitHold, AwaitMigration ...) say so, whatever failed them.
                return ControlProxy.error(id, ErrorCode.SHUTTING_DOWN, "the daemon is shutting down ("
                        + ControlProxy.error(id, e).getError().getMessage() + ")");
            }
            return ControlProxy.error(id, e);
        });
    }

    /** An Error response for a failure that happened outside {@link #onRequest} (the handler's own errors). */
    public static ControlResponse error(long requestId, Throwable e) {
        return ControlProxy.error(requestId, e);
    }

    private CompletableFuture<ControlResponse> dispatch(long id, ControlRequest req) {
        return switch (req.getOpCase()) {
            case CREATE_PARTITION -> {
                if (!req.getCreatePartition().hasSpec()) {
                    throw new ControlException(ControlError.BAD_SPEC, "CreatePartition needs a spec");
                }
                yield done(ControlProxy.partition(id,
                        platform.createPartition(ProtoMapping.fromProto(req.getCreatePartition().getSpec()))));
            }
            case DELETE_PARTITION -> {
                platform.deletePartition(req.getDeletePartition().getPartition());
                yield done(ControlProxy.done(id));
            }
            case LIST_PARTITIONS -> done(ControlProxy.partitions(id, platform.listPartitions()));
            case GET_STATE -> done(ControlProxy.partition(id, platform.getState(req.getGetState().getPartition())));
            case RESET -> {
                platform.reset();
                yield done(ControlProxy.done(id));
            }
            case MIGRATE -> done(ControlProxy.migrate(id, platform.migrate(req.getMigrate().getPartition(),
                    req.getMigrate().getDestination())));
            case PRRN -> done(ControlProxy.prrn(id, platform.prrn(req.getPrrn().getPartition(),
                    ControlMapping.changes(req.getPrrn().getChangesList()))));
            case DLPAR_CPU -> onDlparCpu(id, req.getDlparCpu());
            case SET_QOS_CREDITS -> done(ControlProxy.eventPushed(id, platform.setQosCredits(
                    req.getSetQosCredits().getPartition(), req.getSetQosCredits().getCredits())));
            case ADD_FAULT -> onAddFault(id, req.getAddFault());
            case REMOVE_FAULT -> {
                long rule = req.getRemoveFault().getRuleId();
                if (!platform.faults().remove(rule)) {
                    throw new ControlException(ControlError.UNKNOWN_RULE, "no fault rule " + rule);
                }
                yield done(ControlProxy.count(id, 1));
            }
            case LIST_FAULTS -> done(ControlProxy.faults(id, platform.faults().list()));
            case CLEAR_FAULTS -> done(ControlProxy.count(id, platform.faults().clear()));
            case AWAIT_HOLD -> onAwaitHold(id, req.getAwaitHold());
            case RELEASE_HOLD -> onReleaseHold(id, req.getReleaseHold());
            case AWAIT_MIGRATION -> platform.awaitMigration(req.getAwaitMigration().getPartition(),
                    req.getAwaitMigration().getTimeoutMs()).thenApply(o -> ControlProxy.migration(id, o));
            case AWAIT_EVENT -> platform.awaitEvent(req.getAwaitEvent().getEventId(), req.getAwaitEvent().getTimeoutMs())
                    .thenApply(a -> ControlProxy.eventAck(id, a));
            case CHECK_INVARIANTS -> InvariantChecker.check(platform, req.getCheckInvariants().getPartition(),
                    req.getCheckInvariants().getTimeoutMs()).thenApply(r -> ControlProxy.invariants(id, r));
            case GET_TRACE -> onGetTrace(id, req.getGetTrace());
            case AWAIT_TRACE -> onAwaitTrace(id, req.getAwaitTrace());
            case OP_NOT_SET -> throw new ControlException(ControlError.UNSUPPORTED,
                    "the request has no operation, or one this daemon does not know");
        };
    }

    private CompletableFuture<ControlResponse> onDlparCpu(long id, DlparCpu d) {
        return done(ControlProxy.dlparCpu(id, platform.dlparCpu(d.getPartition(), ControlMapping.add(d.getAction()),
                d.getCores())));
    }

    private CompletableFuture<ControlResponse> onAddFault(long id, AddFault a) {
        return done(ControlProxy.addFault(id, platform.addFault(FaultMapping.fromProto(a.getRule()))));
    }

    private CompletableFuture<ControlResponse> onAwaitHold(long id, AwaitHold a) {
        return platform.awaitHold(a.getLatch(), a.getMinCount(), a.getTimeoutMs())
                .thenApply(calls -> ControlProxy.parked(id, calls));
    }

    private CompletableFuture<ControlResponse> onReleaseHold(long id, ReleaseHold r) {
        if (r.getLatch().isEmpty()) {
            throw new ControlException(ControlError.BAD_REQUEST, "ReleaseHold needs a latch name");
        }
        return done(ControlProxy.count(id, platform.holds().release(r.getLatch(), r.getCount())));
    }

    private CompletableFuture<ControlResponse> onGetTrace(long id, GetTrace g) {
        int max = g.getMaxRecords() == 0 ? DEFAULT_TRACE_CHUNK : Math.min(g.getMaxRecords(), MAX_TRACE_CHUNK);
        if (!g.getPartition().isEmpty()) {
            platform.partition(g.getPartition());
        }
        return done(ControlProxy.trace(id, platform.trace().read(g.getSinceSeq(), max, g.getPartition())));
    }

    private CompletableFuture<ControlResponse> onAwaitTrace(long id, AwaitTrace a) {
        if (a.getNameContainsCount() == 0) {
            throw new ControlException(ControlError.BAD_REQUEST, "AwaitTrace needs at least one name to look for");
        }
        if (!a.getPartition().isEmpty()) {
            platform.partition(a.getPartition());
        }
        CompletableFuture<TraceRecord> f = platform.trace().await(a.getPartition(), a.getSinceSeq(),
                r -> a.getNameContainsList().stream().anyMatch(n -> (r.kind() + " " + r.name()).contains(n)));
        CompletableFuture<TraceRecord> timed = platform.withTimeout(f,
                a.getTimeoutMs() == 0 ? DEFAULT_AWAIT_TRACE_MS : a.getTimeoutMs(),
                "no trace record named like " + a.getNameContainsList());
        // Drop the waiter before the answer is built: a dependent registered separately would run after the
        // response (dependents run newest first), so a client could still see the waiter registered.
        return timed.whenComplete((v, e) -> f.cancel(false)).thenApply(r -> ControlProxy.traceRecord(id, r));
    }

    private static CompletableFuture<ControlResponse> done(ControlResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
