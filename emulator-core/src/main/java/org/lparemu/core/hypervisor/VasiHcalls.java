package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_P2;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_STATE;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;

/**
 * The VASI family: the partition's side of its migration stream. A stream id is known to a partition while
 * it is the partition's current or most recent stream (so H_VASI_STATE still answers COMPLETED or ABORTED
 * after the end, until the next Migrate); any other id, including another partition's, is H_PARAMETER.
 * Handlers run under the partition lock.
 */
final class VasiHcalls {
    private VasiHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_VASI_STATE, VasiHcalls::hVasiState);
        table.register(Hcall.H_VASI_SIGNAL, VasiHcalls::hVasiSignal);
    }

    /** H_VASI_STATE(stream id) -> (state). */
    @GuardedBy("p.lock")
    static HcallResult hVasiState(Partition p, CallContext ctx) {
        long streamId = ctx.arg(0);
        VasiStream s = p.migration;

        if (s == null || s.streamId != streamId) {
            return HcallResult.of(H_PARAMETER);
        }
        return HcallResult.success(s.state.code);
    }

    /**
     * H_VASI_SIGNAL(stream id, signal, reason). A partition may only send CANCEL (other signals H_P2); CANCEL
     * aborts a stream that is ENABLED or SUSPENDING, recording the reason code; in any other state H_STATE.
     */
    @GuardedBy("p.lock")
    static HcallResult hVasiSignal(Partition p, CallContext ctx) {
        long streamId = ctx.arg(0);
        long signal = ctx.arg(1);
        long reason = ctx.arg(2);
        VasiStream s = p.migration;

        if (s == null || s.streamId != streamId) {
            return HcallResult.of(H_PARAMETER);
        }
        if (signal != VasiSignal.CANCEL) {
            return HcallResult.of(H_P2);
        }
        if (s.state != VasiState.ENABLED && s.state != VasiState.SUSPENDING) {
            return HcallResult.of(H_STATE);
        }
        List<Runnable> after = new ArrayList<>();
        Mobility.endLocked(p, s, VasiState.ABORTED, String.format(
                "cancelled by the partition: reason 0x%x (entity %d, code %d)", reason, (reason >>> 24) & 0xFF,
                reason & 0xFFFFFF), after);
        after.forEach(ctx::afterUnlock);
        return HcallResult.success();
    }
}
