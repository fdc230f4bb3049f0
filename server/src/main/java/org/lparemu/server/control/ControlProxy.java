package org.lparemu.server.control;

import java.util.List;
import java.util.concurrent.CompletionException;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.fault.FaultPlan;
import org.lparemu.core.fault.Holds;
import org.lparemu.core.fault.ParkedCall;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.OperatorResults;
import org.lparemu.core.hypervisor.Partition;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.trace.TraceRecord;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.proto.v1.AddFaultResult;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.Count;
import org.lparemu.proto.v1.Empty;
import org.lparemu.proto.v1.Error;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventPushed;
import org.lparemu.proto.v1.FaultList;
import org.lparemu.proto.v1.ParkedCalls;
import org.lparemu.proto.v1.PartitionList;
import org.lparemu.wire.ControlMapping;
import org.lparemu.wire.FaultMapping;
import org.lparemu.wire.ProtoMapping;

/**
 * Encodes the core's answers to control operations as responses (the control port's proxy, after Aeron's
 * {@code ClientProxy}): one method per kind of result, each returning the response to send with the request's
 * id. It decides nothing; {@link ControlCommandAdapter} decodes and acts.
 */
final class ControlProxy {
    private ControlProxy() {
    }

    static ControlResponse partition(long id, PartitionView v) {
        return response(id).setPartition(ProtoMapping.toProto(v)).build();
    }

    static ControlResponse partitions(long id, List<PartitionView.Summary> all) {
        PartitionList.Builder l = PartitionList.newBuilder();
        all.forEach(s -> l.addPartitions(ProtoMapping.toProto(s)));
        return response(id).setPartitions(l).build();
    }

    static ControlResponse done(long id) {
        return response(id).setDone(Empty.getDefaultInstance()).build();
    }

    static ControlResponse count(long id, long n) {
        return response(id).setCount(Count.newBuilder().setValue(n)).build();
    }

    static ControlResponse migrate(long id, OperatorResults.MigrateResult m) {
        return response(id).setMigrate(ControlMapping.toProto(m)).build();
    }

    static ControlResponse prrn(long id, OperatorResults.PrrnResult r) {
        return response(id).setPrrn(ControlMapping.toProto(r)).build();
    }

    static ControlResponse dlparCpu(long id, OperatorResults.DlparCpuResult r) {
        return response(id).setDlparCpu(ControlMapping.toProto(r)).build();
    }

    static ControlResponse eventPushed(long id, long eventId) {
        return response(id).setEventPushed(EventPushed.newBuilder().setEventId(eventId)).build();
    }

    static ControlResponse migration(long id, MigrationOutcome o) {
        return response(id).setMigration(ControlMapping.toProto(o)).build();
    }

    static ControlResponse eventAck(long id, Partition.EventAck a) {
        return response(id).setEventAck(ControlMapping.toProto(a)).build();
    }

    static ControlResponse addFault(long id, long ruleId) {
        return response(id).setAddFault(AddFaultResult.newBuilder().setRuleId(ruleId)).build();
    }

    static ControlResponse faults(long id, List<FaultPlan.RuleStatus> rules) {
        FaultList.Builder l = FaultList.newBuilder();
        rules.forEach(r -> l.addRules(FaultMapping.toProto(r)));
        return response(id).setFaults(l).build();
    }

    static ControlResponse parked(long id, List<ParkedCall> calls) {
        ParkedCalls.Builder b = ParkedCalls.newBuilder();
        calls.forEach(c -> b.addCalls(FaultMapping.toProto(c)));
        return response(id).setParked(b).build();
    }

    static ControlResponse invariants(long id, InvariantReport r) {
        return response(id).setInvariants(ControlMapping.toProto(r)).build();
    }

    static ControlResponse trace(long id, TraceRing.Chunk c) {
        return response(id).setTrace(ControlMapping.toProto(c)).build();
    }

    static ControlResponse traceRecord(long id, TraceRecord r) {
        return response(id).setTraceRecord(ControlMapping.toProto(r)).build();
    }

    /**
     * An Error response for a failure, unwrapping completion wrappers: a {@link ControlException} keeps its
     * code; a wait on a hold failed by Reset is a state change (INVALID_STATE), anything else is INTERNAL.
     */
    static ControlResponse error(long id, Throwable e) {
        Throwable c = e;
        while (c instanceof CompletionException && c.getCause() != null) {
            c = c.getCause();
        }
        ControlError code = c instanceof ControlException ce ? ce.code()
                : c instanceof Holds.HoldFailed ? ControlError.INVALID_STATE : ControlError.INTERNAL;
        String message = c instanceof ControlException || c instanceof Holds.HoldFailed ? c.getMessage() : c.toString();
        return error(id, ProtoMapping.toProto(code), message);
    }

    static ControlResponse error(long id, ErrorCode code, String message) {
        return response(id).setError(Error.newBuilder().setCode(code).setMessage(message)).build();
    }

    private static ControlResponse.Builder response(long id) {
        return ControlResponse.newBuilder().setRequestId(id);
    }
}
