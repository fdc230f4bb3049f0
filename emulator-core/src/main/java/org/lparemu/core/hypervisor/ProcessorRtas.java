package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/**
 * Processor start and stop (papr-notes 5, DLPAR of processors): the OS offlines a thread by having it call
 * {@code stop-self}, and onlines one by calling {@code start-cpu} for it from a running thread;
 * {@code query-cpu-stopped-state} tells whether a thread has stopped. See {@link VcpuTable} for what a stopped
 * vCPU may do (nothing). Handlers run under the partition lock.
 */
final class ProcessorRtas {
    /** query-cpu-stopped-state answers (Linux's QCSS_*): stopped, stop in progress, running. */
    static final int QCSS_STOPPED = 0;
    static final int QCSS_NOT_STOPPED = 2;

    private ProcessorRtas() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.registerRtas(RtasService.STOP_SELF, ProcessorRtas::stopSelf);
        table.registerRtas(RtasService.START_CPU, ProcessorRtas::startCpu);
        table.registerRtas(RtasService.QUERY_CPU_STOPPED_STATE, ProcessorRtas::queryCpuStoppedState);
    }

    /**
     * stop-self (no arguments): the calling vCPU stops. On a real processor the call never returns; lparemu
     * answers 0 once the vCPU is stopped so that the client's thread for it can end, and refuses every later
     * call from it (VCPU_STOPPED) until start-cpu.
     */
    @GuardedBy("p.lock")
    static RtasResult stopSelf(Partition p, CallContext ctx) {
        if (ctx.argCount() != 0) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        p.vcpus.stopLocked(ctx.vcpu());
        ctx.services().trace().note(TraceKind.STATE, p.name, "vcpu " + ctx.vcpu() + " stopped",
                p.vcpus.runningCount() + " running");
        return RtasResult.of(RtasStatus.SUCCESS);
    }

    /**
     * start-cpu(cpu, start address, r3): starts a stopped vCPU. -3 for a vCPU the partition does not have or one
     * that is not stopped (PAPR: the target must be in the stopped state).
     */
    @GuardedBy("p.lock")
    static RtasResult startCpu(Partition p, CallContext ctx) {
        long cpu = ctx.arg(0);

        if (ctx.argCount() != 3 || !p.vcpus.exists(cpu) || p.vcpus.running(cpu)) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        p.vcpus.startLocked((int) cpu);
        ctx.services().trace().note(TraceKind.STATE, p.name, "vcpu " + cpu + " started",
                "by vcpu " + ctx.vcpu() + ", " + p.vcpus.runningCount() + " running");
        return RtasResult.of(RtasStatus.SUCCESS);
    }

    /** query-cpu-stopped-state(cpu) -> state: 0 stopped, 2 running; -3 for a vCPU the partition does not have. */
    @GuardedBy("p.lock")
    static RtasResult queryCpuStoppedState(Partition p, CallContext ctx) {
        long cpu = ctx.arg(0);

        if (ctx.argCount() != 1 || !p.vcpus.exists(cpu)) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        return new RtasResult(RtasStatus.SUCCESS, new long[] {p.vcpus.running(cpu) ? QCSS_NOT_STOPPED : QCSS_STOPPED},
                null);
    }
}
