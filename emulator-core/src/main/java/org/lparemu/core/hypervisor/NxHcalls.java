package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_CLOSED;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_PRIVILEGE;

import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

/**
 * The NX accelerator family: H_QUERY_NX_CAPABILITIES and the emulator-private paste
 * ({@link Hcall#H_LPAREMU_NX_PASTE}) that stands for a user-space {@code paste} to a mapped window.
 * Handlers run under the partition lock.
 */
final class NxHcalls {
    private NxHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_QUERY_NX_CAPABILITIES, NxHcalls::hQueryNxCapabilities);
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
     * H_LPAREMU_NX_PASTE(paste address, length): H_PARAMETER for length 0 or above the system's
     * req_max_processed_len; H_SUCCESS (and the window counts the bytes) when an ACTIVE window of this
     * partition is mapped at that address on its current system; otherwise H_CLOSED, which is what a paste
     * to a closed, half-open, freed or pre-migration window sees.
     */
    @GuardedBy("p.lock")
    static HcallResult hLparemuNxPaste(Partition p, CallContext ctx) {
        long pasteAddress = ctx.arg(0);
        long length = ctx.arg(1);
        ManagedSystem system = p.systemLocked();

        if (length <= 0 || length > system.config().nxReqMaxProcessedLen()) {
            return HcallResult.of(H_PARAMETER);
        }
        for (VasWindow w : p.windows.values()) {
            if (w.pasteAddress == pasteAddress && w.system == system && w.status == VasWindow.Status.ACTIVE) {
                w.bytesProcessed += length;
                w.pastes++;
                return HcallResult.success();
            }
        }
        return HcallResult.of(H_CLOSED);
    }
}
