package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_BAD_MODE;
import static org.lparemu.core.papr.HStatus.H_CONTINUE;
import static org.lparemu.core.papr.HStatus.H_HARDWARE;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;

/**
 * The H_JOIN rendezvous (papr-notes 6.2, QEMU's H_JOIN as the model): H_JOIN parks the calling vCPU, except
 * for the last vCPU of the partition to join, which gets H_CONTINUE at once and goes on to call
 * ibm,suspend-me; H_PROD releases a parked vCPU with H_SUCCESS, or, when the target is not parked, is
 * remembered so that its next H_JOIN returns H_SUCCESS at once (H_JOIN is a confer-to-self).
 *
 * <p>The "last vCPU" test comes first, as in QEMU: the last joiner gets H_CONTINUE even with a prod pending
 * (the prod stays pending). A parked vCPU is an entry in {@link Partition#joined}; its pending call is
 * completed after the partition lock is released. Parked vCPUs stay parked across a suspension and are
 * prodded on the destination. Handlers run under the partition lock.
 */
final class JoinHcalls {
    /** A vCPU parked in H_JOIN: the connection it called on and its pending call. */
    record Joined(int vcpu, long connection, CompletableFuture<CallResult> call) {
    }

    private JoinHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_JOIN, JoinHcalls::hJoin);
        table.register(Hcall.H_PROD, JoinHcalls::hProd);
    }

    /**
     * H_JOIN: H_BAD_MODE unless the caller has external interrupts disabled (MSR[EE]=0, as stop_machine's
     * callback runs); H_PARAMETER when the vCPU is already parked; H_CONTINUE when every other running vCPU is
     * parked (a stopped vCPU does not join); H_SUCCESS at once when a prod is pending for it; otherwise parks
     * until H_PROD (H_SUCCESS).
     */
    @GuardedBy("p.lock")
    static HcallResult hJoin(Partition p, CallContext ctx) {
        int vcpu = ctx.vcpu();

        if (!ctx.interruptsDisabled()) {
            return HcallResult.of(H_BAD_MODE);
        }
        if (p.joined.containsKey(vcpu)) {
            return HcallResult.of(H_PARAMETER);
        }
        if (p.joined.size() == p.vcpus.runningCount() - 1) {
            return HcallResult.of(H_CONTINUE);
        }
        if (p.prodPending.remove(vcpu)) {
            return HcallResult.of(H_SUCCESS);
        }
        long connection = ctx.session() == null ? 0 : ctx.session().id();
        p.joined.put(vcpu, new Joined(vcpu, connection, ctx.defer()));
        return CallContext.PENDING_HCALL;
    }

    /** H_PROD(vcpu): H_PARAMETER for a vCPU the partition does not have; releases or remembers the prod. */
    @GuardedBy("p.lock")
    static HcallResult hProd(Partition p, CallContext ctx) {
        long target = ctx.arg(0);

        if (!p.vcpus.exists(target)) {
            return HcallResult.of(H_PARAMETER);
        }
        Joined j = p.joined.remove((int) target);
        if (j == null) {
            p.prodPending.add((int) target);
        } else {
            ctx.afterUnlock(() -> j.call().complete(HcallResult.of(H_SUCCESS)));
        }
        return HcallResult.success();
    }

    /** True when every vCPU other than {@code vcpu} is parked in H_JOIN. Caller holds the lock. */
    @GuardedBy("p.lock")
    static boolean othersJoinedLocked(Partition p, int vcpu) {
        int others = p.vcpus.runningCount() - 1;
        return p.joined.size() == others && !p.joined.containsKey(vcpu);
    }

    /**
     * Un-parks the vCPUs that joined on a connection that went away, and returns the completions to run
     * after unlock (their calls answer H_HARDWARE; nobody is listening, but the futures must not leak).
     */
    @GuardedBy("p.lock")
    static List<Runnable> cancelJoinsLocked(Partition p, long connection) {
        List<Runnable> out = new ArrayList<>();
        for (Iterator<Map.Entry<Integer, Joined>> it = p.joined.entrySet().iterator(); it.hasNext(); ) {
            Joined j = it.next().getValue();
            if (j.connection() == connection) {
                it.remove();
                out.add(() -> j.call().complete(HcallResult.of(H_HARDWARE)));
            }
        }
        return out;
    }
}
