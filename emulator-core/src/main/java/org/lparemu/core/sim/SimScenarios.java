package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PseriesVas;
import org.lparemu.core.hypervisor.DeviceTreeChange;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.PartitionTrees;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.port.DeviceTree;

/**
 * The built-in races as actors, with no hold anywhere: which interleaving happens is up to the strategy.
 * <ul>
 *   <li>{@code vas-open-vs-suspend}: the 2023 race at its smallest: a task opens a window while drmgr's VAS SUSPEND
 *       runs, with no migration around it; the window must not outlive the SUSPEND.</li>
 *   <li>{@code vas-open-vs-migration}: a task opens an NX-GZIP window while the operator migrates (2023).</li>
 *   <li>{@code vas-open-vs-migration-listed}: PRE_FIX's second branch: a window is already listed, so SUSPEND leaves
 *       nr_close_wins above 0 and a half-open window backs out on its own, deallocating after SUSPEND returned,
 *       in a race with ibm,suspend-me.</li>
 *   <li>{@code prrn-vs-migration}: a PRRN and a migration, both from the operator (2019).</li>
 *   <li>{@code close-during-migration}: a task closes its window while the operator migrates.</li>
 *   <li>{@code open-migrate-dlpar}: an open, a migration and a DLPAR core removal at once (three actors).</li>
 * </ul>
 */
public final class SimScenarios {
    /** Two LMBs of lpar1 reassigned to associativity index 1 (the memory side of a DPO run), as the demo's PRRN. */
    static final byte[] PRRN_DYNAMIC_MEMORY = DeviceTree.cells(4, 0, 0x80000000, 0, 0, 1, 0x8, 0, 0x10000000,
            0x80000001, 0, 1, 0x8, 0, 0x20000000, 0x80000002, 0, 0, 0x8, 0, 0x30000000, 0x80000003, 0, 0, 0x8);
    static final byte[] PRRN_ASSOCIATIVITY = DeviceTree.cells(4, 7, 7, 77, 77);

    /** The two nodes the PRRN changes: a system-owned property and a partition-owned one (prrn-model.md). */
    static final String SYSTEM_NODE = PartitionTrees.cpuPath(0, 2);
    static final String PARTITION_NODE = "/ibm,dynamic-reconfiguration-memory";

    private SimScenarios() {
    }

    public static List<SimScenario> all() {
        return List.of(vasOpenVsSuspend(), vasOpenVsMigration(), vasOpenVsMigrationListed(), prrnVsMigration(),
                closeDuringMigration(), openMigrateDlpar());
    }

    /** A built-in scenario by id. */
    public static SimScenario byId(String id) {
        for (SimScenario s : all()) {
            if (s.id().equals(id)) {
                return s;
            }
        }
        List<String> ids = new ArrayList<>();
        all().forEach(s -> ids.add(s.id()));
        throw new IllegalArgumentException("unknown scenario '" + id + "' (one of " + ids + ")");
    }

    /** What the actors saw, kept in the world for the outcome line. */
    private static final class Seen {
        NxGzipDevice.OpenResult result;
        MigrationOutcome migration;
        long handle;
        int suspendRc = Integer.MIN_VALUE;
    }

    public static SimScenario vasOpenVsSuspend() {
        return SimScenario.named("vas-open-vs-suspend")
                .title("A task opens a VAS window while drmgr's VAS SUSPEND runs (the 2023 race, no migration)")
                .guestTask("opener", w -> seen(w).result = w.nx().open(false, 0))
                .guestTask("drmgr", w -> seen(w).suspendRc = w.kernel().vas().migrationHandler(
                        PseriesVas.MigrationAction.SUSPEND))
                .oracle(new WindowAfterSuspend())
                .outcome(w -> "suspend rc " + seen(w).suspendRc + "; open " + open(seen(w).result) + "; "
                        + w.state().windows().size() + " window(s)")
                .build();
    }

    /**
     * After the guest's VAS SUSPEND returned, the hypervisor holds no window of the partition: SUSPEND closed every
     * window the guest had, and an open that comes after it is refused (EBUSY). A window left is one SUSPEND missed,
     * which would make ibm,suspend-me fail.
     */
    static final class WindowAfterSuspend implements SimOracle {
        @Override
        public String name() {
            return "window-after-vas-suspend";
        }

        @Override
        public boolean live() {
            return false;
        }

        @Override
        public List<SimOracle.Finding> check(SimWorld w) {
            if (seen(w).suspendRc == Integer.MIN_VALUE) {
                return List.of();
            }
            PartitionView v = w.state();
            if (v.windows().isEmpty()) {
                return List.of();
            }
            List<String> ids = new ArrayList<>();
            v.windows().forEach(x -> ids.add(Long.toString(x.winId())));
            return List.of(new SimOracle.Finding(name(), SimWorld.PARTITION + "/vas", "the guest's VAS SUSPEND returned "
                    + seen(w).suspendRc + " but the hypervisor still holds window(s) " + ids
                    + ": ibm,suspend-me would be refused"));
        }
    }

    public static SimScenario vasOpenVsMigration() {
        return SimScenario.named("vas-open-vs-migration")
                .title("A task opens a VAS window while the partition migrates (2023)")
                .guestTask("opener", w -> seen(w).result = w.nx().open(false, 0))
                .operator("hmc", w -> seen(w).migration = w.migrate())
                .outcome(w -> migration(seen(w).migration) + "; open " + open(seen(w).result) + "; "
                        + w.state().windows().size() + " window(s)")
                .build();
    }

    public static SimScenario vasOpenVsMigrationListed() {
        return SimScenario.named("vas-open-vs-migration-listed")
                .title("A second window opens while the partition migrates; the first is listed (PRE_FIX's second branch)")
                .setup(w -> {
                    NxGzipDevice.OpenResult r = w.nx().open(false, 0);
                    if (!r.ok()) {
                        throw new IllegalStateException("setup open failed: " + r.error());
                    }
                })
                .guestTask("opener", w -> seen(w).result = w.nx().open(false, 0))
                .operator("hmc", w -> seen(w).migration = w.migrate())
                .outcome(w -> migration(seen(w).migration) + "; open " + open(seen(w).result) + "; "
                        + w.state().windows().size() + " window(s)")
                .build();
    }

    public static SimScenario closeDuringMigration() {
        return SimScenario.named("close-during-migration")
                .title("A task closes its window while the partition migrates")
                .setup(w -> {
                    NxGzipDevice.OpenResult r = w.nx().open(false, 0);
                    if (!r.ok()) {
                        throw new IllegalStateException("setup open failed: " + r.error());
                    }
                    seen(w).handle = r.handle();
                })
                .guestTask("closer", w -> w.nx().close(seen(w).handle))
                .operator("hmc", w -> seen(w).migration = w.migrate())
                .outcome(w -> migration(seen(w).migration) + "; " + w.state().windows().size() + " window(s)")
                .build();
    }

    public static SimScenario openMigrateDlpar() {
        return SimScenario.named("open-migrate-dlpar")
                .title("An open, a migration and a DLPAR core removal at once")
                .guestTask("opener", w -> seen(w).result = w.nx().open(false, 0))
                .operator("hmc", w -> seen(w).migration = w.migrate())
                .operator("hmc-dlpar", w -> w.dlparCpu(false, 1))
                .outcome(w -> migration(seen(w).migration) + "; open " + open(seen(w).result) + "; "
                        + w.state().spec().cores() + " core(s), " + w.state().windows().size() + " window(s)")
                .build();
    }

    public static SimScenario prrnVsMigration() {
        return SimScenario.named("prrn-vs-migration")
                .title("A PRRN device-tree update while the partition migrates (2019)")
                .axis(SimScenario.Axis.PRRN)
                .operator("hmc-prrn", w -> w.prrn(List.of(
                        DeviceTreeChange.setProperty(SYSTEM_NODE, "ibm,associativity", PRRN_ASSOCIATIVITY),
                        DeviceTreeChange.setProperty(PARTITION_NODE, "ibm,dynamic-memory", PRRN_DYNAMIC_MEMORY))))
                .operator("hmc", w -> seen(w).migration = w.migrate())
                .outcome(w -> migration(seen(w).migration) + "; " + staleness(w))
                .build();
    }

    private static Seen seen(SimWorld w) {
        return w.local(Seen.class, Seen::new);
    }

    static String migration(MigrationOutcome o) {
        if (o == null) {
            return "no migration";
        }
        return (o.success() ? "migrated" : "migration " + o.vasiState().name().toLowerCase(Locale.ROOT)) + " "
                + SimWorld.suspendStatuses(o.rtasStatuses());
    }

    static String open(NxGzipDevice.OpenResult r) {
        if (r == null) {
            return "not run";
        }
        return r.ok() ? "ok" : r.error();
    }

    /** "trees agree" or "stale: path property, ..." (the device-tree oracle's view). */
    static String staleness(SimWorld w) {
        PartitionView v = w.state();
        DeviceTree platform = v.deviceTree();
        DeviceTree guest = w.kernel().report().deviceTree();
        TreeMap<String, String> stale = new TreeMap<>();
        for (String path : List.of(SYSTEM_NODE, PARTITION_NODE)) {
            Map<String, byte[]> p = platform.node(path).properties();
            DeviceTree.Node g = guest.node(path);
            for (Map.Entry<String, byte[]> e : p.entrySet()) {
                if (g == null || !Arrays.equals(e.getValue(), g.properties().get(e.getKey()))) {
                    stale.put(path + " " + e.getKey(), "");
                }
            }
        }
        return stale.isEmpty() ? "trees agree" : "stale: " + String.join(", ", stale.keySet());
    }
}
