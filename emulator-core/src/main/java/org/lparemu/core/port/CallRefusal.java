package org.lparemu.core.port;

/**
 * A call the platform refused because no real processor could have made it; the partition's state is untouched.
 * The guest port carries it as {@code CallRefused}; {@link HcallPort} implementations throw
 * {@link CallRefusedException}.
 *
 * @param reason   why
 * @param vcpu     the vCPU the call named
 * @param inCall   for VCPU_BUSY and RTAS_BUSY, the call already in progress (e.g. "H_JOIN"); else empty
 * @param busyVcpu for VCPU_BUSY and RTAS_BUSY, the vCPU making that call; else -1
 * @param message  one line naming the vCPU and the call it is in
 */
public record CallRefusal(Reason reason, int vcpu, String inCall, int busyVcpu, String message) implements CallResult {

    /** Why a call was refused (the guest port's CallRefused.Reason). */
    public enum Reason {
        /** The vCPU is already inside an hcall or RTAS call. */
        VCPU_BUSY,
        /** Another RTAS call of the partition is in flight (the OS serializes RTAS with rtas_lock). */
        RTAS_BUSY,
        /** The vCPU is stopped (stop-self, or removed) and runs no code. */
        VCPU_STOPPED
    }

    public CallRefusal {
        inCall = inCall == null ? "" : inCall;
        message = message == null ? "" : message;
    }
}
