package org.lparemu.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.proto.v1.CallRefused;
import org.lparemu.proto.v1.ConnectionInfo;
import org.lparemu.proto.v1.CreditState;
import org.lparemu.proto.v1.DeviceTreeNode;
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.GuestCredits;
import org.lparemu.proto.v1.GuestTopology;
import org.lparemu.proto.v1.GuestWindow;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.HcallResponse;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.MigrationState;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.PartitionSummary;
import org.lparemu.proto.v1.PendingEvent;
import org.lparemu.proto.v1.Property;
import org.lparemu.proto.v1.RtasRequest;
import org.lparemu.proto.v1.RtasResponse;
import org.lparemu.proto.v1.VcpuState;
import org.lparemu.proto.v1.Welcome;
import org.lparemu.proto.v1.WindowState;

/** Converts between the core's records and the protocol's messages; no logic beyond the mapping. */
public final class ProtoMapping {
    private ProtoMapping() {
    }

    // guest calls

    /** The reply frame carrying a call's answer: HcallResponse, RtasResponse or CallRefused. */
    public static HostFrame reply(long callId, CallResult r) {
        if (r instanceof HcallResult h) {
            HcallResponse.Builder b = HcallResponse.newBuilder().setCallId(callId).setStatus(h.status());
            for (long v : h.rets()) {
                b.addRets(v);
            }
            if (h.buffer().length > 0) {
                // Not copied: a handler's answer buffer is a fresh array that nothing writes after the call.
                b.setBuffer(UnsafeByteOperations.unsafeWrap(h.buffer()));
            }
            return HostFrame.newBuilder().setHcall(b).build();
        }
        if (r instanceof RtasResult rt) {
            RtasResponse.Builder b = RtasResponse.newBuilder().setCallId(callId).setStatus(rt.status());
            for (long v : rt.rets()) {
                b.addRets(v);
            }
            if (rt.workArea().length > 0) {
                b.setWorkArea(UnsafeByteOperations.unsafeWrap(rt.workArea()));
            }
            return HostFrame.newBuilder().setRtas(b).build();
        }
        CallRefusal c = (CallRefusal) r;
        return HostFrame.newBuilder().setRefused(CallRefused.newBuilder().setCallId(callId)
                .setReason(toProto(c.reason())).setVcpu(Math.max(0, c.vcpu()))
                .setInCall(c.inCall()).setBusyVcpu(Math.max(0, c.busyVcpu())).setMessage(c.message())).build();
    }

    static CallRefused.Reason toProto(CallRefusal.Reason r) {
        return switch (r) {
            case VCPU_BUSY -> CallRefused.Reason.VCPU_BUSY;
            case RTAS_BUSY -> CallRefused.Reason.RTAS_BUSY;
            case VCPU_STOPPED -> CallRefused.Reason.VCPU_STOPPED;
        };
    }

    /** @throws IllegalArgumentException for a reason this build does not know */
    static CallRefusal.Reason fromProto(CallRefused.Reason r) {
        return switch (r) {
            case VCPU_BUSY -> CallRefusal.Reason.VCPU_BUSY;
            case RTAS_BUSY -> CallRefusal.Reason.RTAS_BUSY;
            case VCPU_STOPPED -> CallRefusal.Reason.VCPU_STOPPED;
            case CALL_REFUSED_UNSPECIFIED, UNRECOGNIZED -> throw new IllegalArgumentException(
                    "CallRefused with unknown reason " + r);
        };
    }

    /** The call id a reply frame answers, or -1 for a frame that answers no call. */
    public static long replyCallId(HostFrame f) {
        return switch (f.getKindCase()) {
            case HCALL -> f.getHcall().getCallId();
            case RTAS -> f.getRtas().getCallId();
            case REFUSED -> f.getRefused().getCallId();
            default -> -1;
        };
    }

    /**
     * A call's answer from its reply frame.
     *
     * @throws IllegalArgumentException for a frame that answers no call, or a refusal with an unknown reason
     */
    public static CallResult fromReply(HostFrame f) {
        return switch (f.getKindCase()) {
            case HCALL -> new HcallResult(f.getHcall().getStatus(), longs(f.getHcall().getRetsList()),
                    f.getHcall().getBuffer().toByteArray());
            case RTAS -> new RtasResult(f.getRtas().getStatus(), longs(f.getRtas().getRetsList()),
                    f.getRtas().getWorkArea().toByteArray());
            case REFUSED -> {
                CallRefused c = f.getRefused();
                CallRefusal.Reason reason = fromProto(c.getReason());
                yield new CallRefusal(reason, c.getVcpu(), c.getInCall(),
                        reason == CallRefusal.Reason.VCPU_STOPPED ? -1 : c.getBusyVcpu(), c.getMessage());
            }
            default -> throw new IllegalArgumentException("frame " + f.getKindCase() + " answers no call");
        };
    }

    // device tree

    // boot

    /** The Welcome a daemon answers a guest's Hello with: the partition's boot information and the versions. */
    public static Welcome welcome(BootInfo boot) {
        return Welcome.newBuilder().setPartition(boot.partition()).setProtocolVersion(Protocol.PROTOCOL_VERSION)
                .setEmulatorVersion(Protocol.EMULATOR_VERSION).setVcpus(boot.vcpus()).setSystem(boot.system())
                .setCores(boot.cores()).setSharedProcessor(boot.sharedProcessor())
                .setDeviceTree(toProto(boot.deviceTree())).build();
    }

    /** The boot information a guest reads from the daemon's Welcome. */
    public static BootInfo fromProto(Welcome w) {
        return new BootInfo(w.getPartition(), w.getVcpus(), w.getSystem(), w.getCores(), w.getSharedProcessor(),
                fromProto(w.getDeviceTree()));
    }

    public static org.lparemu.proto.v1.DeviceTree toProto(DeviceTree t) {
        org.lparemu.proto.v1.DeviceTree.Builder b = org.lparemu.proto.v1.DeviceTree.newBuilder()
                .setGeneration(t.generation());
        for (DeviceTree.Node n : t.nodes()) {
            DeviceTreeNode.Builder nb = DeviceTreeNode.newBuilder().setPath(n.path()).setPhandle(n.phandle())
                    .setDrcIndex(n.drcIndex());
            for (Map.Entry<String, byte[]> p : n.properties().entrySet()) {
                nb.addProperties(Property.newBuilder().setName(p.getKey()).setValue(ByteString.copyFrom(p.getValue())));
            }
            b.addNodes(nb);
        }
        return b.build();
    }

    /** Rebuilds a tree; nodes must come parents first (as {@link #toProto(DeviceTree)} writes them). */
    public static DeviceTree fromProto(org.lparemu.proto.v1.DeviceTree p) {
        DeviceTree t = new DeviceTree();
        for (DeviceTreeNode n : p.getNodesList()) {
            if (!n.getPath().equals("/")) {
                t.addNode(n.getPath(), n.getPhandle(), n.getDrcIndex());
            }
            for (Property prop : n.getPropertiesList()) {
                t.setProperty(n.getPath(), prop.getName(), prop.getValue().toByteArray());
            }
        }
        t.setGeneration(p.getGeneration());
        return t;
    }

    // partition spec

    public static PartitionSpec fromProto(org.lparemu.proto.v1.PartitionSpec s) {
        return new PartitionSpec(s.getName(), s.getVcpus() == 0 ? null : s.getVcpus(),
                s.getCores() == 0 ? null : s.getCores(), s.getSharedProcessor(),
                s.hasQosCredits() ? s.getQosCredits() : null, s.getSystem().isEmpty() ? null : s.getSystem());
    }

    public static org.lparemu.proto.v1.PartitionSpec toProto(PartitionSpec s) {
        org.lparemu.proto.v1.PartitionSpec.Builder b = org.lparemu.proto.v1.PartitionSpec.newBuilder()
                .setName(s.name()).setSharedProcessor(s.sharedProcessor());
        if (s.vcpus() != null) {
            b.setVcpus(s.vcpus());
        }
        if (s.cores() != null) {
            b.setCores(s.cores());
        }
        if (s.qosCredits() != null) {
            b.setQosCredits(s.qosCredits());
        }
        if (s.system() != null) {
            b.setSystem(s.system());
        }
        return b.build();
    }

    // guest report

    public static org.lparemu.proto.v1.GuestReport toProto(GuestReport r) {
        org.lparemu.proto.v1.GuestReport.Builder b = org.lparemu.proto.v1.GuestReport.newBuilder()
                .setSeq(r.seq()).setMigrationsOk(r.migrationsOk()).setMigrationsFailed(r.migrationsFailed())
                .putAllErrorsByErrno(r.errorsByErrno()).setInReplyToEvent(r.inReplyToEvent())
                .setVasPolicy(nz(r.vasPolicy())).setPrrnPolicy(nz(r.prrnPolicy())).setPastesOk(r.pastesOk())
                .setPastesFailed(r.pastesFailed()).setPrrnHandled(r.prrnHandled()).setPrrnFailed(r.prrnFailed())
                .setBusyTasks(r.busyTasks());
        for (GuestReport.Credits c : r.credits()) {
            b.addCredits(GuestCredits.newBuilder().setWinType(c.winType()).setCreditsTotal(c.creditsTotal())
                    .setCreditsUsed(c.creditsUsed()).setWindowsOpen(c.windowsOpen())
                    .setWindowsClosed(c.windowsClosed()).setWindowsInProgress(c.windowsInProgress()));
        }
        for (GuestReport.Window w : r.windows()) {
            b.addWindows(GuestWindow.newBuilder().setWinId(w.winId()).setWinType(w.winType()).setStatus(w.status())
                    .setPasteAddress(w.pasteAddress()).setPid(w.pid()).setTask(nz(w.task())));
        }
        if (r.deviceTree() != null) {
            b.setDeviceTree(toProto(r.deviceTree()));
        }
        if (r.topology() != null) {
            b.setTopology(GuestTopology.newBuilder().setPolicy(nz(r.topology().policy()))
                    .setReassignsCpus(r.topology().reassignsCpus()).putAllCpuNodes(r.topology().cpuNodes()));
        }
        return b.build();
    }

    public static GuestReport fromProto(org.lparemu.proto.v1.GuestReport r) {
        List<GuestReport.Credits> credits = new ArrayList<>();
        for (GuestCredits c : r.getCreditsList()) {
            credits.add(new GuestReport.Credits(c.getWinType(), c.getCreditsTotal(), c.getCreditsUsed(),
                    c.getWindowsOpen(), c.getWindowsClosed(), c.getWindowsInProgress()));
        }
        List<GuestReport.Window> windows = new ArrayList<>();
        for (GuestWindow w : r.getWindowsList()) {
            windows.add(new GuestReport.Window(w.getWinId(), w.getWinType(), w.getStatus(), w.getPasteAddress(),
                    w.getPid(), w.getTask()));
        }
        return new GuestReport(r.getSeq(), credits, r.getMigrationsOk(), r.getMigrationsFailed(),
                new LinkedHashMap<>(r.getErrorsByErrnoMap()), windows,
                r.hasDeviceTree() ? fromProto(r.getDeviceTree()) : null, r.getInReplyToEvent(), r.getVasPolicy(),
                r.getPrrnPolicy(), r.getPastesOk(), r.getPastesFailed(), r.getPrrnHandled(), r.getPrrnFailed(),
                r.getBusyTasks(), r.hasTopology() ? new GuestReport.Topology(r.getTopology().getPolicy(),
                        r.getTopology().getReassignsCpus(), r.getTopology().getCpuNodesMap()) : null);
    }

    // events

    public static org.lparemu.proto.v1.PlatformEvent toProto(PlatformEvent e) {
        org.lparemu.proto.v1.PlatformEvent.Builder b = org.lparemu.proto.v1.PlatformEvent.newBuilder()
                .setEventId(e.eventId());
        if (e instanceof PlatformEvent.MigrationRequest m) {
            b.setMigrationRequest(org.lparemu.proto.v1.PlatformEvent.MigrationRequest.newBuilder()
                    .setStreamId(m.streamId()));
        } else if (e instanceof PlatformEvent.PrrnEvent p) {
            b.setPrrn(org.lparemu.proto.v1.PlatformEvent.PrrnEvent.newBuilder().setScope(p.scope()));
        } else if (e instanceof PlatformEvent.DlparCpu d) {
            b.setDlparCpu(org.lparemu.proto.v1.PlatformEvent.DlparCpu.newBuilder()
                    .setAction(d.add() ? DlparAction.ADD : DlparAction.REMOVE).setDrcIndex(d.drcIndex()));
        } else if (e instanceof PlatformEvent.QosCredits q) {
            b.setQosCredits(org.lparemu.proto.v1.PlatformEvent.QosCredits.newBuilder().setCredits(q.credits()));
        } else if (e instanceof PlatformEvent.ReportRequest) {
            b.setReportRequest(org.lparemu.proto.v1.PlatformEvent.ReportRequest.getDefaultInstance());
        } else if (e instanceof PlatformEvent.Interrupt i) {
            b.setInterrupt(org.lparemu.proto.v1.PlatformEvent.Interrupt.newBuilder().setIrq(i.irq()));
        }
        return b.build();
    }

    /** The core event for a wire event, or null for an empty or unknown kind. */
    public static PlatformEvent fromProto(org.lparemu.proto.v1.PlatformEvent e) {
        long id = e.getEventId();
        return switch (e.getKindCase()) {
            case MIGRATION_REQUEST -> new PlatformEvent.MigrationRequest(id, e.getMigrationRequest().getStreamId());
            case PRRN -> new PlatformEvent.PrrnEvent(id, e.getPrrn().getScope());
            case DLPAR_CPU -> new PlatformEvent.DlparCpu(id, e.getDlparCpu().getAction() == DlparAction.ADD,
                    e.getDlparCpu().getDrcIndex());
            case QOS_CREDITS -> new PlatformEvent.QosCredits(id, e.getQosCredits().getCredits());
            case REPORT_REQUEST -> new PlatformEvent.ReportRequest(id);
            case INTERRUPT -> new PlatformEvent.Interrupt(id, e.getInterrupt().getIrq());
            case KIND_NOT_SET -> null;
        };
    }

    // state

    public static PartitionState toProto(PartitionView v) {
        PartitionState.Builder b = PartitionState.newBuilder().setSpec(toProto(v.spec())).setSystem(v.system())
                .setDeviceTreeGeneration(v.deviceTreeGeneration()).setSuspended(v.suspended())
                .addAllJoinedVcpus(v.joinedVcpus()).setCallsRefused(v.callsRefused());
        for (PartitionView.VcpuView c : v.vcpus()) {
            b.addVcpus(VcpuState.newBuilder().setVcpu(c.vcpu()).setRunning(c.running()).setInCall(c.inCall())
                    .setHoldsRtas(c.holdsRtas()));
        }
        for (PartitionView.WindowView w : v.windows()) {
            b.addWindows(WindowState.newBuilder().setWinId(w.winId()).setWinType(w.winType()).setStatus(w.status())
                    .setPid((int) w.pid()).setPasteAddress(w.pasteAddress()).setFaultIrq(w.faultIrq())
                    .setCompletionIrq(w.completionIrq()).setCredits(w.credits())
                    .setOwnerConnection(w.ownerConnection()).setOwnerTask(nz(w.ownerTask()))
                    .setBytesProcessed(w.bytesProcessed()));
        }
        for (PartitionView.CreditView c : v.credits()) {
            b.addCredits(CreditState.newBuilder().setWinType(c.winType()).setTarget(c.target())
                    .setMaxLpar(c.maxLpar()).setUsed(c.used()));
        }
        if (v.migration() != null) {
            PartitionView.MigrationView m = v.migration();
            b.setMigration(MigrationState.newBuilder().setStreamId(m.streamId()).setVasiState(toProto(m.vasiState()))
                    .setSource(nz(m.source())).setDestination(nz(m.destination())).setAttempts(m.attempts())
                    .addAllRtasStatuses(m.rtasStatuses()).setReason(nz(m.reason())));
        }
        for (PartitionView.EventView e : v.pendingEvents()) {
            b.addPendingEvents(PendingEvent.newBuilder().setEventId(e.eventId()).setKind(e.kind())
                    .setState(e.state()).setDetail(nz(e.detail())));
        }
        for (PartitionView.ConnectionView c : v.connections()) {
            b.addConnections(ConnectionInfo.newBuilder().setId(c.id()).setClientName(nz(c.clientName()))
                    .setRemote(nz(c.remote())).setReceivesEvents(c.receivesEvents())
                    .setCallsInFlight(c.callsInFlight()).setClosing(c.closing()));
        }
        if (v.guestReport() != null) {
            b.setGuestReport(toProto(v.guestReport()));
        }
        if (v.deviceTree() != null) {
            b.setDeviceTree(toProto(v.deviceTree()));
        }
        return b.build();
    }

    public static PartitionSummary toProto(PartitionView.Summary s) {
        return PartitionSummary.newBuilder().setName(s.name()).setSystem(s.system()).setVcpus(s.vcpus())
                .setCores(s.cores()).setWindows(s.windows()).setVasiState(toProto(s.vasiState()))
                .setConnections(s.connections()).build();
    }

    public static org.lparemu.proto.v1.VasiState toProto(VasiState s) {
        return org.lparemu.proto.v1.VasiState.forNumber(s == null ? 0 : s.code);
    }

    public static ErrorCode toProto(ControlError e) {
        return ErrorCode.valueOf(e.name());
    }

    public static ControlError fromProto(ErrorCode e) {
        try {
            return ControlError.valueOf(e.name());
        } catch (IllegalArgumentException ex) {
            return ControlError.INTERNAL;
        }
    }

    public static byte[] bytes(ByteString b) {
        return b.isEmpty() ? null : b.toByteArray();
    }

    /** A request's argument registers, read without boxing. */
    public static long[] args(HcallRequest req) {
        long[] out = new long[req.getArgsCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = req.getArgs(i);
        }
        return out;
    }

    /** A request's arguments, read without boxing. */
    public static long[] args(RtasRequest req) {
        long[] out = new long[req.getArgsCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = req.getArgs(i);
        }
        return out;
    }

    public static long[] longs(List<Long> l) {
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i);
        }
        return out;
    }

    public static List<Long> boxed(long[] a) {
        List<Long> out = new ArrayList<>(a.length);
        for (long v : a) {
            out.add(v);
        }
        return out;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
