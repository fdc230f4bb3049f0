package org.lparemu.wire;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.check.Violation;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.DeviceTreeChange;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.OperatorResults;
import org.lparemu.core.hypervisor.Partition;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.core.trace.TraceRecord;
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.MigrateResult;
import org.lparemu.proto.v1.NewNode;
import org.lparemu.proto.v1.PrrnResult;
import org.lparemu.proto.v1.Property;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.TraceKind;

/** Converts the control port's operation arguments and results between the protocol and the core. */
public final class ControlMapping {
    private ControlMapping() {
    }

    // operator actions

    /** The core form of a PRRN change list; BAD_REQUEST for a change that says nothing to change. */
    public static List<DeviceTreeChange> changes(List<org.lparemu.proto.v1.DeviceTreeChange> in) {
        List<DeviceTreeChange> out = new ArrayList<>();
        for (org.lparemu.proto.v1.DeviceTreeChange c : in) {
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

    /** The wire form of a PRRN change list (ListFaults shows a Trigger's changes this way). */
    public static List<org.lparemu.proto.v1.DeviceTreeChange> toProto(List<DeviceTreeChange> in) {
        List<org.lparemu.proto.v1.DeviceTreeChange> out = new ArrayList<>();
        for (DeviceTreeChange c : in) {
            org.lparemu.proto.v1.DeviceTreeChange.Builder b = org.lparemu.proto.v1.DeviceTreeChange.newBuilder()
                    .setPath(c.path());
            switch (c.kind()) {
                case SET_PROPERTY -> b.setSetProperty(Property.newBuilder().setName(c.property())
                        .setValue(ByteString.copyFrom(c.value())));
                case DELETE_PROPERTY -> b.setDeleteProperty(c.property());
                case ADD_NODE -> {
                    NewNode.Builder n = NewNode.newBuilder();
                    c.properties().forEach((k, v) -> n.addProperties(Property.newBuilder().setName(k)
                            .setValue(ByteString.copyFrom(v))));
                    b.setAddNode(n);
                }
                case DELETE_NODE -> b.setDeleteNode(true);
            }
            out.add(b.build());
        }
        return out;
    }

    /** DlparAction to "add?"; BAD_REQUEST when unset. */
    public static boolean add(DlparAction a) {
        return switch (a) {
            case ADD -> true;
            case REMOVE -> false;
            default -> throw new ControlException(ControlError.BAD_REQUEST, "DlparCpu needs action ADD or REMOVE");
        };
    }

    public static DlparAction toProto(boolean add) {
        return add ? DlparAction.ADD : DlparAction.REMOVE;
    }

    public static MigrateResult toProto(OperatorResults.MigrateResult m) {
        return MigrateResult.newBuilder().setStreamId(m.streamId()).setEventId(m.eventId())
                .setDestination(m.destination()).build();
    }

    public static PrrnResult toProto(OperatorResults.PrrnResult r) {
        return PrrnResult.newBuilder().setScope(r.scope()).setEventId(r.eventId())
                .setDeviceTreeGeneration(r.deviceTreeGeneration()).build();
    }

    public static DlparCpuResult toProto(OperatorResults.DlparCpuResult r) {
        return DlparCpuResult.newBuilder().setCores(r.cores()).setTargetCredits(r.targetCredits())
                .addAllEventIds(r.eventIds()).build();
    }

    // waits

    public static org.lparemu.proto.v1.MigrationOutcome toProto(MigrationOutcome o) {
        return org.lparemu.proto.v1.MigrationOutcome.newBuilder().setSuccess(o.success()).setAttempts(o.attempts())
                .addAllRtasStatuses(o.rtasStatuses()).setVasiState(ProtoMapping.toProto(o.vasiState()))
                .setReason(nz(o.reason())).setStreamId(o.streamId()).setSource(nz(o.source()))
                .setDestination(nz(o.destination())).setHcalls(o.hcalls()).setDurationNanos(o.durationNanos()).build();
    }

    public static EventAck toProto(Partition.EventAck a) {
        return EventAck.newBuilder().setEventId(a.eventId()).setStatus(a.status()).setDetail(a.detail()).build();
    }

    // evidence

    public static org.lparemu.proto.v1.InvariantReport toProto(InvariantReport r) {
        org.lparemu.proto.v1.InvariantReport.Builder b = org.lparemu.proto.v1.InvariantReport.newBuilder()
                .setPartitionsChecked(r.partitionsChecked()).setGuestReportsCompared(r.guestReportsCompared())
                .addAllNotQuiescent(r.notQuiescent());
        for (Violation v : r.violations()) {
            b.addViolations(org.lparemu.proto.v1.Violation.newBuilder().setName(v.name()).setLocation(v.location())
                    .setDetail(v.detail()).setOracle(v.oracle()));
        }
        return b.build();
    }

    public static org.lparemu.proto.v1.TraceRecord toProto(TraceRecord r) {
        org.lparemu.proto.v1.TraceRecord.Builder b = org.lparemu.proto.v1.TraceRecord.newBuilder().setSeq(r.seq())
                .setNanos(r.nanos()).setKind(TraceKind.valueOf(r.kind().name())).setPartition(r.partition())
                .setVcpu(Math.max(r.vcpu(), 0)).setTask(r.task()).setName(r.name()).setStatus(r.status())
                .setBeginSeq(r.beginSeq()).setBeginNanos(r.beginNanos()).setDetail(r.detail()).setOpcode(r.opcode());
        for (long a : r.args()) {
            b.addArgs(a);
        }
        return b.build();
    }

    public static TraceChunk toProto(TraceRing.Chunk c) {
        TraceChunk.Builder b = TraceChunk.newBuilder().setLastSeq(c.lastSeq()).setDropped(c.dropped());
        for (TraceRecord r : c.records()) {
            b.addRecords(toProto(r));
        }
        return b.build();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
