package org.lparemu.core.hypervisor;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
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
     * <p>Configurable here:
     * <ul>
     *   <li>what ibm,suspend-me does while windows exist (papr-notes 6.5; default refuse with -9006, the stream
     *       stays SUSPENDING so the OS retries, as the kernel's retry loop expects), and which window states count
     *       ({@code suspendBlockingStates}, default every state);</li>
     *   <li>the status of an allocation beyond the target credits (3.2; default H_CONSTRAINED, "Credits are not
     *       available") and which window states hold credits ({@code creditHoldingStates}, default every state);</li>
     *   <li>what the destination answers to an ibm,update-nodes / ibm,update-properties sequence begun on the source
     *       ({@code updateContinuation}, prrn-model.md; default REJECT with -3);</li>
     *   <li>a busy (-2) or extended-delay (990x) answer ibm,configure-connector gives before each step
     *       ({@code configureConnectorDelayStatus}, PAPR allows both; default 0, none);</li>
     *   <li>whether a starting migration changes the VAS mappings before the OS is told (6.1, T-22early: "NX
     *       generates continuous faults" until the windows are closed), so pastes to windows still listed fail
     *       ({@code vasMappingsChangeAtMigrate}, default false);</li>
     *   <li>how PRRNs are delivered: the push event or an RTAS event log for event-scan (7.1, {@code prrnDelivery},
     *       default the push event).</li>
     * </ul>
     * UNCONFIRMED behaviour lparemu fixes, documented where it is implemented:
     * <ul>
     *   <li>win_type 0 = QoS, 1 = Default (3.1), as {@link org.lparemu.core.papr.Vas} numbers them;</li>
     *   <li>H_QUERY_VAS_WINDOW takes (winid, buffer) (3.5, {@code VasHcalls.hQueryVasWindow});</li>
     *   <li>H_DEALLOCATE_VAS_WINDOW frees at once, never long-busy (3.4); a window closed with
     *       H_MODIFY_VAS_WINDOW(CLOSE) cannot be reopened by a modify (H_STATE);</li>
     *   <li>the hypervisor never revokes windows when the credit target drops (3.7);</li>
     *   <li>VASI edges ENABLED -> SUSPENDING -> SUSPENDED -> RESUMED -> COMPLETED, ABORTED from ENABLED or
     *       SUSPENDING (6.5, {@link org.lparemu.core.papr.VasiState#canBecome}); H_VASI_STATE keeps answering
     *       for the most recent stream after it ended.</li>
     * </ul>
     *
     * @param suspendWithWindows    what ibm,suspend-me does while a VAS window in a blocking state exists
     * @param suspendRefusalStatus  RTAS status of that refusal (-9006 RTAS_OUTSTANDING_COPROC)
     * @param overCreditStatus      hcall status for an allocation beyond the target credits (H_CONSTRAINED)
     * @param updateNodesBatch      node records per ibm,update-nodes call, 0 = as many as fit
     * @param updatePropertiesBytes descriptor bytes per ibm,update-properties call, 0 = as many as fit
     * @param updateContinuation    what a device-tree update sequence begun on another system gets
     * @param configureConnectorDelayStatus status ibm,configure-connector answers once before each step: 0 = none,
     *                              -2 (busy, call again) or 9900..9905 (extended delay)
     * @param suspendBlockingStates the window states that make ibm,suspend-me refuse (every state by default). A
     *                              MODIFY_IN_PROCESS window never does: the vCPU inside its modify is not parked in
     *                              H_JOIN, so ibm,suspend-me answers -9005 before it looks at windows
     * @param creditHoldingStates   the window states whose credits count against the target at allocation
     * @param vasMappingsChangeAtMigrate the hypervisor changes the VAS mappings when a migration starts, before the
     *                              OS hears of it: every paste fails until the migration ends (default false)
     * @param prrnDelivery          how a PRRN reaches the guest: the push event (default) or an RTAS event log
     */
    public record HypervisorOptions(SuspendWithWindows suspendWithWindows, int suspendRefusalStatus,
                                    long overCreditStatus, long orchestratorReadyMs, long blackoutMs, long transferMs,
                                    long migrationTimeoutMs, int updateNodesBatch, int updatePropertiesBytes,
                                    UpdateContinuation updateContinuation, int configureConnectorDelayStatus,
                                    Set<WindowState> suspendBlockingStates, Set<WindowState> creditHoldingStates,
                                    boolean vasMappingsChangeAtMigrate, PrrnDelivery prrnDelivery) {
        public static final HypervisorOptions DEFAULT = new HypervisorOptions(SuspendWithWindows.REFUSE,
                RtasStatus.OUTSTANDING_COPROC, HStatus.H_CONSTRAINED, 0, 0, 0, 60_000, 0, 0);

        public HypervisorOptions {
            Objects.requireNonNull(suspendWithWindows, "suspendWithWindows");
            Objects.requireNonNull(updateContinuation, "updateContinuation");
            Objects.requireNonNull(prrnDelivery, "prrnDelivery");
            suspendBlockingStates = Set.copyOf(suspendBlockingStates);
            creditHoldingStates = Set.copyOf(creditHoldingStates);
            if (configureConnectorDelayStatus != 0 && configureConnectorDelayStatus != RtasStatus.BUSY
                    && !RtasStatus.isExtendedDelay(configureConnectorDelayStatus)) {
                throw new ControlException(ControlError.BAD_SPEC, "configure_connector_delay_status must be 0, -2 or "
                        + "9900..9905, got " + configureConnectorDelayStatus);
            }
        }

        /** The options of before the firmware choices: every later one at its default (today's behaviour). */
        public HypervisorOptions(SuspendWithWindows suspendWithWindows, int suspendRefusalStatus, long overCreditStatus,
                                 long orchestratorReadyMs, long blackoutMs, long transferMs, long migrationTimeoutMs,
                                 int updateNodesBatch, int updatePropertiesBytes) {
            this(suspendWithWindows, suspendRefusalStatus, overCreditStatus, orchestratorReadyMs, blackoutMs,
                    transferMs, migrationTimeoutMs, updateNodesBatch, updatePropertiesBytes, UpdateContinuation.REJECT,
                    0, EnumSet.allOf(WindowState.class), EnumSet.allOf(WindowState.class), false,
                    PrrnDelivery.PUSH_EVENT);
        }

        public HypervisorOptions withUpdateContinuation(UpdateContinuation v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, v, configureConnectorDelayStatus, suspendBlockingStates,
                    creditHoldingStates, vasMappingsChangeAtMigrate, prrnDelivery);
        }

        public HypervisorOptions withConfigureConnectorDelayStatus(int v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, updateContinuation, v, suspendBlockingStates, creditHoldingStates,
                    vasMappingsChangeAtMigrate, prrnDelivery);
        }

        public HypervisorOptions withSuspendBlockingStates(Set<WindowState> v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, updateContinuation, configureConnectorDelayStatus, v, creditHoldingStates,
                    vasMappingsChangeAtMigrate, prrnDelivery);
        }

        public HypervisorOptions withCreditHoldingStates(Set<WindowState> v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, updateContinuation, configureConnectorDelayStatus, suspendBlockingStates, v,
                    vasMappingsChangeAtMigrate, prrnDelivery);
        }

        public HypervisorOptions withVasMappingsChangeAtMigrate(boolean v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, updateContinuation, configureConnectorDelayStatus, suspendBlockingStates,
                    creditHoldingStates, v, prrnDelivery);
        }

        public HypervisorOptions withPrrnDelivery(PrrnDelivery v) {
            return new HypervisorOptions(suspendWithWindows, suspendRefusalStatus, overCreditStatus,
                    orchestratorReadyMs, blackoutMs, transferMs, migrationTimeoutMs, updateNodesBatch,
                    updatePropertiesBytes, updateContinuation, configureConnectorDelayStatus, suspendBlockingStates,
                    creditHoldingStates, vasMappingsChangeAtMigrate, v);
        }
    }

    public enum SuspendWithWindows {
        /** ibm,suspend-me fails with suspendRefusalStatus; the stream stays SUSPENDING so the OS may retry. */
        REFUSE,
        /** The platform aborts the stream (VASI ABORTED) and ibm,suspend-me returns RTAS_SUSPEND_ABORTED. */
        ABORT_STREAM
    }

    /**
     * What the firmware does with an ibm,update-nodes or ibm,update-properties call that continues a sequence begun
     * on another managed system (the partition migrated in between). PAPR is silent; prrn-model.md.
     */
    public enum UpdateContinuation {
        /** -3 (parameter error): the destination firmware knows nothing of the source's sequence. */
        REJECT(""),
        /**
         * The call is answered as the start of a fresh sequence on the current system: update-nodes lists the
         * scope from its first record again, update-properties returns the node from its path descriptor on, with
         * the current system's values.
         */
        RESTART("update sequence restarted"),
        /**
         * The sequence goes on with the data of the system it began on (the partition's tree as it left that
         * system), as if the source's firmware state had travelled with the partition. Only the system the
         * partition last left is remembered; a sequence from an earlier one is rejected.
         */
        SERVE_OLD_SYSTEM("update sequence served from the old system");

        /** The name of the STATE trace note the platform writes each time it answers this way ("" for REJECT). */
        public final String traceNote;

        UpdateContinuation(String traceNote) {
            this.traceNote = traceNote;
        }
    }

    /** How the platform tells the guest about a PRRN (papr-notes 7.1). */
    public enum PrrnDelivery {
        /** A {@code PrrnEvent} pushed on the guest connection, acknowledged when handled (lparemu's shortcut). */
        PUSH_EVENT,
        /**
         * As PowerVM does: an RTAS event log of type 0xA0 whose extended log length is the scope, fetched by the
         * OS's periodic {@code event-scan} (the tree's /rtas then has {@code event-scan} and
         * {@code rtas-event-scan-rate}); no event is pushed, so there is no ack to await.
         */
        EVENT_LOG
    }

    /**
     * A VAS window's state as the configurable hypervisor rules classify it. {@link #ALLOCATED} and
     * {@link #MODIFY_IN_PROCESS} both report hypervisor status MOD_IN_PROCESS to H_QUERY_VAS_WINDOW.
     */
    public enum WindowState {
        /** Allocated and never modified: no H_MODIFY_VAS_WINDOW for it is in flight either. */
        ALLOCATED,
        /** An H_MODIFY_VAS_WINDOW naming it is in flight (admitted, not yet answered: held, delayed or running). */
        MODIFY_IN_PROCESS,
        /** Modified with a pid: pastes are accepted. */
        ACTIVE,
        /** Closed by H_MODIFY_VAS_WINDOW(CLOSE). */
        CLOSED
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
