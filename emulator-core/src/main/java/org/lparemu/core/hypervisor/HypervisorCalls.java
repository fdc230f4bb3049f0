package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.Vas;

/**
 * Registers every hcall and RTAS family in the dispatch table, grouped by family, and gives each family its
 * say when a partition is viewed, loses a connection, or is retired.
 */
final class HypervisorCalls {
    private HypervisorCalls() {
    }

    static void registerAll(DispatchTable table) {
        // VAS windows and NX
        VasHcalls.register(table);
        NxHcalls.register(table);
        // NUMA
        NumaHcalls.register(table);
        // migration: VASI stream, H_JOIN rendezvous, suspend
        VasiHcalls.register(table);
        JoinHcalls.register(table);
        MobilityRtas.register(table);
        // device-tree updates and DLPAR
        DeviceTreeRtas.register(table);
        DrcRtas.register(table);
        // event logs
        EventLogRtas.register(table);
        ProcessorRtas.register(table);
    }

    /**
     * A guest connection went away. Its vCPUs parked in H_JOIN are un-parked (their calls answer
     * H_HARDWARE), so a reconnecting guest can join again. Its VAS windows stay allocated: the hypervisor
     * cannot tell a crashed guest from a slow one, so they stay until the partition is Reset or deleted, or a
     * reconnecting guest deallocates them (which also means ibm,suspend-me keeps refusing meanwhile).
     * Caller holds the partition lock; the returned work runs after unlock.
     */
    @GuardedBy("p.lock")
    static List<Runnable> detachLocked(Partition p, GuestSession s) {
        return JoinHcalls.cancelJoinsLocked(p, s.id());
    }

    /**
     * The partition is being deleted: every pending future (H_JOINs, the suspend-me call, AwaitMigration) is
     * failed and all hypervisor state is dropped. Caller holds the partition lock; the returned work runs after
     * unlock.
     */
    @GuardedBy("p.lock")
    static List<Runnable> retireLocked(Partition p) {
        ControlException gone = new ControlException(ControlError.UNKNOWN_PARTITION,
                "partition " + p.name + " was retired");
        List<Runnable> out = new ArrayList<>();
        for (JoinHcalls.Joined j : p.joined.values()) {
            out.add(() -> j.call().completeExceptionally(gone));
        }
        p.joined.clear();
        p.prodPending.clear();
        out.addAll(Mobility.retireLocked(p, gone));
        p.windows.clear();
        DeviceTreeRtas.retireLocked(p);
        p.drcs.clear();
        p.eventLogs.clear();
        return out;
    }

    /** Builds the GetState view. Caller holds the partition lock. */
    @GuardedBy("p.lock")
    static PartitionView viewLocked(Partition p, List<PartitionView.EventView> events,
                                    List<PartitionView.ConnectionView> connections, boolean withTree) {
        List<PartitionView.WindowView> windows = new ArrayList<>();
        for (VasWindow w : p.windows.values()) {
            windows.add(w.view());
        }
        PlatformConfig.SystemConfig sys = p.system.config();
        List<PartitionView.CreditView> credits = List.of(
                new PartitionView.CreditView(Vas.WIN_TYPE_QOS, p.targetCreditsLocked(Vas.WIN_TYPE_QOS),
                        sys.maxLparCredits(), p.usedCreditsLocked(Vas.WIN_TYPE_QOS)),
                new PartitionView.CreditView(Vas.WIN_TYPE_DEFAULT, p.targetCreditsLocked(Vas.WIN_TYPE_DEFAULT),
                        sys.maxLparCredits(), p.usedCreditsLocked(Vas.WIN_TYPE_DEFAULT)));
        return new PartitionView(p.spec, p.system.name(), windows, credits,
                p.migration == null ? null : p.migration.view(), p.deviceTree.generation(), events, p.latestReport,
                p.suspended, connections, List.copyOf(p.joined.keySet()), withTree ? p.deviceTree.copy() : null, p.vcpus.views(),
                p.callsRefused.get());
    }
}
