package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_P2;
import static org.lparemu.core.papr.HStatus.H_P3;
import static org.lparemu.core.papr.HStatus.H_P4;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_PRIVILEGE;
import static org.lparemu.core.papr.HStatus.H_COP_HW;
import static org.lparemu.core.papr.HStatus.H_RESOURCE;
import static org.lparemu.core.papr.HStatus.H_STATE;

import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

/**
 * The VAS window family (papr-notes 3.1 - 3.5, 3.7): capabilities, allocate, modify, deallocate, query.
 *
 * <p>A window belongs to the partition that allocated it and lives in {@link Partition#windows}; an id that
 * is not there (another partition's, one from another system, one already freed) answers H_PARAMETER as if
 * it never existed. Window ids and paste addresses come from the partition's current system.
 *
 * <p>Credits: the Default target is cores x the system's credits_per_core, the QoS target is the partition's
 * QoS credits; every window that exists in the hypervisor (whatever its status) holds its credits until
 * H_DEALLOCATE_VAS_WINDOW. lparemu does not subtract QoS credits from the Default pool and never revokes
 * windows when the target drops (papr-notes 3.7 UNCONFIRMED: the OS is expected to close excess windows).
 *
 * <p>Handlers run under the partition lock.
 */
final class VasHcalls {
    /** How many window states there are (values() copies its array; hAllocateVasWindow asks on every call). */
    private static final int WINDOW_STATES = PlatformConfig.WindowState.values().length;

    /** Capability and result buffers are 4 KiB aligned guest pages. */
    static final long BUFFER_ALIGN = 4096;

    private VasHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_QUERY_VAS_CAPABILITIES, VasHcalls::hQueryVasCapabilities);
        table.register(Hcall.H_ALLOCATE_VAS_WINDOW, VasHcalls::hAllocateVasWindow);
        table.register(Hcall.H_MODIFY_VAS_WINDOW, VasHcalls::hModifyVasWindow);
        table.register(Hcall.H_DEALLOCATE_VAS_WINDOW, VasHcalls::hDeallocateVasWindow);
        table.register(Hcall.H_QUERY_VAS_WINDOW, VasHcalls::hQueryVasWindow);
    }

    /** A guest buffer address the hypervisor will write to: nonzero and 4 KiB aligned. */
    static boolean validBuffer(long address) {
        return address != 0 && (address & (BUFFER_ALIGN - 1)) == 0;
    }

    /**
     * H_QUERY_VAS_CAPABILITIES(query_type, buffer). Type 0: overall (feature bits); 1: QoS GZIP; 2: Default
     * GZIP. H_PARAMETER for another type, or for the QoS type on a system without the QoS feature;
     * H_PRIVILEGE for a zero or unaligned buffer. {@code def_lpar_creds} reports the Default credits the
     * current system assigns to this partition (cores x credits_per_core), which is also its target.
     */
    @GuardedBy("p.lock")
    static HcallResult hQueryVasCapabilities(Partition p, CallContext ctx) {
        long queryType = ctx.arg(0);
        long buffer = ctx.arg(1);
        PlatformConfig.SystemConfig sys = p.systemLocked().config();

        if (queryType != Vas.QUERY_OVERALL && queryType != Vas.QUERY_GZIP_QOS && queryType != Vas.QUERY_GZIP_DEFAULT) {
            return HcallResult.of(H_PARAMETER);
        }
        if (queryType == Vas.QUERY_GZIP_QOS && !sys.qosFeature()) {
            return HcallResult.of(H_PARAMETER);
        }
        if (!validBuffer(buffer)) {
            return HcallResult.of(H_PRIVILEGE);
        }
        int userMode = sys.userModeCopyPaste() ? Vas.USER_MODE_COPY_PASTE : 0;
        byte[] out = switch ((int) queryType) {
            case Vas.QUERY_OVERALL -> new Vas.AllCaps(Vas.DESCRIPTOR_OVERALL,
                    Vas.FEAT_GZIP_DEFAULT | (sys.qosFeature() ? Vas.FEAT_GZIP_QOS : 0)).encode();
            case Vas.QUERY_GZIP_QOS -> new Vas.CopFeatCaps(Vas.DESCRIPTOR_QOS, Vas.WIN_TYPE_QOS, userMode,
                    sys.maxLparCredits(), sys.maxWindowCredits(), 0, p.targetCreditsLocked(Vas.WIN_TYPE_QOS)).encode();
            default -> new Vas.CopFeatCaps(Vas.DESCRIPTOR_DEFAULT, Vas.WIN_TYPE_DEFAULT, userMode,
                    sys.maxLparCredits(), sys.maxWindowCredits(), p.defaultTargetCreditsLocked(),
                    p.targetCreditsLocked(Vas.WIN_TYPE_DEFAULT)).encode();
        };
        return HcallResult.successWithBuffer(out);
    }

    /**
     * H_ALLOCATE_VAS_WINDOW(win_type, credits, domain[0..5]) -> (win id, paste address, completion IRQ,
     * fault IRQ). The new window is MOD_IN_PROCESS until H_MODIFY_VAS_WINDOW. Checks in argument order:
     * H_PARAMETER bad type (or QoS without the feature), H_P2 credits outside 1..max_win_creds, H_COP_HW
     * without user-mode copy/paste, H_RESOURCE at the window-per-partition limit, and the configured
     * {@code overCreditStatus} (H_CONSTRAINED) beyond the type's target credits, counting the credits of the
     * windows whose state is one of the configured {@code creditHoldingStates} (every state by default: a window
     * holds its credits from allocation to deallocation; papr-notes 3.7 UNCONFIRMED).
     */
    @GuardedBy("p.lock")
    static HcallResult hAllocateVasWindow(Partition p, CallContext ctx) {
        long winType = ctx.arg(0);
        long credits = ctx.arg(1);
        long[] domain = new long[6];
        for (int i = 0; i < domain.length; i++) {
            domain[i] = ctx.arg(2 + i);
        }
        ManagedSystem system = p.systemLocked();
        PlatformConfig.SystemConfig sys = system.config();

        if (winType != Vas.WIN_TYPE_QOS && winType != Vas.WIN_TYPE_DEFAULT) {
            return HcallResult.of(H_PARAMETER);
        }
        if (winType == Vas.WIN_TYPE_QOS && !sys.qosFeature()) {
            return HcallResult.of(H_PARAMETER);
        }
        if (credits < 1 || credits > sys.maxWindowCredits()) {
            return HcallResult.of(H_P2);
        }
        if (!sys.userModeCopyPaste()) {
            return HcallResult.of(H_COP_HW);
        }
        if (p.windows.size() >= ctx.services().limits().maxWindowsPerPartition()) {
            return HcallResult.of(H_RESOURCE);
        }
        int type = (int) winType;
        PlatformConfig.HypervisorOptions opts = ctx.services().hypervisor();
        int held = opts.creditHoldingStates().size() == WINDOW_STATES
                ? p.usedCreditsLocked(type) : p.creditsHeldLocked(type, opts.creditHoldingStates());
        if (held + credits > p.targetCreditsLocked(type)) {
            return HcallResult.of(opts.overCreditStatus());
        }
        VasWindow w = new VasWindow(system.allocateWinId(), type, (int) credits, system, system.allocateIrq(),
                system.allocateIrq(), domain, ctx.session() == null ? 0 : ctx.session().id(), ctx.task());
        p.windows.put(w.winId, w);
        return HcallResult.success(w.winId, w.pasteAddress, w.completionIrq, w.faultIrq);
    }

    /**
     * H_MODIFY_VAS_WINDOW(winid, pid, tid, flags, amr). H_PARAMETER unknown window; without the CLOSE flag,
     * H_P2 for pid 0 or wider than 32 bits and H_P3 for a tid wider than 32 bits (PAPR: both are ignored
     * when CLOSE is set); H_P4 for flags outside {@link Vas#MOD_WIN_KNOWN_FLAGS}. CLOSE closes the window
     * (HV status CLOSED; closing a closed window succeeds); otherwise the window becomes ACTIVE.
     * UNCONFIRMED choice: a CLOSED window cannot be reopened by a modify (H_STATE); it must be deallocated.
     */
    @GuardedBy("p.lock")
    static HcallResult hModifyVasWindow(Partition p, CallContext ctx) {
        long winId = ctx.arg(0);
        long pid = ctx.arg(1);
        long tid = ctx.arg(2);
        long flags = ctx.arg(3);
        long amr = ctx.arg(4);

        VasWindow w = p.windows.get(winId);
        if (w == null) {
            return HcallResult.of(H_PARAMETER);
        }
        boolean close = (flags & Vas.MOD_WIN_CLOSE) != 0;
        if (!close && (pid == 0 || (pid >>> 32) != 0)) {
            return HcallResult.of(H_P2);
        }
        if (!close && (tid >>> 32) != 0) {
            return HcallResult.of(H_P3);
        }
        if ((flags & ~Vas.MOD_WIN_KNOWN_FLAGS) != 0) {
            return HcallResult.of(H_P4);
        }
        if (close) {
            if (w.status != VasWindow.Status.CLOSED) {
                w.transition(VasWindow.Status.CLOSED);
            }
            return HcallResult.success();
        }
        if (!w.status.canBecome(VasWindow.Status.ACTIVE)) {
            return HcallResult.of(H_STATE);
        }
        w.transition(VasWindow.Status.ACTIVE);
        w.pid = pid;
        w.tid = tid;
        w.flags = flags;
        w.amr = amr;
        return HcallResult.success();
    }

    /**
     * H_DEALLOCATE_VAS_WINDOW(winid): frees the window and its credits at once, with any faulted requests the OS
     * has not fetched with H_GET_NX_FAULT (papr-notes 3.4 leaves open whether the hypervisor waits for them or
     * answers long-busy; lparemu does neither); H_PARAMETER if unknown.
     */
    @GuardedBy("p.lock")
    static HcallResult hDeallocateVasWindow(Partition p, CallContext ctx) {
        long winId = ctx.arg(0);

        if (p.windows.remove(winId) == null) {
            return HcallResult.of(H_PARAMETER);
        }
        return HcallResult.success();
    }

    /**
     * H_QUERY_VAS_WINDOW(winid, buffer) writes {@link Vas.WinLpar} (88 bytes). The argument list is
     * UNCONFIRMED (papr-notes 3.5); lparemu takes the window id then a buffer address that, like the
     * capability buffers, must be nonzero and 4 KiB aligned (else H_PRIVILEGE). H_PARAMETER if unknown.
     */
    @GuardedBy("p.lock")
    static HcallResult hQueryVasWindow(Partition p, CallContext ctx) {
        long winId = ctx.arg(0);
        long buffer = ctx.arg(1);

        VasWindow w = p.windows.get(winId);
        if (w == null) {
            return HcallResult.of(H_PARAMETER);
        }
        if (!validBuffer(buffer)) {
            return HcallResult.of(H_PRIVILEGE);
        }
        return HcallResult.successWithBuffer(w.encodeWinLpar());
    }
}
