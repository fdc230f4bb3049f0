package org.lparemu.core.hypervisor;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;

/**
 * Everything the platform is configured with: managed systems, the partitions created at start and after
 * Reset, defaults, the behaviour PAPR leaves UNCONFIRMED, and the limits on what clients can make it hold.
 * The daemon reads it from a protobuf text file; {@link #defaults()} is the embedded default.
 */
public record PlatformConfig(List<SystemConfig> systems, List<PartitionSpec> partitions, PartitionDefaults partitionDefaults,
                             HypervisorOptions hypervisor, Limits limits) {

    public PlatformConfig {
        systems = List.copyOf(systems);
        partitions = List.copyOf(partitions);
        if (systems.isEmpty()) {
            throw new ControlException(ControlError.BAD_SPEC, "at least one managed system is required");
        }
        Set<String> names = new HashSet<>();
        for (SystemConfig s : systems) {
            if (!names.add(s.name())) {
                throw new ControlException(ControlError.BAD_SPEC, "duplicate managed system " + s.name());
            }
        }
    }

    /** Two systems, "source" and "destination", with different paste-address bases, NUMA domains and
     *  device-tree content, and one partition "lpar1". */
    public static PlatformConfig defaults() {
        return new PlatformConfig(
                List.of(SystemConfig.named("source", 0), SystemConfig.named("destination", 1)),
                List.of(PartitionSpec.named("lpar1")),
                PartitionDefaults.DEFAULT, HypervisorOptions.DEFAULT, Limits.DEFAULT);
    }

    public PlatformConfig withHypervisor(HypervisorOptions options) {
        return new PlatformConfig(systems, partitions, partitionDefaults, options, limits);
    }

    public PlatformConfig withLimits(Limits l) {
        return new PlatformConfig(systems, partitions, partitionDefaults, hypervisor, l);
    }

    public PlatformConfig withPartitions(List<PartitionSpec> p) {
        return new PlatformConfig(systems, p, partitionDefaults, hypervisor, limits);
    }

    /** One system-specific device-tree property: on migration it is replaced by the destination's value. */
    public record OverlayProperty(String path, String name, byte[] value) {
    }

    /**
     * A managed system (a physical server).
     *
     * @param creditsPerCore   default VAS credits per dedicated core (20)
     * @param maxLparCredits   max_lpar_creds per type
     * @param maxWindowCredits max_win_creds
     * @param pasteAddressBase base of paste addresses handed out on this system
     * @param numaDomainBase   first NUMA domain; CPU associativity derives from it
     */
    public record SystemConfig(String name, int creditsPerCore, int maxLparCredits, int maxWindowCredits,
                               boolean qosFeature, boolean userModeCopyPaste, long nxReqMaxProcessedLen,
                               long nxMinCompressLen, long nxMinDecompressLen, long pasteAddressBase, int numaDomainBase,
                               List<OverlayProperty> deviceTreeOverlay) {
        public SystemConfig {
            deviceTreeOverlay = List.copyOf(deviceTreeOverlay);
        }

        /** Defaults for the index-th system: distinct paste base, NUMA domains and model strings. */
        public static SystemConfig named(String name, int index) {
            return new SystemConfig(name, 20, 2048, 1, true, true, 1L << 20, 32768, 32768,
                    0x0006_0300_0000_0000L + ((long) index << 36), 16 * index,
                    List.of(new OverlayProperty("/", "ibm,model", DeviceTree.string(
                                    "IBM,9080-HEX-" + name)),
                            new OverlayProperty("/", "system-id", DeviceTree.string(
                                    String.format("IBM,02%05X", 0x78A10 + index))),
                            new OverlayProperty("/rtas", "ibm,max-associativity-domains",
                                    DeviceTree.cells(4, 1, 2 + index, 16, 64)),
                            new OverlayProperty("/ibm,platform-facilities", "ibm,max-sync-cop",
                                    DeviceTree.cells(0x100000 >> index))));
        }
    }

    public record PartitionDefaults(int vcpus, int cores, int qosCredits) {
        public static final PartitionDefaults DEFAULT = new PartitionDefaults(4, 2, 0);
    }

    /**
     * Hypervisor behaviour that papr-notes marks UNCONFIRMED, and the orchestrator's timings.
     *
     * <p>Configurable here: what ibm,suspend-me does while windows exist (papr-notes 6.5; default refuse
     * with -9006, the stream stays SUSPENDING so the OS retries, as the kernel's retry loop expects) and the
     * status of an allocation beyond the target credits (3.2; default H_CONSTRAINED, "Credits are not
     * available"). UNCONFIRMED behaviour lparemu fixes, documented where it is implemented:
     * <ul>
     *   <li>win_type 0 = QoS, 1 = Default (3.1), as {@link org.lparemu.core.papr.Vas} numbers them;</li>
     *   <li>H_QUERY_VAS_WINDOW takes (winid, buffer) (3.5, {@code VasHcalls.hQueryVasWindow});</li>
     *   <li>H_DEALLOCATE_VAS_WINDOW frees at once, never long-busy (3.4); a window closed with
     *       H_MODIFY_VAS_WINDOW(CLOSE) keeps its credits and cannot be reopened by a modify (H_STATE);</li>
     *   <li>the hypervisor never revokes windows when the credit target drops (3.7);</li>
     *   <li>VASI edges ENABLED -> SUSPENDING -> SUSPENDED -> RESUMED -> COMPLETED, ABORTED from ENABLED or
     *       SUSPENDING (6.5, {@link org.lparemu.core.papr.VasiState#canBecome}); H_VASI_STATE keeps answering
     *       for the most recent stream after it ended;</li>
     *   <li>every window that exists in the hypervisor, whatever its status, blocks ibm,suspend-me.</li>
     * </ul>
     *
     * @param suspendWithWindows   what ibm,suspend-me does while a VAS window is open
     * @param suspendRefusalStatus RTAS status of that refusal (-9006 RTAS_OUTSTANDING_COPROC)
     * @param overCreditStatus     hcall status for an allocation beyond the target credits (H_CONSTRAINED)
     * @param updateNodesBatch     node records per ibm,update-nodes call, 0 = as many as fit
     * @param updatePropertiesBytes descriptor bytes per ibm,update-properties call, 0 = as many as fit
     */
    public record HypervisorOptions(SuspendWithWindows suspendWithWindows, int suspendRefusalStatus,
                                    long overCreditStatus, long orchestratorReadyMs, long blackoutMs, long transferMs,
                                    long migrationTimeoutMs, int updateNodesBatch, int updatePropertiesBytes) {
        public static final HypervisorOptions DEFAULT = new HypervisorOptions(SuspendWithWindows.REFUSE,
                RtasStatus.OUTSTANDING_COPROC, HStatus.H_CONSTRAINED, 0, 0, 0, 60_000, 0, 0);
    }

    public enum SuspendWithWindows {
        /** ibm,suspend-me fails with suspendRefusalStatus; the stream stays SUSPENDING so the OS may retry. */
        REFUSE,
        /** The platform aborts the stream (VASI ABORTED) and ibm,suspend-me returns RTAS_SUSPEND_ABORTED. */
        ABORT_STREAM
    }

    /**
     * Bounds on everything a client can make the daemon hold, in space and in time.
     *
     * @param helloTimeoutMs how long a new connection may stay silent: a guest connection that has not sent Hello,
     *                       or a control connection that has not sent its first request, is closed after this
     */
    public record Limits(int maxFrameBytes, int maxConnections, int maxInFlightPerConnection, int maxFaultRules,
                         int maxParkedHolds, int traceCapacity, int maxPartitions, int maxWindowsPerPartition,
                         int maxPendingEvents, int helloTimeoutMs) {
        public static final Limits DEFAULT = new Limits(1 << 20, 4096, 4096, 1024, 4096, 1 << 18, 4096, 65536, 1024,
                10_000);

        public Limits withMaxParkedHolds(int v) {
            return new Limits(maxFrameBytes, maxConnections, maxInFlightPerConnection, maxFaultRules, v, traceCapacity,
                    maxPartitions, maxWindowsPerPartition, maxPendingEvents, helloTimeoutMs);
        }

        public Limits withTraceCapacity(int v) {
            return new Limits(maxFrameBytes, maxConnections, maxInFlightPerConnection, maxFaultRules, maxParkedHolds, v,
                    maxPartitions, maxWindowsPerPartition, maxPendingEvents, helloTimeoutMs);
        }

        public Limits withMaxWindowsPerPartition(int v) {
            return new Limits(maxFrameBytes, maxConnections, maxInFlightPerConnection, maxFaultRules, maxParkedHolds,
                    traceCapacity, maxPartitions, v, maxPendingEvents, helloTimeoutMs);
        }
    }
}
