package org.lparemu.core.guest;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntUnaryOperator;
import org.lparemu.core.papr.Associativity;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vphn;
import org.lparemu.core.port.CpuNodes;
import org.lparemu.core.port.HcallResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CPU side of numa.c: the CPU-to-node map ({@code numa_cpu_lookup_table}), how a thread gets its node
 * ({@code find_and_update_cpu_nid}: VPHN's H_HOME_NODE_ASSOCIATIVITY, else the cpu node's {@code ibm,associativity}),
 * and, in the eras that had them, the topology update switch ({@code start_topology_update} /
 * {@code stop_topology_update}, which register and unregister {@code dt_update_nb} on the OF reconfig chain) and
 * {@code dt_update_callback}, which answers an {@code ibm,associativity} update of a cpu node with
 * {@code dlpar_cpu_readd}. Where mobility flips the switch is the {@link TopologyPolicy}; this class is the
 * {@link PseriesMobility.TopologyHooks} that mobility calls at the places the eras differ.
 *
 * <p>The map is written by the task that onlines, offlines or re-adds a CPU (the kernel does it from stop_machine
 * context) and read lock-free by reports; a map entry per online thread. Node numbers come from the depth the boot
 * tree's {@code /rtas ibm,associativity-reference-points} gives ({@link Associativity}); the depth never changes after
 * boot, as in the kernel.
 */
public final class NumaTopology implements PseriesMobility.TopologyHooks {
    private static final Logger LOG = LoggerFactory.getLogger(NumaTopology.class);

    // --- Immutable after construction.

    private final TopologyPolicy policy;
    private final KernelCalls calls;
    private final GuestDeviceTree tree;
    /** {@code min_common_depth}; 0 = NUMA disabled (every CPU on node 0). */
    private final int depth;
    /** {@code dt_update_nb}: the OF reconfig notifier the switch registers. */
    private final GuestDeviceTree.ReconfigNotifier dtUpdateNb = new GuestDeviceTree.ReconfigNotifier() {
        @Override
        public void onReconfig(GuestDeviceTree.ReconfigAction action, String path, Map<String, byte[]> properties) {
            // Only property updates matter; they arrive through the overload that names the property.
        }

        @Override
        public void onReconfig(GuestDeviceTree.ReconfigAction action, String path, String property,
                               Map<String, byte[]> properties) {
            dtUpdateCallback(action, path, property, properties);
        }
    };

    // --- Mutable.

    /** {@code numa_cpu_lookup_table}, online threads only (an offline thread's entry is -1: absent here). */
    private final ConcurrentSkipListMap<Integer, Integer> cpuToNode = new ConcurrentSkipListMap<>();
    /** {@code prrn_enabled}: the notifier is registered. */
    private final AtomicBoolean updatesOn = new AtomicBoolean();
    /** {@code dlpar_cpu_readd} (PseriesDlpar), set once at boot by {@link #start}. */
    private volatile IntUnaryOperator readd;

    // --- Statistics.

    private final AtomicLong readds = new AtomicLong();
    private final AtomicLong vphnLookups = new AtomicLong();
    private final AtomicLong switchFlips = new AtomicLong();

    public NumaTopology(TopologyPolicy policy, KernelCalls calls, GuestDeviceTree tree) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.calls = Objects.requireNonNull(calls, "calls");
        this.tree = Objects.requireNonNull(tree, "tree");
        this.depth = tree.read(CpuNodes::depth);
        // Boot (parse_numa_properties / numa_setup_cpu): each present thread's node from its cpu node in the tree.
        for (int cpu : calls.machine().onlineCpus()) {
            cpuToNode.put(cpu, nodeFromTree(cpu));
        }
    }

    /**
     * {@code topology_update_init}: in the eras with a switch, start topology updates (register the notifier), with
     * {@code readd} as the callback's {@code dlpar_cpu_readd}.
     */
    public void start(IntUnaryOperator dlparCpuReadd) {
        this.readd = Objects.requireNonNull(dlparCpuReadd, "dlparCpuReadd");
        startTopologyUpdate();
    }

    public TopologyPolicy policy() {
        return policy;
    }

    /** {@code start_topology_update}: register {@code dt_update_nb} unless it is. */
    void startTopologyUpdate() {
        if (policy.hasSwitch() && updatesOn.compareAndSet(false, true)) {
            tree.addReconfigNotifier(dtUpdateNb);
            switchFlips.incrementAndGet();
            calls.tracepoint("topology_update_start", "dt_update_callback registered");
        }
    }

    /** {@code stop_topology_update}: unregister {@code dt_update_nb} if it is. */
    void stopTopologyUpdate() {
        if (policy.hasSwitch() && updatesOn.compareAndSet(true, false)) {
            tree.removeReconfigNotifier(dtUpdateNb);
            switchFlips.incrementAndGet();
            calls.tracepoint("topology_update_stop", "dt_update_callback unregistered");
        }
    }

    /**
     * {@code dt_update_callback}: an update of a cpu node's {@code ibm,associativity} re-adds the core (its
     * {@code reg}, the first thread) in the eras that reassign CPUs; after CALLBACK_REMOVED the notifier does nothing.
     */
    void dtUpdateCallback(GuestDeviceTree.ReconfigAction action, String path, String property,
                          Map<String, byte[]> properties) {
        if (action != GuestDeviceTree.ReconfigAction.UPDATE_PROPERTY || !Associativity.PROPERTY.equals(property)
                || !isCpu(properties) || !policy.reassignsCpus()) {
            return;
        }
        byte[] reg = properties.get("reg");
        if (reg == null || reg.length < 4) {
            return;
        }
        int coreId = CpuTopology.cells(reg).get(0);
        calls.tracepoint("dt_update_callback", path + ": dlpar_cpu_readd(" + coreId + ")");
        int rc = readd.applyAsInt(coreId);
        readds.incrementAndGet();
        if (rc != 0) {
            LOG.warn("dlpar_cpu_readd({}) of {} failed: {}", coreId, path, rc);
        }
    }

    private static boolean isCpu(Map<String, byte[]> properties) {
        byte[] type = properties.get("device_type");
        return type != null && new String(type, StandardCharsets.US_ASCII).replace("\0", "").equals("cpu");
    }

    /**
     * {@code find_and_update_cpu_nid} (dlpar_online_cpu): ask the hypervisor for the thread's home node with VPHN
     * (H_HOME_NODE_ASSOCIATIVITY, flags 1, the thread's id); when that fails, the node its cpu node's
     * {@code ibm,associativity} gives. Records it for the thread and returns it.
     */
    int findAndUpdateCpuNid(int cpu) {
        int nid = Associativity.NO_NODE;
        if (depth > 0) {
            HcallResult r = calls.hcall(Hcall.H_HOME_NODE_ASSOCIATIVITY, Vphn.FLAG_VCPU, cpu);
            vphnLookups.incrementAndGet();
            if (r.ok()) {
                nid = Associativity.nidOfDomains(Vphn.unpack(r.rets()), depth);
            }
        }
        if (nid == Associativity.NO_NODE) {
            nid = nodeFromTree(cpu);
        }
        cpuToNode.put(cpu, nid);
        return nid;
    }

    /** {@code update_numa_cpu_lookup_table(cpu, -1)} (pseries_remove_processor): the thread is gone. */
    void unmapCpu(int cpu) {
        cpuToNode.remove(cpu);
    }

    /** {@code of_node_to_nid_single} of the thread's cpu node; node 0 (first_online_node) when it has none. */
    private int nodeFromTree(int cpu) {
        if (depth <= 0) {
            return 0;
        }
        int nid = tree.read(t -> CpuNodes.nodeOf(t, cpu, depth));
        return nid == Associativity.NO_NODE ? 0 : nid;
    }

    // --- Where mobility flips the switch (PseriesMobility.TopologyHooks), by era.

    @Override
    public void migrationStart() {
        if (policy == TopologyPolicy.SCOPE_EXTENDED || policy == TopologyPolicy.CALLBACK_REMOVED
                || policy == TopologyPolicy.MUTEX_PATCH) {
            stopTopologyUpdate();
        }
    }

    @Override
    public void joinStart() {
        if (policy == TopologyPolicy.BEFORE_65B9FDADFC4D) {
            stopTopologyUpdate();
        }
    }

    @Override
    public void joinEnd() {
        if (policy == TopologyPolicy.BEFORE_65B9FDADFC4D) {
            startTopologyUpdate();
        }
    }

    @Override
    public void suspendDone(int rc) {
        if (policy == TopologyPolicy.MUTEX_PATCH) {
            startTopologyUpdate();
        }
    }

    @Override
    public void fixupDone() {
        if (policy == TopologyPolicy.SCOPE_EXTENDED || policy == TopologyPolicy.CALLBACK_REMOVED) {
            startTopologyUpdate();
        }
    }

    // --- Reports.

    /** The online threads' nodes, ascending by thread. */
    public NavigableMap<Integer, Integer> cpuNodes() {
        return new TreeMap<>(cpuToNode);
    }

    /** {@code prrn_enabled}: the notifier is registered now. */
    public boolean updatesOn() {
        return updatesOn.get();
    }

    /** The node depth ({@code min_common_depth}); 0 with NUMA disabled. */
    public int depth() {
        return depth;
    }

    /** Cores re-added by the callback. */
    public long readds() {
        return readds.get();
    }

    /** VPHN lookups made when onlining threads. */
    public long vphnLookups() {
        return vphnLookups.get();
    }

    /** Times the switch changed state. */
    public long switchFlips() {
        return switchFlips.get();
    }
}
