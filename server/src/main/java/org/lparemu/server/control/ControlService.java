package org.lparemu.server.control;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.DeviceTreeChange;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.Triggers;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.Partition;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.trace.TraceRecord;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.proto.v1.AddFaultResult;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventPushed;
import org.lparemu.proto.v1.FaultList;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.Violation;
import org.lparemu.proto.v1.MigrateResult;
import org.lparemu.proto.v1.ParkedCalls;
import org.lparemu.proto.v1.PrrnResult;
import org.lparemu.proto.v1.Trigger;
import org.lparemu.wire.FaultMapping;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.Count;
import org.lparemu.proto.v1.Empty;
import org.lparemu.proto.v1.Error;
import org.lparemu.proto.v1.PartitionList;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.wire.ProtoMapping;

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
            if (platform.isClosed()) {
                // Waits failed by the shutdown (AwaitHold, AwaitMigration ...) say so, whatever failed them.
                return ControlResponse.newBuilder().setRequestId(req.getRequestId()).setError(Error.newBuilder()
                        .setCode(org.lparemu.proto.v1.ErrorCode.SHUTTING_DOWN)
                        .setMessage("the daemon is shutting down (" + error(0, e).getError().getMessage() + ")"))
                        .build();
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
        // A wait on a hold failed by Reset is a state change, not a daemon fault.
        ControlError code = c instanceof ControlException ce ? ce.code()
                : c instanceof org.lparemu.core.fault.Holds.HoldFailed ? ControlError.INVALID_STATE : ControlError.INTERNAL;
        String message = c instanceof ControlException || c instanceof org.lparemu.core.fault.Holds.HoldFailed
                ? c.getMessage() : c.toString();
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
            case AWAIT_TRACE -> {
                var a = req.getAwaitTrace();
                if (a.getNameContainsCount() == 0) {
                    throw new ControlException(ControlError.BAD_REQUEST, "AwaitTrace needs at least one name to look for");
                }
                if (!a.getPartition().isEmpty()) {
                    platform.partition(a.getPartition());
                }
                var f = platform.trace().await(a.getPartition(), a.getSinceSeq(),
                        r -> a.getNameContainsList().stream().anyMatch(n -> (r.kind() + " " + r.name()).contains(n)));
                var timed = platform.withTimeout(f, a.getTimeoutMs() == 0 ? 30_000 : a.getTimeoutMs(),
                        "no trace record named like " + a.getNameContainsList());
                // Drop the waiter before the answer is built: a dependent registered separately would run after
                // the response (dependents run newest first), so a client could still see the waiter registered.
                yield timed.whenComplete((v, e) -> f.cancel(false))
                        .thenApply(r -> ControlResponse.newBuilder().setTraceRecord(toProto(r)));
            }
            case GET_TRACE -> done(ControlResponse.newBuilder().setTrace(trace(req.getGetTrace())));
            case MIGRATE -> {
                var m = platform.migrate(req.getMigrate().getPartition(), req.getMigrate().getDestination());
                yield done(ControlResponse.newBuilder().setMigrate(MigrateResult.newBuilder().setStreamId(m.streamId())
                        .setEventId(m.eventId()).setDestination(m.destination())));
            }
            case PRRN -> {
                var r = platform.prrn(req.getPrrn().getPartition(), changes(req.getPrrn().getChangesList()));
                yield done(ControlResponse.newBuilder().setPrrn(PrrnResult.newBuilder().setScope(r.scope())
                        .setEventId(r.eventId()).setDeviceTreeGeneration(r.deviceTreeGeneration())));
            }
            case DLPAR_CPU -> {
                var d = req.getDlparCpu();
                var r = platform.dlparCpu(d.getPartition(), action(d.getAction()), (int) d.getCores());
                yield done(ControlResponse.newBuilder().setDlparCpu(DlparCpuResult.newBuilder().setCores(r.cores())
                        .setTargetCredits(r.targetCredits()).addAllEventIds(r.eventIds())));
            }
            case SET_QOS_CREDITS -> {
                long id = platform.setQosCredits(req.getSetQosCredits().getPartition(),
                        (int) req.getSetQosCredits().getCredits());
                yield done(ControlResponse.newBuilder().setEventPushed(EventPushed.newBuilder().setEventId(id)));
            }
            case AWAIT_MIGRATION -> platform.awaitMigration(req.getAwaitMigration().getPartition(),
                    req.getAwaitMigration().getTimeoutMs()).thenApply(o -> ControlResponse.newBuilder()
                    .setMigration(outcome(o)));
            case ADD_FAULT -> {
                var rule = FaultMapping.fromProto(req.getAddFault().getRule(), this::trigger);
                long id = platform.addFault(rule);
                originals.put(id, req.getAddFault().getRule());
                yield done(ControlResponse.newBuilder().setAddFault(AddFaultResult.newBuilder().setRuleId(id)));
            }
            case REMOVE_FAULT -> {
                long id = req.getRemoveFault().getRuleId();
                if (!platform.faults().remove(id)) {
                    throw new ControlException(ControlError.UNKNOWN_RULE, "no fault rule " + id);
                }
                originals.remove(id);
                yield done(count(1));
            }
            case LIST_FAULTS -> {
                FaultList.Builder l = FaultList.newBuilder();
                for (var st : platform.faults().list()) {
                    l.addRules(FaultMapping.toProto(st, originals.get(st.id())));
                }
                yield done(ControlResponse.newBuilder().setFaults(l));
            }
            case CLEAR_FAULTS -> {
                int n = platform.faults().clear();
                originals.clear();
                yield done(count(n));
            }
            case AWAIT_HOLD -> platform.awaitHold(req.getAwaitHold().getLatch(), req.getAwaitHold().getMinCount(),
                    req.getAwaitHold().getTimeoutMs()).thenApply(calls -> {
                        ParkedCalls.Builder b = ParkedCalls.newBuilder();
                        calls.forEach(c -> b.addCalls(FaultMapping.toProto(c)));
                        return ControlResponse.newBuilder().setParked(b);
                    });
            case RELEASE_HOLD -> {
                if (req.getReleaseHold().getLatch().isEmpty()) {
                    throw new ControlException(ControlError.BAD_REQUEST, "ReleaseHold needs a latch name");
                }
                yield done(count(platform.holds().release(req.getReleaseHold().getLatch(),
                        (int) req.getReleaseHold().getCount())));
            }
            case CHECK_INVARIANTS -> InvariantChecker.check(platform, req.getCheckInvariants().getPartition(),
                    req.getCheckInvariants().getTimeoutMs()).thenApply(r -> {
                        InvariantReport.Builder b = InvariantReport.newBuilder()
                                .setPartitionsChecked(r.partitionsChecked())
                                .setGuestReportsCompared(r.guestReportsCompared());
                        for (var v : r.violations()) {
                            b.addViolations(Violation.newBuilder().setName(v.name()).setLocation(v.location())
                                    .setDetail(v.detail()).setOracle(v.oracle()));
                        }
                        return ControlResponse.newBuilder().setInvariants(b);
                    });
            case OP_NOT_SET -> throw new ControlException(ControlError.UNSUPPORTED,
                    "the request has no operation, or one this daemon does not know");
        };
    }

    /** Rules as clients sent them, so ListFaults shows triggers exactly. */
    private final java.util.concurrent.ConcurrentHashMap<Long, org.lparemu.proto.v1.FaultRule> originals =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static boolean action(DlparAction a) {
        return switch (a) {
            case ADD -> true;
            case REMOVE -> false;
            default -> throw new ControlException(ControlError.BAD_REQUEST, "DlparCpu needs action ADD or REMOVE");
        };
    }

    /** The core form of a PRRN change list; BAD_REQUEST for an empty change. */
    public static List<DeviceTreeChange> changes(List<org.lparemu.proto.v1.DeviceTreeChange> in) {
        List<DeviceTreeChange> out = new ArrayList<>();
        for (var c : in) {
            out.add(switch (c.getChangeCase()) {
                case SET_PROPERTY -> DeviceTreeChange.setProperty(c.getPath(), c.getSetProperty().getName(),
                        c.getSetProperty().getValue().toByteArray());
                case DELETE_PROPERTY -> DeviceTreeChange.deleteProperty(c.getPath(), c.getDeleteProperty());
                case ADD_NODE -> {
                    Map<String, byte[]> props = new LinkedHashMap<>();
                    c.getAddNode().getPropertiesList().forEach(p -> props.put(p.getName(), p.getValue().toByteArray()));
                    yield DeviceTreeChange.addNode(c.getPath(), props);
                }
                case DELETE_NODE -> DeviceTreeChange.deleteNode(c.getPath());
                case CHANGE_NOT_SET -> throw new ControlException(ControlError.BAD_REQUEST,
                        "device-tree change for " + c.getPath() + " says nothing to change");
            });
        }
        return out;
    }

    private FaultAction.OperatorAction trigger(Trigger t) {
        return switch (t.getOpCase()) {
            case MIGRATE -> new Triggers.Migrate(t.getMigrate().getPartition(), t.getMigrate().getDestination());
            case PRRN -> new Triggers.Prrn(t.getPrrn().getPartition(), changes(t.getPrrn().getChangesList()));
            case DLPAR_CPU -> new Triggers.DlparCpu(t.getDlparCpu().getPartition(),
                    action(t.getDlparCpu().getAction()), (int) t.getDlparCpu().getCores());
            case SET_QOS_CREDITS -> new Triggers.SetQosCredits(t.getSetQosCredits().getPartition(),
                    (int) t.getSetQosCredits().getCredits());
            case OP_NOT_SET -> throw new ControlException(ControlError.BAD_REQUEST, "a Trigger needs an operation");
        };
    }

    public static org.lparemu.proto.v1.MigrationOutcome outcome(MigrationOutcome o) {
        return org.lparemu.proto.v1.MigrationOutcome.newBuilder().setSuccess(o.success()).setAttempts(o.attempts())
                .addAllRtasStatuses(o.rtasStatuses()).setVasiState(ProtoMapping.toProto(o.vasiState()))
                .setReason(o.reason() == null ? "" : o.reason()).setStreamId(o.streamId())
                .setSource(o.source() == null ? "" : o.source())
                .setDestination(o.destination() == null ? "" : o.destination()).setHcalls(o.hcalls())
                .setDurationNanos(o.durationNanos()).build();
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
