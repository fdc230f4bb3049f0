package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_BUSY;
import static org.lparemu.core.papr.HStatus.H_CLOSED;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_PRIVILEGE;
import static org.lparemu.core.papr.HStatus.H_STATE;

import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceKind;

/**
 * The NX accelerator family: H_QUERY_NX_CAPABILITIES, H_GET_NX_FAULT and the emulator-private paste
 * ({@link Hcall#H_LPAREMU_NX_PASTE}) that stands for a user-space {@code paste} to a mapped window.
 * Handlers run under the partition lock.
 */
final class NxHcalls {
    /** Fault status NX stamps on a request whose storage was not translatable (nonzero: a fault). */
    static final int NX_FAULT_STATUS_TRANSLATION = 1;
    private NxHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_QUERY_NX_CAPABILITIES, NxHcalls::hQueryNxCapabilities);
        table.register(Hcall.H_GET_NX_FAULT, NxHcalls::hGetNxFault);
        table.register(Hcall.H_LPAREMU_NX_PASTE, NxHcalls::hLparemuNxPaste);
    }

    /**
     * H_QUERY_NX_CAPABILITIES(query_type, buffer): 0 = overall ({@link Vas.AllCaps} with the GZIP feature
     * bit), 1 = NX GZIP ({@link Vas.NxGzipCaps} from the current system). H_PARAMETER for another type,
     * H_PRIVILEGE for a zero or unaligned buffer.
     */
    @GuardedBy("p.lock")
    static HcallResult hQueryNxCapabilities(Partition p, CallContext ctx) {
        long queryType = ctx.arg(0);
        long buffer = ctx.arg(1);
        PlatformConfig.SystemConfig sys = p.systemLocked().config();

        if (queryType != Vas.NX_QUERY_OVERALL && queryType != Vas.NX_QUERY_GZIP) {
            return HcallResult.of(H_PARAMETER);
        }
        if (!VasHcalls.validBuffer(buffer)) {
            return HcallResult.of(H_PRIVILEGE);
        }
        byte[] out = queryType == Vas.NX_QUERY_OVERALL
                ? new Vas.AllCaps(Vas.NX_DESCRIPTOR_OVERALL, Vas.NX_FEAT_GZIP).encode()
                : new Vas.NxGzipCaps(Vas.NX_DESCRIPTOR_GZIP, sys.nxReqMaxProcessedLen(), sys.nxMinCompressLen(),
                        sys.nxMinDecompressLen()).encode();
        return HcallResult.successWithBuffer(out);
    }

    /**
     * H_GET_NX_FAULT(winid, buffer) (papr-notes 3.6): copies the oldest faulted request block of the window into the
     * buffer, one per call ("one fault CRB to process for each H_GET_NX_FAULT"). H_PARAMETER for a window this
     * partition does not have, H_PRIVILEGE for a buffer that is zero or not aligned to a CRB (128 bytes), H_STATE
     * when the window has no outstanding fault.
     */
    @GuardedBy("p.lock")
    static HcallResult hGetNxFault(Partition p, CallContext ctx) {
        long winId = ctx.arg(0);
        long buffer = ctx.arg(1);

        VasWindow w = p.windows.get(winId);
        if (w == null) {
            return HcallResult.of(H_PARAMETER);
        }
        if (buffer == 0 || (buffer & (Vas.CRB_ALIGN - 1)) != 0) {
            return HcallResult.of(H_PRIVILEGE);
        }
        Vas.FaultCrb crb = w.pollFault();
        if (crb == null) {
            return HcallResult.of(H_STATE);
        }
        return HcallResult.successWithBuffer(crb.encode());
    }

    /**
     * H_LPAREMU_NX_PASTE(paste address, length[, fault address, CSB address]): H_PARAMETER for length 0 or above
     * the system's req_max_processed_len; H_SUCCESS (and the window counts the bytes) when an ACTIVE window of this
     * partition is mapped at that address on its current system; otherwise H_CLOSED, which is what a paste to a
     * closed, half-open, freed or pre-migration window sees, and every paste while a starting migration has
     * changed the VAS mappings ({@link #mappingsChangedLocked}).
     *
     * <p>A nonzero fault address is a request whose buffer there is not mapped: NX accepts the paste, cannot
     * complete the request, stamps it with the fault address and queues it in the window's fault FIFO, and the
     * window's fault interrupt is raised (an {@link PlatformEvent.Interrupt} to the guest); the OS fetches it with
     * H_GET_NX_FAULT. With the FIFO full ({@link VasWindow#MAX_PENDING_FAULTS}) the paste is refused H_BUSY.
     */
    @GuardedBy("p.lock")
    static HcallResult hLparemuNxPaste(Partition p, CallContext ctx) {
        long pasteAddress = ctx.arg(0);
        long length = ctx.arg(1);
        long faultAddress = ctx.arg(2);
        long csbAddress = ctx.arg(3);
        ManagedSystem system = p.systemLocked();

        if (length <= 0 || length > system.config().nxReqMaxProcessedLen()) {
            return HcallResult.of(H_PARAMETER);
        }
        if (mappingsChangedLocked(p, ctx.services().hypervisor())) {
            return HcallResult.of(H_CLOSED);
        }
        for (VasWindow w : p.windows.values()) {
            if (w.pasteAddress == pasteAddress && w.system == system && w.status == VasWindow.Status.ACTIVE) {
                if (faultAddress != 0) {
                    return faultLocked(p, ctx, w, faultAddress, csbAddress);
                }
                w.bytesProcessed += length;
                w.pastes++;
                return HcallResult.success();
            }
        }
        return HcallResult.of(H_CLOSED);
    }

    /**
     * With {@code vasMappingsChangeAtMigrate}, the VAS mappings are changed from Migrate until the stream leaves
     * ENABLED and SUSPENDING (the partition resumed elsewhere, or the migration was aborted and they are restored).
     */
    @GuardedBy("p.lock")
    static boolean mappingsChangedLocked(Partition p, PlatformConfig.HypervisorOptions opts) {
        VasiStream s = p.migration;
        return opts.vasMappingsChangeAtMigrate() && s != null
                && (s.state == VasiState.ENABLED || s.state == VasiState.SUSPENDING);
    }

    @GuardedBy("p.lock")
    private static HcallResult faultLocked(Partition p, CallContext ctx, VasWindow w, long faultAddress,
                                           long csbAddress) {
        if (w.pendingFaults() >= VasWindow.MAX_PENDING_FAULTS) {
            return HcallResult.of(H_BUSY);
        }
        w.addFault(new Vas.FaultCrb(0, csbAddress, faultAddress, NX_FAULT_STATUS_TRANSLATION, (int) w.winId));
        w.pastes++;
        int irq = w.faultIrq;
        String what = "fault irq " + irq + " of window " + w.winId;
        ctx.afterUnlock(() -> raise(ctx.services(), p, irq, what));
        return HcallResult.success();
    }

    /** Raises an interrupt; an event the partition cannot take (its pending-event limit) is lost and traced. */
    private static void raise(PlatformServices services, Partition p, int irq, String what) {
        try {
            services.pushEvent(p, id -> new PlatformEvent.Interrupt(id, irq), what);
        } catch (ControlException e) {
            services.trace().note(TraceKind.FAULT, p.name, "interrupt lost", what + ": " + e.getMessage());
        }
    }
}
