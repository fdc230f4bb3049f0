package org.lparemu.core.hypervisor;

import java.util.List;

/**
 * Registers every hcall and RTAS family in the dispatch table, grouped by family, and gives each family its
 * say when a partition is viewed, loses a connection, or is retired.
 */
final class HypervisorCalls {
    private HypervisorCalls() {
    }

    static void registerAll(DispatchTable table, Platform platform) {
        // Families register here as they are implemented (VAS, mobility, device tree, DLPAR).
    }

    /** A guest connection went away; families drop state owned by it. Caller holds the partition lock. */
    static void detachLocked(Partition p, GuestSession s) {
    }

    /** The partition is being deleted; families release what they hold. Caller holds the partition lock. */
    static void retireLocked(Partition p) {
    }

    /** Builds the GetState view. Caller holds the partition lock. */
    static PartitionView viewLocked(Partition p, List<PartitionView.EventView> events,
                                    List<PartitionView.ConnectionView> connections) {
        return new PartitionView(p.spec, p.system.name(), List.of(), List.of(), null, p.deviceTree.generation(),
                events, p.latestReport, p.suspended, connections, List.of(), p.deferredCalls.size(),
                p.deviceTree.copy());
    }
}
