package org.lparemu.core.guest;

/**
 * The kernel era of numa.c's topology updates: whether and when the guest keeps its CPU-to-node map
 * ({@code numa_cpu_lookup_table}) following the device tree's {@code ibm,associativity} after boot. The 2019 seed
 * thread is about these eras. Each constant is a placement of {@code stop_topology_update} /
 * {@code start_topology_update} and a {@code dt_update_callback}; a stale map comes out of running them against the
 * platform (a migration changes every core's associativity, a PRRN can move one), never from the policy knowing the
 * scenario. The CPU-affinity oracle ({@code cpu-node-stale}) holds an era to its own claim: an era that reassigns CPUs
 * at run time must agree with the device tree at quiescence; one that stopped doing so keeps its boot-time map.
 */
public enum TopologyPolicy {
    /**
     * 2018, before 65b9fdadfc4d: {@code rtas_ibm_suspend_me} stops topology updates just before the join and starts
     * them again right after it, so the notifier is registered while the post-migration device-tree update runs;
     * {@code dt_update_callback} answers every {@code ibm,associativity} change of a cpu node with
     * {@code dlpar_cpu_readd} (remove the core, add it again; its threads get their node from VPHN).
     */
    BEFORE_65B9FDADFC4D(true, false),
    /**
     * 65b9fdadfc4d ("Extend start/stop topology update scope", 2019): {@code migration_store} stops topology updates
     * before the suspend and starts them only after {@code post_mobility_fixup}, so the migration's own associativity
     * changes reach no notifier ("skipping CPU affinity update"), and a PRRN in that window is skipped too. A suspend
     * that fails returns before the start: updates stay off until the next successful migration.
     */
    SCOPE_EXTENDED(true, false),
    /**
     * Juliet Kim's 2019 patch: {@code start_topology_update} moved back before {@code post_mobility_fixup} (here: right
     * after the suspend loop, whatever its result; the thread does not show the failure path) and a
     * {@code dt_affinity_mutex} around every {@code pseries_devicetree_update}, PRRN and migration alike (the mutex
     * {@link PrrnPolicy#DT_MUTEX} also takes).
     */
    MUTEX_PATCH(true, true),
    /**
     * Nathan Lynch's answer in the same thread: remove {@code dt_update_callback -> dlpar_cpu_readd} rather than fix
     * it (38c392cef190). The switch stays, as in 65b9fdadfc4d, but nothing reassigns a CPU after boot: the map keeps
     * the boot-time nodes by design.
     */
    CALLBACK_REMOVED(false, false),
    /**
     * Linux v5.9+ (the 2020 removal, 1835303e5690): no switch and no callback; topology updates are gone (pair it with
     * {@link PrrnPolicy#IGNORE}, as the kernel does). The map keeps the boot-time nodes; only processor DLPAR sets a
     * new thread's node (from VPHN). The default.
     */
    V5_9(false, false);

    private final boolean reassignsCpus;
    private final boolean serializesUpdates;

    TopologyPolicy(boolean reassignsCpus, boolean serializesUpdates) {
        this.reassignsCpus = reassignsCpus;
        this.serializesUpdates = serializesUpdates;
    }

    /** The era claims to move CPUs to their new node at run time (the notifier calls dlpar_cpu_readd). */
    public boolean reassignsCpus() {
        return reassignsCpus;
    }

    /** Every whole device-tree update runs under the 2019 patch's mutex. */
    public boolean serializesUpdates() {
        return serializesUpdates;
    }

    /** numa.c still has start/stop_topology_update (everything before the 2020 removal). */
    public boolean hasSwitch() {
        return this != V5_9;
    }
}
