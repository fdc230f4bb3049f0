package org.lparemu.wire;

import com.google.protobuf.TextFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.proto.v1.DaemonConfig;
import org.lparemu.proto.v1.HypervisorOptions;
import org.lparemu.proto.v1.Limits;
import org.lparemu.proto.v1.ManagedSystemConfig;
import org.lparemu.proto.v1.OverlayProperty;
import org.lparemu.proto.v1.PrrnDelivery;
import org.lparemu.proto.v1.SuspendWithWindows;
import org.lparemu.proto.v1.UpdateContinuation;
import org.lparemu.proto.v1.WindowClass;
import org.lparemu.proto.v1.WindowClassSet;

/**
 * Reads the daemon configuration (protobuf text format, {@code lparemu.v1.DaemonConfig}) into the core's
 * {@link PlatformConfig}. Zero fields take the embedded defaults, so an empty file means the default platform.
 */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    /** Parses a file; errors name the file and the problem. */
    public static PlatformConfig load(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            return parse(text);
        } catch (TextFormat.ParseException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        } catch (ControlException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public static PlatformConfig parse(String text) throws TextFormat.ParseException {
        DaemonConfig.Builder b = DaemonConfig.newBuilder();
        TextFormat.merge(text, b);
        return toPlatformConfig(b.build());
    }

    public static PlatformConfig toPlatformConfig(DaemonConfig c) {
        PlatformConfig d = PlatformConfig.defaults();
        List<PlatformConfig.SystemConfig> systems = new ArrayList<>();
        for (int i = 0; i < c.getSystemsCount(); i++) {
            systems.add(system(c.getSystems(i), i));
        }
        if (systems.isEmpty()) {
            systems.addAll(d.systems());
        }
        List<PartitionSpec> partitions = new ArrayList<>();
        for (org.lparemu.proto.v1.PartitionSpec p : c.getPartitionsList()) {
            partitions.add(ProtoMapping.fromProto(p));
        }
        if (partitions.isEmpty() && c.getPartitionsCount() == 0) {
            partitions.addAll(d.partitions());
        }
        PlatformConfig.PartitionDefaults pd = d.partitionDefaults();
        if (c.hasPartitionDefaults()) {
            var p = c.getPartitionDefaults();
            pd = new PlatformConfig.PartitionDefaults(or(p.getVcpus(), pd.vcpus()), or(p.getCores(), pd.cores()),
                    p.getQosCredits());
        }
        return new PlatformConfig(systems, partitions, pd, hypervisor(c.getHypervisor()), limits(c.getLimits()));
    }

    private static PlatformConfig.SystemConfig system(ManagedSystemConfig s, int index) {
        if (s.getName().isEmpty()) {
            throw new ControlException(ControlError.BAD_SPEC, "systems[" + index + "] has no name");
        }
        PlatformConfig.SystemConfig d = PlatformConfig.SystemConfig.named(s.getName(), index);
        List<PlatformConfig.OverlayProperty> overlay = new ArrayList<>();
        for (OverlayProperty o : s.getDeviceTreeOverlayList()) {
            byte[] value = switch (o.getValueCase()) {
                case STRING_VALUE -> DeviceTree.string(o.getStringValue());
                case CELLS -> DeviceTree.cells(o.getCells().getCellsList().stream().mapToInt(Integer::intValue).toArray());
                case BYTES_VALUE -> o.getBytesValue().toByteArray();
                case VALUE_NOT_SET -> throw new ControlException(ControlError.BAD_SPEC,
                        "overlay property " + o.getPath() + " " + o.getName() + " has no value");
            };
            overlay.add(new PlatformConfig.OverlayProperty(o.getPath(), o.getName(), value));
        }
        var nx = s.getNx();
        return new PlatformConfig.SystemConfig(s.getName(), or(s.getCreditsPerCore(), d.creditsPerCore()),
                or(s.getMaxLparCredits(), d.maxLparCredits()), or(s.getMaxWindowCredits(), d.maxWindowCredits()),
                !s.getNoQosFeature(), !s.getNoUserModeCopyPaste(),
                orL(nx.getReqMaxProcessedLen(), d.nxReqMaxProcessedLen()),
                orL(nx.getMinCompressLen(), d.nxMinCompressLen()), orL(nx.getMinDecompressLen(), d.nxMinDecompressLen()),
                orL(s.getPasteAddressBase(), d.pasteAddressBase()), s.getNumaDomainBase() == 0 ? d.numaDomainBase()
                : s.getNumaDomainBase(), overlay.isEmpty() ? d.deviceTreeOverlay() : overlay);
    }

    private static PlatformConfig.HypervisorOptions hypervisor(HypervisorOptions h) {
        PlatformConfig.HypervisorOptions d = PlatformConfig.HypervisorOptions.DEFAULT;
        return new PlatformConfig.HypervisorOptions(
                h.getSuspendWithWindows() == SuspendWithWindows.ABORT_STREAM
                        ? PlatformConfig.SuspendWithWindows.ABORT_STREAM : PlatformConfig.SuspendWithWindows.REFUSE,
                h.hasSuspendRefusalStatus() ? h.getSuspendRefusalStatus() : d.suspendRefusalStatus(),
                h.hasOverCreditStatus() ? h.getOverCreditStatus() : d.overCreditStatus(),
                h.getOrchestratorReadyMs(), h.getBlackoutMs(), h.getTransferMs(),
                orL(h.getMigrationTimeoutMs(), d.migrationTimeoutMs()), h.getUpdateNodesBatch(),
                h.getUpdatePropertiesBytes(), updateContinuation(h.getUpdateContinuation()),
                h.hasConfigureConnectorDelayStatus() ? h.getConfigureConnectorDelayStatus()
                        : d.configureConnectorDelayStatus(),
                h.hasSuspendBlockingStates() ? windowStates("suspend_blocking_states", h.getSuspendBlockingStates())
                        : d.suspendBlockingStates(),
                h.hasCreditHoldingStates() ? windowStates("credit_holding_states", h.getCreditHoldingStates())
                        : d.creditHoldingStates(), h.getVasMappingsChangeAtMigrate(), prrnDelivery(h.getPrrnDelivery()));
    }

    private static PlatformConfig.PrrnDelivery prrnDelivery(PrrnDelivery d) {
        return switch (d) {
            case PRRN_DELIVERY_EVENT_LOG -> PlatformConfig.PrrnDelivery.EVENT_LOG;
            case PRRN_DELIVERY_PUSH_EVENT -> PlatformConfig.PrrnDelivery.PUSH_EVENT;
            default -> throw new ControlException(ControlError.BAD_SPEC, "hypervisor.prrn_delivery: unknown value " + d);
        };
    }

    private static PlatformConfig.UpdateContinuation updateContinuation(UpdateContinuation c) {
        return switch (c) {
            case UPDATE_CONTINUATION_RESTART -> PlatformConfig.UpdateContinuation.RESTART;
            case UPDATE_CONTINUATION_SERVE_OLD_SYSTEM -> PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM;
            case UPDATE_CONTINUATION_REJECT -> PlatformConfig.UpdateContinuation.REJECT;
            default -> throw new ControlException(ControlError.BAD_SPEC, "hypervisor.update_continuation: unknown value "
                    + c);
        };
    }

    private static Set<PlatformConfig.WindowState> windowStates(String field, WindowClassSet states) {
        Set<PlatformConfig.WindowState> out = EnumSet.noneOf(PlatformConfig.WindowState.class);
        for (WindowClass s : states.getStatesList()) {
            out.add(switch (s) {
                case WINDOW_STATE_ALLOCATED -> PlatformConfig.WindowState.ALLOCATED;
                case WINDOW_STATE_MODIFY_IN_PROCESS -> PlatformConfig.WindowState.MODIFY_IN_PROCESS;
                case WINDOW_STATE_ACTIVE -> PlatformConfig.WindowState.ACTIVE;
                case WINDOW_STATE_CLOSED -> PlatformConfig.WindowState.CLOSED;
                default -> throw new ControlException(ControlError.BAD_SPEC, "hypervisor." + field
                        + ": not a window state: " + s);
            });
        }
        return out;
    }

    private static PlatformConfig.Limits limits(Limits l) {
        PlatformConfig.Limits d = PlatformConfig.Limits.DEFAULT;
        // uint32 fields arrive as Java ints: a value above 2^31-1 would read as negative and fail later, far
        // from the file (a Netty decoder refusing to be built). Refuse it here, naming the field.
        for (var f : l.getAllFields().entrySet()) {
            if (f.getKey().getName().equals("max_deferred_calls")) {
                throw new ControlException(ControlError.BAD_SPEC, "limits.max_deferred_calls is gone: no call can "
                        + "arrive while a partition is suspended (every vCPU is inside H_JOIN or ibm,suspend-me), "
                        + "so none is deferred; remove the line");
            }
            int v = (Integer) f.getValue();
            if (v < 0) {
                throw new ControlException(ControlError.BAD_SPEC, "limits." + f.getKey().getName() + " " + (v & 0xFFFFFFFFL)
                        + " is above the largest supported value " + Integer.MAX_VALUE);
            }
        }
        if (l.getTraceCapacity() != 0 && l.getTraceCapacity() < 16) {
            throw new ControlException(ControlError.BAD_SPEC, "limits.trace_capacity must be at least 16, got "
                    + l.getTraceCapacity());
        }
        if (l.getTraceCapacity() > TraceRing.MAX_CAPACITY) {
            throw new ControlException(ControlError.BAD_SPEC, "limits.trace_capacity must be at most "
                    + TraceRing.MAX_CAPACITY + " (the ring's slots are one array), got "
                    + l.getTraceCapacity());
        }
        return new PlatformConfig.Limits(or(l.getMaxFrameBytes(), d.maxFrameBytes()),
                or(l.getMaxConnections(), d.maxConnections()),
                or(l.getMaxInFlightPerConnection(), d.maxInFlightPerConnection()),
                or(l.getMaxFaultRules(), d.maxFaultRules()), or(l.getMaxParkedHolds(), d.maxParkedHolds()),
                or(l.getTraceCapacity(), d.traceCapacity()), or(l.getMaxPartitions(), d.maxPartitions()),
                or(l.getMaxWindowsPerPartition(), d.maxWindowsPerPartition()),
                or(l.getMaxPendingEvents(), d.maxPendingEvents()),
                or(l.getHelloTimeoutMs(), d.helloTimeoutMs()));
    }

    private static int or(int v, int d) {
        return v == 0 ? d : v;
    }

    private static long orL(long v, long d) {
        return v == 0 ? d : v;
    }
}
