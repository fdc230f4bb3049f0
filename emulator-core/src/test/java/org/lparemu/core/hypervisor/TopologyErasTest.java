package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.check.Violation;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.trace.TraceKind;

/**
 * The 2019 topology machinery on the real platform: each kernel era's CPU-to-node map after a migration (every core's
 * associativity changes: the source is NUMA domain 0, the destination 16) and after a PRRN that moves one core, and
 * the CPU-affinity oracle ({@code cpu-node-stale}) firing exactly where an era that claims to move CPUs did not.
 */
@Timeout(60)
class TopologyErasTest {
    private static final String CORE1 = PartitionTrees.cpuPath(1, 2);

    private final Rig rig = new Rig();
    private GuestKernel kernel;

    @AfterEach
    void close() {
        if (kernel != null) {
            kernel.close();
        }
        rig.close();
    }

    private void boot(TopologyPolicy era, PrrnPolicy prrn) {
        kernel = GuestKernel.boot(new InProcessPort(rig.platform, "lpar1"), new GuestConfig(VasPolicy.UPSTREAM, prrn,
                new SystemGuestClock(0.001), "topology", null, era));
    }

    private boolean migrate() {
        long event = rig.platform.migrate("lpar1", "").eventId();
        Rig.await(rig.platform.awaitEvent(event, 20_000));
        return Rig.await(rig.platform.awaitMigration("lpar1", 20_000)).success();
    }

    private void prrnMovesCore1(int node) {
        long event = rig.platform.prrn("lpar1", List.of(DeviceTreeChange.setProperty(CORE1, "ibm,associativity",
                DeviceTree.cells(4, node, node, 900, 900)))).eventId();
        Partition.EventAck ack = Rig.await(rig.platform.awaitEvent(event, 20_000));
        assertEquals(0, ack.status(), ack.detail());
    }

    private List<String> stale() {
        InvariantReport r = Rig.await(InvariantChecker.check(rig.platform, "lpar1", 10_000));
        assertEquals(1, r.guestReportsCompared(), "quiescent, so compared: " + r);
        assertTrue(r.violations().stream().allMatch(v -> v.name().equals("cpu-node-stale")), r.violations().toString());
        return r.violations().stream().map(Violation::location).sorted().toList();
    }

    private long traced(String name) {
        return rig.platform.trace().read(0, 1_000_000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.GUEST && r.name().equals(name)).count();
    }

    private long calls(String name) {
        return rig.platform.trace().read(0, 1_000_000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.CALL_END && r.name().equals(name)).count();
    }

    @Test
    void bootReadsEveryThreadsNodeFromTheTreeWithoutAskingTheHypervisor() {
        boot(TopologyPolicy.V5_9, PrrnPolicy.IGNORE);
        assertEquals(Map.of(0, 0, 1, 0, 2, 0, 3, 0), kernel.numa().cpuNodes());
        assertEquals(1, kernel.numa().depth(), "the tree's reference points name the first domain");
        assertEquals(0, calls(Hcall.name(Hcall.H_HOME_NODE_ASSOCIATIVITY)));
        assertEquals(List.of(), stale());
    }

    @ParameterizedTest
    @EnumSource(TopologyPolicy.class)
    void afterAMigrationEachEraHasTheMapItsCodeGives(TopologyPolicy era) {
        boot(era, PrrnPolicy.DRAIN_BEFORE_SUSPEND);
        assertTrue(migrate());
        List<String> stale = stale();
        Map<Integer, Integer> map = kernel.numa().cpuNodes();
        switch (era) {
            case BEFORE_65B9FDADFC4D, MUTEX_PATCH -> {
                assertEquals(List.of(), stale, "the notifier was registered during the migration's update");
                assertEquals(Map.of(0, 16, 1, 16, 2, 16, 3, 16), map);
                assertEquals(2, kernel.numa().readds(), "one dlpar_cpu_readd per core");
                assertEquals(4, calls(Hcall.name(Hcall.H_HOME_NODE_ASSOCIATIVITY)), "VPHN for each re-added thread");
            }
            case SCOPE_EXTENDED -> {
                assertEquals(List.of("lpar1/cpu 0", "lpar1/cpu 1", "lpar1/cpu 2", "lpar1/cpu 3"), stale,
                        "65b9fdadfc4d: the notifier was off during the migration's update");
                assertEquals(Map.of(0, 0, 1, 0, 2, 0, 3, 0), map);
                assertEquals(0, kernel.numa().readds());
                assertTrue(kernel.numa().updatesOn(), "started again after post_mobility_fixup");
            }
            case CALLBACK_REMOVED, V5_9 -> {
                assertEquals(List.of(), stale, "an era that keeps its boot-time map is not held to the tree");
                assertEquals(Map.of(0, 0, 1, 0, 2, 0, 3, 0), map, "boot-time nodes, by design");
                assertEquals(0, kernel.numa().readds());
            }
            default -> throw new AssertionError(era);
        }
        assertEquals(era.hasSwitch() ? 3 : 0, kernel.numa().switchFlips(), "started at boot, stopped and started once");
        assertEquals(era.hasSwitch() ? 2 : 0, traced("topology_update_start") + traced("topology_update_stop")
                - (era.hasSwitch() ? 1 : 0), "each flip traced");
    }

    @ParameterizedTest
    @EnumSource(value = TopologyPolicy.class, names = {"BEFORE_65B9FDADFC4D", "SCOPE_EXTENDED", "MUTEX_PATCH"})
    void aPrrnThatMovesACoreIsFollowedWhileTheSwitchIsOn(TopologyPolicy era) {
        boot(era, PrrnPolicy.UNSERIALIZED);
        prrnMovesCore1(5);
        assertEquals(List.of(), stale());
        assertEquals(Map.of(0, 0, 1, 0, 2, 5, 3, 5), kernel.numa().cpuNodes());
        assertEquals(1, kernel.numa().readds());
    }

    @Test
    void aFailedMigrationUnder65b9fdadfc4dLeavesTopologyUpdatesOffAndTheNextPrrnIsMissed() {
        boot(TopologyPolicy.SCOPE_EXTENDED, PrrnPolicy.UNSERIALIZED);
        rig.platform.addFault(new FaultRule(FaultMatch.rtas(RtasService.SUSPEND_ME),
                new FaultAction.ReturnStatus(RtasStatus.THREADS_ACTIVE, new long[0], When.BEFORE)));
        assertFalse(migrate(), "every suspend attempt refused");
        assertFalse(kernel.numa().updatesOn(), "migration_store returned before start_topology_update");
        prrnMovesCore1(5);
        assertEquals(List.of("lpar1/cpu 2", "lpar1/cpu 3"), stale());
        assertEquals(Map.of(0, 0, 1, 0, 2, 0, 3, 0), kernel.numa().cpuNodes());
    }

    @ParameterizedTest
    @EnumSource(value = TopologyPolicy.class, names = {"BEFORE_65B9FDADFC4D", "MUTEX_PATCH"})
    void aFailedMigrationLeavesTheOtherErasFollowingPrrns(TopologyPolicy era) {
        boot(era, PrrnPolicy.UNSERIALIZED);
        rig.platform.addFault(new FaultRule(FaultMatch.rtas(RtasService.SUSPEND_ME),
                new FaultAction.ReturnStatus(RtasStatus.THREADS_ACTIVE, new long[0], When.BEFORE)));
        assertFalse(migrate());
        assertTrue(kernel.numa().updatesOn());
        prrnMovesCore1(5);
        assertEquals(List.of(), stale());
    }
}
