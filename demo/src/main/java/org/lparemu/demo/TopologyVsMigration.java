package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.papr.Associativity;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.CpuNodes;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.When;
import org.lparemu.wire.ProtoMapping;

/**
 * Seed thread 1's other half (linuxppc-dev, May 2019): the NUMA topology update switch. Commit 65b9fdadfc4d kept
 * {@code dt_update_callback} unregistered until the migration's device-tree update was over, "skipping CPU affinity
 * update"; Juliet Kim's patch moved the start back; Nathan Lynch wanted the callback removed; v5.9 removed it all.
 *
 * <p>Two arrangements, the same for every era:
 * <ul>
 *   <li>{@code topology-migration}: migrate. The destination is another NUMA domain (16 instead of 0), so every
 *       core's {@code ibm,associativity} changes in the migration's own device-tree update.</li>
 *   <li>{@code topology-failed-migration}: the operator makes every {@code ibm,suspend-me} answer -9005 (a fault
 *       rule), so the migration fails after its five attempts; then a PRRN moves core 1 (threads 2 and 3) to node 5.
 *       </li>
 * </ul>
 * The era's own PRRN handling comes with it: UNSERIALIZED before the mutex patch and after it was not merged,
 * DT_MUTEX with it, IGNORE from v5.9.
 */
public final class TopologyVsMigration implements Scenario {
    static final String CORE1 = "/cpus/PowerPC,POWER10@2";
    static final int PRRN_NODE = 5;

    private final boolean failFirst;

    private TopologyVsMigration(boolean failFirst) {
        this.failFirst = failFirst;
    }

    /** A migration across NUMA domains. */
    public static TopologyVsMigration migration() {
        return new TopologyVsMigration(false);
    }

    /** A refused migration, then a PRRN that moves a core. */
    public static TopologyVsMigration failedMigrationThenPrrn() {
        return new TopologyVsMigration(true);
    }

    @Override
    public String id() {
        return failFirst ? "topology-failed-migration" : "topology-migration";
    }

    @Override
    public String title() {
        return failFirst ? "CPU affinity after a refused migration and a PRRN (2019)" : "CPU affinity across a migration (2019)";
    }

    @Override
    public Axis axis() {
        return Axis.TOPOLOGY;
    }

    @Override
    public Expectation expected(String policy) {
        return failFirst ? expectedAfterFailure(policy) : expectedAfterMigration(policy);
    }

    private static Expectation expectedAfterMigration(String policy) {
        return switch (policy) {
            case "BEFORE_65B9FDADFC4D" -> new Expectation("migrated; 2 core(s) re-added; CPU map follows the tree",
                    "before 65b9fdadfc4d the switch is off only around the join, so the notifier sees each core's new "
                            + "associativity in the post-migration update and dlpar_cpu_readd puts its threads on node 16 "
                            + "(VPHN).");
            case "SCOPE_EXTENDED" -> new Expectation("migrated; 0 core(s) re-added; cpu-node-stale: cpu 0, 1, 2, 3",
                    "65b9fdadfc4d: migration_store stops topology updates before the suspend and starts them after "
                            + "post_mobility_fixup, so the associativity changes reach no notifier: the \"skipping CPU "
                            + "affinity update\" regression of the 2019 thread.");
            case "MUTEX_PATCH" -> new Expectation("migrated; 2 core(s) re-added; CPU map follows the tree",
                    "Juliet Kim's patch starts topology updates again before post_mobility_fixup, so the update's "
                            + "associativity changes re-add both cores, serialized with PRRNs by dt_affinity_mutex.");
            case "CALLBACK_REMOVED" -> new Expectation(
                    "migrated; 0 core(s) re-added; boot-time map kept: 4 CPU(s) off the tree's node",
                    "Nathan Lynch's answer: no dt_update_callback -> dlpar_cpu_readd; the tree is right, the CPUs keep "
                            + "their boot-time node by design, and the oracle does not hold the era to the tree.");
            case "V5_9" -> new Expectation("migrated; 0 core(s) re-added; boot-time map kept: 4 CPU(s) off the tree's node",
                    "v5.9+: topology updates are gone; a CPU keeps its boot-time node across migrations, by design.");
            default -> throw new IllegalArgumentException(policy);
        };
    }

    private static Expectation expectedAfterFailure(String policy) {
        return switch (policy) {
            case "BEFORE_65B9FDADFC4D" -> new Expectation(
                    "migration failed; topology updates on; PRRN applied; 1 core(s) re-added; CPU map follows the tree",
                    "the switch went off and on around each of the five refused joins, so the PRRN's associativity "
                            + "change reaches dt_update_callback and core 1 is re-added on node 5.");
            case "SCOPE_EXTENDED" -> new Expectation(
                    "migration failed; topology updates off; PRRN applied; 0 core(s) re-added; cpu-node-stale: cpu 2, 3",
                    "65b9fdadfc4d's migration_store returns the suspend's error before start_topology_update: "
                            + "topology updates stay off after a failed migration, and every later PRRN is applied to "
                            + "the tree without moving a CPU.");
            case "MUTEX_PATCH" -> new Expectation(
                    "migration failed; topology updates on; PRRN applied; 1 core(s) re-added; CPU map follows the tree",
                    "with the start moved before post_mobility_fixup (here: right after the suspend loop, whatever its "
                            + "result) the switch is on again, so the PRRN moves core 1.");
            case "CALLBACK_REMOVED" -> new Expectation("migration failed; topology updates off; PRRN applied; "
                    + "0 core(s) re-added; boot-time map kept: 2 CPU(s) off the tree's node",
                    "the switch is left off as in 65b9fdadfc4d, but with the callback gone that no longer matters: "
                            + "the tree follows the PRRN and the CPUs keep their boot-time node by design.");
            case "V5_9" -> new Expectation("migration failed; no topology updates; PRRN ignored; 0 core(s) re-added; "
                    + "boot-time map kept: 2 CPU(s) off the tree's node; device tree stale",
                    "v5.9+: \"Platform resource reassignment ignored.\"; the guest's tree misses the new associativity "
                            + "and the CPUs keep their node.");
            default -> throw new IllegalArgumentException(policy);
        };
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        List<String> evidence = new ArrayList<>();
        evidence.add("boot: " + guest.numa().cpuNodes() + " (thread -> node), depth " + guest.numa().depth()
                + ", switch " + (guest.config().topologyPolicy().hasSwitch()
                ? guest.numa().updatesOn() ? "on" : "off" : "absent"));
        if (failFirst) {
            r.fault(FaultMatch.newBuilder().setRtasService(RtasService.SUSPEND_ME),
                    FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder()
                            .setStatus(RtasStatus.THREADS_ACTIVE).setWhen(When.BEFORE)));
        }
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        var migrationAck = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + ", suspend statuses "
                + o.getRtasStatusesList() + "; guest handler ack " + migrationAck.getStatus());
        String prrnText = null;
        if (failFirst) {
            var prrn = r.control().prrn(ScenarioRun.PARTITION, List.of(PrrnVsMigration.set(CORE1,
                    Associativity.PROPERTY, DeviceTree.cells(4, PRRN_NODE, PRRN_NODE, 900, 900))));
            var prrnAck = r.control().awaitEvent(prrn.getEventId(), ScenarioRun.WAIT);
            prrnText = prrnAck.getDetail().contains("ignored") ? "PRRN ignored"
                    : prrnAck.getStatus() == 0 ? "PRRN applied" : "PRRN failed (" + prrnAck.getStatus() + ")";
            evidence.add("PRRN scope " + prrn.getScope() + " moves " + CORE1 + " to node " + PRRN_NODE + ": acked "
                    + prrnAck.getStatus() + " (" + prrnAck.getDetail() + ")");
        }
        InvariantReport check = r.check();
        DeviceTree platform = ProtoMapping.fromProto(r.control().getState(ScenarioRun.PARTITION).getDeviceTree());
        Map<Integer, Integer> map = guest.numa().cpuNodes();
        int depth = CpuNodes.depth(platform);
        Map<Integer, Integer> tree = new TreeMap<>();
        map.keySet().forEach(cpu -> tree.put(cpu, CpuNodes.nodeOf(platform, cpu, depth)));
        long off = map.entrySet().stream().filter(e -> !e.getValue().equals(tree.get(e.getKey()))).count();
        List<String> stale = check.getViolationsList().stream().filter(v -> v.getName().equals("cpu-node-stale"))
                .map(v -> v.getLocation().substring(v.getLocation().indexOf("cpu ") + 4)).toList();
        boolean treeStale = check.getViolationsList().stream().anyMatch(v -> v.getName().equals("device-tree-stale"));
        boolean other = check.getViolationsList().stream()
                .anyMatch(v -> !v.getName().equals("cpu-node-stale") && !v.getName().equals("device-tree-stale"));

        List<String> verdict = new ArrayList<>();
        verdict.add(o.getSuccess() ? "migrated" : "migration failed");
        if (failFirst) {
            verdict.add(!guest.config().topologyPolicy().hasSwitch() ? "no topology updates"
                    : guest.numa().updatesOn() ? "topology updates on" : "topology updates off");
            verdict.add(prrnText);
        }
        verdict.add(guest.numa().readds() + " core(s) re-added");
        if (!stale.isEmpty()) {
            verdict.add("cpu-node-stale: cpu " + String.join(", ", stale));
        } else if (off > 0) {
            verdict.add("boot-time map kept: " + off + " CPU(s) off the tree's node");
        } else {
            verdict.add("CPU map follows the tree");
        }
        if (treeStale) {
            verdict.add("device tree stale");
        }
        if (other) {
            verdict.add("other violations");
        }
        evidence.add("guest map " + map + ", the platform tree's nodes " + tree + " (" + guest.numa().readds()
                + " dlpar_cpu_readd, " + guest.numa().vphnLookups() + " VPHN lookup(s), " + guest.numa().switchFlips()
                + " switch flip(s))");
        evidence.addAll(ScenarioRun.violations(check));
        return new Result(String.join("; ", verdict), evidence);
    }
}
