package org.lparemu.cli;

import java.util.stream.Collectors;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.DeviceTreeNode;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.PartitionSummary;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/** Human-readable renderings of control responses for {@code lparemu ctl}. */
final class Render {
    private Render() {
    }

    static String partitions(ControlResponse r) {
        StringBuilder sb = new StringBuilder(String.format("%-16s %-14s %5s %5s %7s %-10s %5s%n", "PARTITION", "SYSTEM",
                "VCPUS", "CORES", "WINDOWS", "VASI", "CONNS"));
        for (PartitionSummary p : r.getPartitions().getPartitionsList()) {
            sb.append(String.format("%-16s %-14s %5d %5d %7d %-10s %5d%n", p.getName(), p.getSystem(), p.getVcpus(),
                    p.getCores(), p.getWindows(), p.getVasiState().name().replace("VASI_", ""), p.getConnections()));
        }
        return sb.toString().stripTrailing();
    }

    static String state(PartitionState s, boolean withTree) {
        StringBuilder sb = new StringBuilder();
        var spec = s.getSpec();
        sb.append(spec.getName()).append(" on ").append(s.getSystem()).append(": ").append(spec.getVcpus())
                .append(" vcpus, ").append(spec.getCores()).append(spec.getSharedProcessor() ? " shared" : " dedicated")
                .append(" cores, qos credits ").append(spec.getQosCredits()).append(s.getSuspended() ? ", SUSPENDED" : "")
                .append('\n');
        for (var c : s.getCreditsList()) {
            sb.append(String.format("  credits %-7s target %d, max %d, used %d%n", c.getWinType() == 0 ? "qos" : "default",
                    c.getTarget(), c.getMaxLpar(), c.getUsed()));
        }
        sb.append("  windows: ").append(s.getWindowsCount()).append('\n');
        for (var w : s.getWindowsList()) {
            sb.append(String.format("    win %d type %s status %s pid %d paste 0x%x owner %d/%s%n", w.getWinId(),
                    w.getWinType() == 0 ? "qos" : "default", hvStatus(w.getStatus()), w.getPid(), w.getPasteAddress(),
                    w.getOwnerConnection(), w.getOwnerTask()));
        }
        if (s.hasMigration()) {
            var m = s.getMigration();
            sb.append(String.format("  migration: stream %d %s, %s -> %s, attempts %d, statuses %s%s%n", m.getStreamId(),
                    m.getVasiState().name().replace("VASI_", ""), m.getSource(), m.getDestination(), m.getAttempts(),
                    m.getRtasStatusesList(), m.getReason().isEmpty() ? "" : ", " + m.getReason()));
        }
        sb.append("  device tree generation ").append(s.getDeviceTreeGeneration()).append('\n');
        if (s.getJoinedVcpusCount() > 0) {
            sb.append("  vcpus in H_JOIN: ").append(s.getJoinedVcpusList()).append('\n');
        }
        StringBuilder cpus = new StringBuilder();
        for (var c : s.getVcpusList()) {
            cpus.append(' ').append(c.getVcpu()).append(c.getRunning() ? "" : "(stopped)")
                    .append(c.getInCall().isEmpty() ? "" : "[" + c.getInCall() + (c.getHoldsRtas() ? ", rtas" : "") + "]");
        }
        if (cpus.length() > 0) {
            sb.append("  vcpus:").append(cpus).append('\n');
        }
        if (s.getCallsRefused() > 0) {
            sb.append("  calls refused (no real processor could make them): ").append(s.getCallsRefused()).append('\n');
        }
        for (var e : s.getPendingEventsList()) {
            sb.append("  event ").append(e.getEventId()).append(' ').append(e.getKind()).append(' ').append(e.getState())
                    .append(e.getDetail().isEmpty() ? "" : " (" + e.getDetail() + ")").append('\n');
        }
        for (var c : s.getConnectionsList()) {
            sb.append("  connection ").append(c.getId()).append(' ').append(c.getClientName()).append(" from ")
                    .append(c.getRemote()).append(c.getReceivesEvents() ? " [events]" : "").append(", ")
                    .append(c.getCallsInFlight()).append(" calls in flight")
                    .append(c.getClosing() ? " (closing: gone, its calls not yet off their vCPUs)" : "").append('\n');
        }
        if (s.hasGuestReport()) {
            var g = s.getGuestReport();
            sb.append("  guest report #").append(g.getSeq()).append(": policies ").append(g.getVasPolicy()).append('/')
                    .append(g.getPrrnPolicy()).append(", migrations ok ").append(g.getMigrationsOk()).append(" failed ")
                    .append(g.getMigrationsFailed()).append(", windows ").append(g.getWindowsCount())
                    .append(g.getErrorsByErrnoMap().isEmpty() ? "" : ", errors " + g.getErrorsByErrnoMap()).append('\n');
        }
        if (withTree && s.hasDeviceTree()) {
            for (DeviceTreeNode n : s.getDeviceTree().getNodesList()) {
                sb.append("  ").append(n.getPath()).append(" (phandle ").append(n.getPhandle()).append(")\n");
                for (var p : n.getPropertiesList()) {
                    sb.append("      ").append(p.getName()).append(" = ")
                            .append(DeviceTree.render(p.getValue().toByteArray())).append('\n');
                }
            }
        }
        return sb.toString().stripTrailing();
    }

    static String hvStatus(int status) {
        return switch (status) {
            case 0 -> "ACTIVE";
            case 1 -> "CLOSED";
            case 2 -> "INACTIVE";
            case 3 -> "MOD_IN_PROCESS";
            default -> Integer.toString(status);
        };
    }

    static String trace(TraceChunk c) {
        StringBuilder sb = new StringBuilder();
        for (TraceRecord r : c.getRecordsList()) {
            sb.append(String.format("%8d %12.3f ms %-8s %-10s", r.getSeq(), r.getNanos() / 1e6, r.getPartition(),
                    r.getKind().name()));
            if (r.getKind() == TraceKind.CALL_BEGIN || r.getKind() == TraceKind.CALL_END
                    || r.getKind() == TraceKind.REFUSED) {
                sb.append(String.format(" vcpu %-3d %-12s %s", r.getVcpu(), r.getTask(), r.getName()));
                if (r.getKind() != TraceKind.CALL_END) {
                    sb.append(r.getArgsList().stream().map(a -> "0x" + Long.toHexString(a))
                            .collect(Collectors.joining(", ", "(", ")")));
                } else {
                    boolean rtas = r.getOpcode() == 0; // RTAS records carry no opcode
                    sb.append(" -> ").append(rtas ? RtasStatus.name(r.getStatus()) : HStatus.name(r.getStatus()))
                            .append(String.format(" (%.3f ms)", (r.getNanos() - r.getBeginNanos()) / 1e6));
                }
            } else {
                sb.append(' ').append(r.getName());
            }
            if (!r.getDetail().isEmpty()) {
                sb.append("  ").append(r.getDetail());
            }
            sb.append('\n');
        }
        sb.append(c.getRecordsCount()).append(" records, last seq ").append(c.getLastSeq());
        if (c.getDropped() > 0) {
            sb.append(", ").append(c.getDropped()).append(" dropped (ring overwritten)");
        }
        return sb.toString();
    }
}
