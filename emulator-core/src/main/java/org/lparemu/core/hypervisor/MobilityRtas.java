package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.RtasResult;

/**
 * The RTAS side of migration: ibm,suspend-me and ibm,activate-firmware. Handlers run under the partition
 * lock.
 */
final class MobilityRtas {
    private MobilityRtas() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.registerRtas(RtasService.SUSPEND_ME, MobilityRtas::ibmSuspendMe);
        table.registerRtas(RtasService.ACTIVATE_FIRMWARE, MobilityRtas::ibmActivateFirmware);
    }

    /**
     * ibm,suspend-me (no arguments; with any, -3 as in QEMU). In order:
     * <ul>
     *   <li>-9004 RTAS_NOT_SUSPENDABLE unless the partition's stream is SUSPENDING;</li>
     *   <li>-9005 RTAS_THREADS_ACTIVE unless every other vCPU is parked in H_JOIN;</li>
     *   <li>while a VAS window of the partition exists in the hypervisor in one of the configured
     *       {@code suspendBlockingStates} (by default every state: the hypervisor wants them deallocated,
     *       papr-notes 6.5 UNCONFIRMED): with
     *       {@link PlatformConfig.SuspendWithWindows#REFUSE} the configured {@code suspendRefusalStatus}
     *       (-9006 RTAS_OUTSTANDING_COPROC) and the stream stays SUSPENDING so the OS may retry; with
     *       {@link PlatformConfig.SuspendWithWindows#ABORT_STREAM} the stream is ABORTED and the status is
     *       9000 RTAS_SUSPEND_ABORTED;</li>
     *   <li>otherwise the suspension is accepted and the call returns 0 only after the resume, on the
     *       destination ({@link Mobility#suspendLocked}).</li>
     * </ul>
     * Every status given while the stream is open counts as an attempt of the stream (0 for the accepted one).
     */
    @GuardedBy("p.lock")
    static RtasResult ibmSuspendMe(Partition p, CallContext ctx) {
        int vcpu = ctx.vcpu();
        VasiStream s = p.migration;
        PlatformConfig.HypervisorOptions opts = ctx.services().hypervisor();

        if (ctx.argCount() != 0) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        if (s == null || !s.active()) {
            return RtasResult.of(RtasStatus.NOT_SUSPENDABLE);
        }
        int status;
        if (s.state != VasiState.SUSPENDING) {
            status = RtasStatus.NOT_SUSPENDABLE;
        } else if (!JoinHcalls.othersJoinedLocked(p, vcpu)) {
            status = RtasStatus.THREADS_ACTIVE;
        } else if (blockingWindowsLocked(p, opts) > 0) {
            if (opts.suspendWithWindows() == PlatformConfig.SuspendWithWindows.ABORT_STREAM) {
                status = RtasStatus.SUSPEND_ABORTED;
                s.rtasStatuses.add(status);
                List<Runnable> after = new ArrayList<>();
                Mobility.endLocked(p, s, VasiState.ABORTED, blockingWindowsLocked(p, opts)
                        + " VAS window(s) open at suspend", after);
                after.forEach(ctx::afterUnlock);
                return RtasResult.of(status);
            }
            status = opts.suspendRefusalStatus();
        } else {
            s.rtasStatuses.add(RtasStatus.SUCCESS);
            Mobility.suspendLocked(ctx, p, s);
            return CallContext.PENDING_RTAS;
        }
        s.rtasStatuses.add(status);
        return RtasResult.of(status);
    }

    /** The partition's windows whose state is one of the configured {@code suspendBlockingStates}. */
    @GuardedBy("p.lock")
    static int blockingWindowsLocked(Partition p, PlatformConfig.HypervisorOptions opts) {
        if (opts.suspendBlockingStates().size() == PlatformConfig.WindowState.values().length) {
            return p.windows.size();
        }
        int n = 0;
        for (VasWindow w : p.windows.values()) {
            if (opts.suspendBlockingStates().contains(p.windowStateLocked(w))) {
                n++;
            }
        }
        return n;
    }

    /** ibm,activate-firmware: nothing to activate in the emulator; 0. */
    @GuardedBy("p.lock")
    static RtasResult ibmActivateFirmware(Partition p, CallContext ctx) {
        return RtasResult.of(RtasStatus.SUCCESS);
    }
}
