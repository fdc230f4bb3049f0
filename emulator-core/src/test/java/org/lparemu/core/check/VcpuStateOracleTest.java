package org.lparemu.core.check;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.PartitionView.VcpuView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.papr.RtasService;

/**
 * The {@code vcpu-state} oracle fires on each processor state the rules make impossible, and stays quiet on the
 * states a kernel legitimately passes through (a vCPU parked in H_JOIN, the suspender inside ibm,suspend-me, a
 * stopped vCPU, one answering stop-self).
 */
@Timeout(20)
class VcpuStateOracleTest {
    private static final Platform PLATFORM = new Platform(PlatformConfig.defaults());
    private static final PartitionView BASE;

    static {
        PLATFORM.createPartition(new PartitionSpec("p", 4, 2, false, 0, null));
        BASE = PLATFORM.getState("p");
    }

    @AfterAll
    static void close() {
        PLATFORM.close();
    }

    private static PartitionView with(List<VcpuView> vcpus, List<Integer> joined, boolean suspended) {
        PartitionView b = BASE;
        return new PartitionView(b.spec(), b.system(), b.windows(), b.credits(), b.migration(),
                b.deviceTreeGeneration(), b.pendingEvents(), b.guestReport(), suspended, b.connections(), joined,
                b.deviceTree(), vcpus, b.callsRefused());
    }

    private static List<Violation> vcpuState(PartitionView v) {
        return InvariantChecker.hypervisor(v, PLATFORM.system(v.system())).stream()
                .filter(x -> x.name().equals("vcpu-state")).toList();
    }

    private static VcpuView idle(int v) {
        return new VcpuView(v, true, "", false);
    }

    @Test
    void legitimateStatesAreQuiet() {
        assertEquals(List.of(), vcpuState(BASE));
        assertEquals(List.of(), vcpuState(with(List.of(new VcpuView(0, true, "H_JOIN", false), idle(1),
                new VcpuView(2, false, "", false), new VcpuView(3, false, RtasService.STOP_SELF, false)), List.of(0),
                false)));
    }

    @Test
    void aJoinedVcpuThatIsNotInHJoinFires() {
        List<Violation> v = vcpuState(with(List.of(new VcpuView(0, true, "H_PROD", false), idle(1), idle(2),
                idle(3)), List.of(0), false));
        assertEquals(1, v.size());
        assertEquals("p/vcpu 0", v.get(0).location());
    }

    @Test
    void aStoppedVcpuInsideACallFires() {
        List<Violation> v = vcpuState(with(List.of(idle(0), new VcpuView(1, false, "H_JOIN", false), idle(2),
                idle(3)), List.of(), false));
        assertEquals(1, v.size());
        assertEquals("p/vcpu 1", v.get(0).location());
    }

    @Test
    void aRunningVcpuOutsideTheRendezvousWhileSuspendedFires() {
        List<Violation> v = vcpuState(with(List.of(new VcpuView(0, true, "H_JOIN", false),
                new VcpuView(1, true, "H_JOIN", false), new VcpuView(2, true, RtasService.SUSPEND_ME, true), idle(3)),
                List.of(0, 1), true));
        assertEquals(1, v.size());
        assertEquals("p/vcpu 3", v.get(0).location());
    }
}
