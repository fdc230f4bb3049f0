package org.lparemu.core.guest;

import java.util.List;
import java.util.Objects;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.CpuNodes;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.RtasResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processor DLPAR and the QoS credit write: {@code dlpar_cpu_add} / {@code dlpar_cpu_remove_by_index}
 * (hotplug-cpu.c), and {@code update_total_credits_store} (vas-sysfs.c). A core's threads are the vCPUs its node's
 * {@code ibm,ppc-interrupt-server#s} lists: adding a core attaches its node, then starts each thread (RTAS
 * {@code start-cpu}) and brings it online; removing one takes each thread offline first (the thread's last code is
 * RTAS {@code stop-self}, so the hypervisor no longer counts it for H_JOIN), then detaches the node.
 *
 * <p>The VAS side of a processor change is not called from here: as in the kernel, attaching or detaching a
 * processor node fires the device-tree reconfig notifier, and {@link PseriesVas#pseriesVasNotifier} (registered
 * only when copy/paste is available, and a no-op on shared-processor partitions) re-reads the Default credits.
 * The core's connector is acquired before its node is fetched and released after its threads are offline, with
 * the DR-entity sensor and the allocation and isolation indicators ({@code dlpar_acquire_drc},
 * {@code dlpar_release_drc}); a failed release brings the threads back online. Each thread's node is set as it comes
 * online and forgotten as it goes ({@link NumaTopology}).
 */
public final class PseriesDlpar {
    private static final Logger LOG = LoggerFactory.getLogger(PseriesDlpar.class);
    static final String CPUS = "/cpus";

    /** Entry address handed to start-cpu (the kernel's generic_secondary_smp_init); any nonzero value here. */
    static final long START_ADDRESS = 0x60;

    private final KernelCalls calls;
    private final DeviceTreeUpdate update;
    private final GuestDeviceTree tree;
    private final PseriesVas vas;
    private final NumaTopology numa;

    /** Processor DLPAR on a v5.9+ kernel (no topology updates). */
    public PseriesDlpar(KernelCalls calls, DeviceTreeUpdate update, PseriesVas vas) {
        this(calls, update, vas, new NumaTopology(TopologyPolicy.V5_9, calls, update.tree()));
    }

    public PseriesDlpar(KernelCalls calls, DeviceTreeUpdate update, PseriesVas vas, NumaTopology numa) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.update = Objects.requireNonNull(update, "update");
        this.tree = update.tree();
        this.vas = Objects.requireNonNull(vas, "vas");
        this.numa = Objects.requireNonNull(numa, "numa");
    }

    /**
     * {@code dlpar_cpu_readd} (2018-2020, only ever called by the topology notifier): remove the core holding thread
     * {@code cpu} by its DRC index and add it again, so that its threads come back on their new node.
     *
     * @return 0, -ENODEV when no cpu node lists the thread, or the failing remove's or add's result
     */
    public int dlparCpuReadd(int cpu) {
        Integer drcIndex = tree.read(t -> {
            DeviceTree.Node core = CpuNodes.coreOf(t, cpu);
            if (core == null) {
                return null;
            }
            byte[] drc = core.property("ibm,my-drc-index");
            return drc != null && drc.length >= 4 ? CpuTopology.cells(drc).get(0) : core.drcIndex();
        });
        if (drcIndex == null) {
            LOG.warn("dlpar_cpu_readd: no cpu node for thread {}", cpu);
            return Errno.ENODEV.negative();
        }
        int rc = dlparCpuRemove(drcIndex);
        if (rc == 0) {
            rc = dlparCpuAdd(drcIndex);
        }
        return rc;
    }

    /**
     * {@code dlpar_cpu_add}: acquire the core's connector, fetch its node with ibm,configure-connector and attach it
     * under /cpus (releasing the connector again when either fails), then start and online its threads.
     *
     * @return 0; -ENODEV without /cpus; -EINVAL when the DRC index is already present, the connector cannot be
     *         acquired, configure-connector failed, or the node cannot be attached
     */
    public int dlparCpuAdd(int drcIndex) {
        if (tree.properties(CPUS) == null) {
            LOG.error("Failed to find CPU root node \"{}\"", CPUS);
            return Errno.ENODEV.negative();
        }
        if (tree.pathOfDrcIndex(drcIndex) != null) {
            LOG.warn("CPU with drc index 0x{} already exists", Integer.toHexString(drcIndex));
            return Errno.EINVAL.negative();
        }
        int rc = dlparAcquireDrc(drcIndex);
        if (rc != 0) {
            LOG.warn("Failed to acquire DRC, rc: {}, drc index: 0x{}", rc, Integer.toHexString(drcIndex));
            return Errno.EINVAL.negative();
        }
        CcNode node = update.dlparConfigureConnector(drcIndex);
        if (node == null) {
            LOG.warn("Failed call to configure-connector, drc index: 0x{}", Integer.toHexString(drcIndex));
            dlparReleaseDrc(drcIndex);
            return Errno.EINVAL.negative();
        }
        try {
            tree.attach(CPUS, node, drcIndex);
        } catch (IllegalArgumentException e) {
            LOG.warn("Failed to attach node {} (drc 0x{}): {}", node.name(), Integer.toHexString(drcIndex), e.getMessage());
            dlparReleaseDrc(drcIndex);
            return Errno.EINVAL.negative();
        }
        onlineThreads(tree.pathOfDrcIndex(drcIndex));
        LOG.info("CPU {} (drc 0x{}) added", node.name(), Integer.toHexString(drcIndex));
        return 0;
    }

    /** {@code dlpar_online_cpu}: each thread of the core is started (RTAS start-cpu) and brought online. */
    private void onlineThreads(String path) {
        for (int thread : threads(path)) {
            int rc = calls.rtas(RtasService.START_CPU, new long[] {thread, START_ADDRESS, thread}, null).status();
            if (rc != RtasStatus.SUCCESS) {
                LOG.warn("start-cpu of thread {} failed: {}", thread, RtasStatus.name(rc));
                continue;
            }
            numa.findAndUpdateCpuNid(thread);
            calls.machine().cpuUp(thread);
        }
    }

    /**
     * {@code dlpar_acquire_drc} (dlpar.c): the connector must sense UNUSABLE (assigned to the partition, not yet
     * the OS's); then its allocation is set USABLE and it is unisolated, the allocation undone if that fails.
     *
     * @return 0, -1 when the sensor says otherwise, or the failing set-indicator's status
     */
    int dlparAcquireDrc(int drcIndex) {
        long[] sense = rtasGetSensor(RtasService.DR_ENTITY_SENSE, drcIndex);
        if (sense[0] != 0 || sense[1] != RtasService.DR_ENTITY_UNUSABLE) {
            return -1;
        }
        int rc = rtasSetIndicator(RtasService.ALLOCATION_STATE, drcIndex, RtasService.ALLOC_USABLE);
        if (rc != 0) {
            return rc;
        }
        rc = rtasSetIndicator(RtasService.ISOLATION_STATE, drcIndex, RtasService.UNISOLATE);
        if (rc != 0) {
            rtasSetIndicator(RtasService.ALLOCATION_STATE, drcIndex, RtasService.ALLOC_UNUSABLE);
            return rc;
        }
        return 0;
    }

    /**
     * {@code dlpar_release_drc} (dlpar.c): the connector must sense PRESENT; then it is isolated and its allocation
     * set UNUSABLE, the isolation undone if that fails.
     *
     * @return 0, -1 when the sensor says otherwise, or the failing set-indicator's status
     */
    int dlparReleaseDrc(int drcIndex) {
        long[] sense = rtasGetSensor(RtasService.DR_ENTITY_SENSE, drcIndex);
        if (sense[0] != 0 || sense[1] != RtasService.DR_ENTITY_PRESENT) {
            return -1;
        }
        int rc = rtasSetIndicator(RtasService.ISOLATION_STATE, drcIndex, RtasService.ISOLATE);
        if (rc != 0) {
            return rc;
        }
        rc = rtasSetIndicator(RtasService.ALLOCATION_STATE, drcIndex, RtasService.ALLOC_UNUSABLE);
        if (rc != 0) {
            rtasSetIndicator(RtasService.ISOLATION_STATE, drcIndex, RtasService.UNISOLATE);
            return rc;
        }
        return 0;
    }

    /** {@code rtas_get_sensor}: get-sensor-state, repeated while busy; {status, state}. */
    private long[] rtasGetSensor(int sensor, int index) {
        RtasResult r;
        do {
            r = calls.rtas(RtasService.GET_SENSOR_STATE, new long[] {sensor, index}, null);
        } while (calls.rtasBusyDelay(r.status()));
        return new long[] {r.status(), r.status() == 0 && r.rets().length > 0 ? r.rets()[0] : 0};
    }

    /** {@code rtas_set_indicator}: set-indicator, repeated while busy; the status. */
    private int rtasSetIndicator(int indicator, int index, int value) {
        int rc;
        do {
            rc = calls.rtas(RtasService.SET_INDICATOR, new long[] {indicator, index, value}, null).status();
        } while (calls.rtasBusyDelay(rc));
        if (rc != 0) {
            LOG.warn("set-indicator({}, 0x{}, {}) failed: {}", indicator, Integer.toHexString(index), value,
                    RtasStatus.name(rc));
        }
        return rc;
    }

    /** The threads (vCPU ids) of the CPU node at {@code path}. */
    private List<Integer> threads(String path) {
        byte[] servers = path == null ? null : tree.property(path, CpuTopology.INTERRUPT_SERVERS);
        return servers == null ? List.of() : CpuTopology.cells(servers);
    }

    /**
     * {@code dlpar_cpu_remove_by_index}: offline the core's threads, release its connector, detach the node carrying
     * this DRC index.
     *
     * @return 0, -ENODEV when no node has it, or -EIO when the connector could not be released (the threads are
     *         online again and the node stays)
     */
    public int dlparCpuRemove(int drcIndex) {
        String path = tree.pathOfDrcIndex(drcIndex);
        if (path == null) {
            LOG.warn("Cannot find CPU (drc index 0x{}) to remove", Integer.toHexString(drcIndex));
            return Errno.ENODEV.negative();
        }
        for (int thread : threads(path)) {
            // dlpar_offline_cpu: the thread's tasks move elsewhere, then it calls stop-self and is gone.
            calls.machine().cpuDown(thread,
                    () -> calls.rtasUnlocked(RtasService.STOP_SELF, new long[0], null));
            numa.unmapCpu(thread);
        }
        int rc = dlparReleaseDrc(drcIndex);
        if (rc != 0) {
            LOG.warn("Failed to release DRC, rc: {}, drc index: 0x{}: onlining the CPU again", rc,
                    Integer.toHexString(drcIndex));
            onlineThreads(path);
            return Errno.EIO.negative();
        }
        tree.detach(path);
        LOG.info("CPU {} (drc 0x{}) removed", path, Integer.toHexString(drcIndex));
        return 0;
    }

    /**
     * {@code update_total_credits_store}: the administrator's new QoS credit total, applied without asking the
     * hypervisor (the HMC tells the OS first, then the hypervisor).
     *
     * @return 0 (also when copy/paste is off: there is nothing to reconfigure); -ENODEV when the partition has
     *         no QoS credit type (the sysfs file would not exist); -EINVAL for a value that is not a u16 or when
     *         the reconfiguration failed (the sysfs write's answer)
     */
    public int updateTotalCredits(int credits) {
        if (!vas.copypasteFeat()) {
            LOG.info("QoS credits {}: VAS copy/paste not enabled, nothing to do", credits);
            return 0;
        }
        if (!vas.snapshot(Vas.WIN_TYPE_QOS).enabled()) {
            return Errno.ENODEV.negative();
        }
        if (credits < 0 || credits > 0xFFFF) {
            return Errno.EINVAL.negative();
        }
        int rc = vas.reconfigCapabilities(Vas.WIN_TYPE_QOS, credits);
        if (rc != 0) {
            return Errno.EINVAL.negative();
        }
        LOG.info("Set QoS total credits {}", credits);
        return 0;
    }
}
