package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_BAD_MODE;
import static org.lparemu.core.papr.HStatus.H_CONTINUE;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallRefusedException;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRecord;

/**
 * The processor rules the hypervisor enforces (papr-notes 6.2): one call per vCPU, one RTAS call per partition
 * (stop-self excepted), nothing from a stopped vCPU, H_JOIN only with interrupts off; stop-self, start-cpu and
 * query-cpu-stopped-state; DLPAR-added threads start stopped. A refused call is traced, counted and changes nothing.
 */
@Timeout(20)
class VcpuRulesTest {
    private final Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    private CallRefusal refusedHcall(int vcpu, long opcode, long... args) {
        return assertThrows(CallRefusedException.class, () -> g.hcall(vcpu, opcode, args)).refusal();
    }

    private CallRefusal refusedRtas(int vcpu, String service, long... args) {
        return assertThrows(CallRefusedException.class, () -> g.rtas(vcpu, service, null, args)).refusal();
    }

    private List<TraceRecord> refusals() {
        return rig.platform.trace().read(0, 1000, "lpar1").records().stream()
                .filter(r -> r.kind() == TraceKind.REFUSED).toList();
    }

    private PartitionView.VcpuView vcpu(int v) {
        return rig.state("lpar1").vcpus().get(v);
    }

    @Test
    void aVcpuInsideACallCannotMakeAnotherAndTheRefusalChangesNothing() {
        rig.platform.addFault(new FaultRule(FaultMatch.hcall(Hcall.H_QUERY_VAS_CAPABILITIES).times(1),
                new FaultAction.Hold("q", When.BEFORE)));
        CompletableFuture<HcallResult> held = g.hcallAsync(0, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF);
        Rig.await(rig.platform.awaitHold("q", 1, 5000));
        assertEquals(new PartitionView.VcpuView(0, true, "H_QUERY_VAS_CAPABILITIES", false), vcpu(0));
        long callsBefore = rig.platform.callCount();

        CallRefusal r = refusedHcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
        assertEquals(CallRefusal.Reason.VCPU_BUSY, r.reason());
        assertEquals(0, r.vcpu());
        assertEquals("H_QUERY_VAS_CAPABILITIES", r.inCall());
        assertTrue(r.message().contains("H_ALLOCATE_VAS_WINDOW"), r.message());

        PartitionView after = rig.state("lpar1");
        assertEquals(1, after.callsRefused());
        assertEquals(List.of(), after.windows(), "the refused allocate did nothing");
        assertEquals(callsBefore, rig.platform.callCount(), "a refused call is not a call");
        List<TraceRecord> traced = refusals();
        assertEquals(1, traced.size());
        assertEquals("H_ALLOCATE_VAS_WINDOW", traced.get(0).name());
        assertEquals(0, traced.get(0).vcpu());

        // another vCPU is free to call; the held call still completes and frees vCPU 0
        assertEquals(H_SUCCESS, g.hcall(1, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
        rig.platform.holds().release("q", 0);
        assertEquals(H_SUCCESS, Rig.await(held).status());
        assertEquals("", vcpu(0).inCall(), "idle");
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
        assertEquals(1, rig.state("lpar1").callsRefused());
    }

    @Test
    void oneRtasCallAtATimeButStopSelfIsUnlocked() {
        rig.platform.addFault(new FaultRule(FaultMatch.rtas(RtasService.QUERY_CPU_STOPPED_STATE).times(1),
                new FaultAction.Hold("r", When.BEFORE)));
        CompletableFuture<RtasResult> held = g.rtasAsync(0, RtasService.QUERY_CPU_STOPPED_STATE, null, 1);
        Rig.await(rig.platform.awaitHold("r", 1, 5000));
        assertTrue(vcpu(0).holdsRtas());

        CallRefusal r = refusedRtas(1, RtasService.QUERY_CPU_STOPPED_STATE, 2);
        assertEquals(CallRefusal.Reason.RTAS_BUSY, r.reason());
        assertEquals(1, r.vcpu());
        assertEquals(0, r.busyVcpu());
        // hcalls are not serialized
        assertEquals(H_SUCCESS, g.hcall(1, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
        // stop-self is made without rtas_lock: it is admitted while another RTAS call is in flight
        assertEquals(RtasStatus.SUCCESS, g.rtas(3, RtasService.STOP_SELF, null).status());
        assertFalse(vcpu(3).running());

        rig.platform.holds().release("r", 0);
        assertEquals(RtasStatus.SUCCESS, Rig.await(held).status());
        assertFalse(vcpu(0).holdsRtas());
        assertEquals(RtasStatus.SUCCESS, g.rtas(1, RtasService.QUERY_CPU_STOPPED_STATE, null, 2).status());
        assertEquals(1, rig.state("lpar1").callsRefused());
    }

    @Test
    void aStoppedVcpuRunsNothingUntilStartCpu() {
        assertEquals(RtasStatus.SUCCESS, g.rtas(3, RtasService.STOP_SELF, null).status());
        RtasResult q = g.rtas(0, RtasService.QUERY_CPU_STOPPED_STATE, null, 3);
        assertEquals(RtasStatus.SUCCESS, q.status());
        assertEquals(ProcessorRtas.QCSS_STOPPED, q.rets()[0]);

        CallRefusal r = refusedHcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF);
        assertEquals(CallRefusal.Reason.VCPU_STOPPED, r.reason());
        assertEquals(CallRefusal.Reason.VCPU_STOPPED, refusedRtas(3, RtasService.STOP_SELF).reason());

        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.START_CPU, null, 2, 0, 0).status(),
                "vCPU 2 is running");
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.START_CPU, null, 9, 0, 0).status(),
                "no vCPU 9");
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(0, RtasService.STOP_SELF, null, 1).status(),
                "stop-self takes no arguments");
        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.START_CPU, null, 3, 0x100, 0).status());
        assertEquals(ProcessorRtas.QCSS_NOT_STOPPED, g.rtas(0, RtasService.QUERY_CPU_STOPPED_STATE, null, 3).rets()[0]);
        assertEquals(H_SUCCESS, g.hcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
        assertEquals(2, rig.state("lpar1").callsRefused());
    }

    @Test
    void hJoinNeedsInterruptsOffAndCountsOnlyRunningVcpus() {
        rig.platform.migrate("lpar1", null);
        assertEquals(H_BAD_MODE, g.hcallInterruptsOn(0, Hcall.H_JOIN).status());
        assertEquals(List.of(), rig.state("lpar1").joinedVcpus());

        // vCPU 3 stopped: the three running vCPUs make the rendezvous, the third to join is the last
        assertEquals(RtasStatus.SUCCESS, g.rtas(3, RtasService.STOP_SELF, null).status());
        CompletableFuture<HcallResult> j0 = g.hcallAsync(0, Hcall.H_JOIN);
        CompletableFuture<HcallResult> j1 = g.hcallAsync(1, Hcall.H_JOIN);
        assertEquals(H_CONTINUE, g.hcall(2, Hcall.H_JOIN).status());
        assertFalse(j0.isDone() || j1.isDone());
        assertEquals(List.of(0, 1), rig.state("lpar1").joinedVcpus());
    }

    @Test
    void threadsOfADlparAddedCoreStartStoppedUntilTheOsStartsThem() {
        rig.platform.dlparCpu("lpar1", true, 1);
        PartitionView v = rig.state("lpar1");
        assertEquals(6, v.vcpus().size());
        assertEquals(3, v.spec().cores());
        assertFalse(v.vcpus().get(4).running());
        assertFalse(v.vcpus().get(5).running());
        assertEquals(CallRefusal.Reason.VCPU_STOPPED, refusedHcall(4, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).reason());

        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.START_CPU, null, 4, 0x100, 4).status());
        assertTrue(vcpu(4).running());
        assertEquals(H_SUCCESS, g.hcall(4, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
    }
}
