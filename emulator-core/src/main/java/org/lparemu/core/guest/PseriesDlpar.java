package org.lparemu.core.guest;

import java.util.List;
import java.util.Objects;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
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
 * DRC acquire/release and NUMA updates are not modelled.
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

    public PseriesDlpar(KernelCalls calls, DeviceTreeUpdate update, PseriesVas vas) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.update = Objects.requireNonNull(update, "update");
        this.tree = update.tree();
        this.vas = Objects.requireNonNull(vas, "vas");
    }

    /**
     * {@code dlpar_cpu_add}: fetch the core's node with ibm,configure-connector and attach it under /cpus.
     *
     * @return 0; -ENODEV without /cpus; -EINVAL when the DRC index is already present, configure-connector
     *         failed, or the node cannot be attached
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
        CcNode node = update.dlparConfigureConnector(drcIndex);
        if (node == null) {
            LOG.warn("Failed call to configure-connector, drc index: 0x{}", Integer.toHexString(drcIndex));
            return Errno.EINVAL.negative();
        }
        try {
            tree.attach(CPUS, node, drcIndex);
        } catch (IllegalArgumentException e) {
            LOG.warn("Failed to attach node {} (drc 0x{}): {}", node.name(), Integer.toHexString(drcIndex), e.getMessage());
            return Errno.EINVAL.negative();
        }
        String path = tree.pathOfDrcIndex(drcIndex);
        for (int thread : threads(path)) {
            int rc = calls.rtas(RtasService.START_CPU, new long[] {thread, START_ADDRESS, thread}, null).status();
            if (rc != RtasStatus.SUCCESS) {
                LOG.warn("start-cpu of thread {} failed: {}", thread, RtasStatus.name(rc));
                continue;
            }
            calls.machine().cpuUp(thread);
        }
        LOG.info("CPU {} (drc 0x{}) added", node.name(), Integer.toHexString(drcIndex));
        return 0;
    }

    /** The threads (vCPU ids) of the CPU node at {@code path}. */
    private List<Integer> threads(String path) {
        byte[] servers = path == null ? null : tree.property(path, CpuTopology.INTERRUPT_SERVERS);
        return servers == null ? List.of() : CpuTopology.cells(servers);
    }

    /**
     * {@code dlpar_cpu_remove_by_index}: detach the node carrying this DRC index.
     *
     * @return 0, or -ENODEV when no node has it
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
