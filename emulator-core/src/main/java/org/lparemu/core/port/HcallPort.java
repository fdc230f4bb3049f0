package org.lparemu.core.port;

import java.util.concurrent.CompletableFuture;

/**
 * The guest kernel's only way to reach the platform: the hcall and RTAS ABI plus platform-event delivery,
 * exactly what a real kernel sees. Two implementations: the in-process port (straight into the core's
 * dispatcher) and the socket port ({@code GuestConnection} in the client module).
 *
 * <p>The blocking forms block the calling thread the way a CPU is busy during an hcall. The guest task that
 * makes a call is named by the calling thread's name, which traces and fault rules see.
 */
public interface HcallPort extends AutoCloseable {

    /** The partition this port is bound to, as the platform described it when the port connected. */
    BootInfo bootInfo();

    /** One hcall on behalf of {@code vcpu}; blocks until the hypervisor answers. */
    default HcallResult hcall(int vcpu, long opcode, long... args) {
        return hcall(vcpu, opcode, args, null);
    }

    /** One hcall with a guest buffer ({@code buffer} holds its input contents, may be null), interrupts enabled. */
    default HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer) {
        return hcall(vcpu, opcode, args, buffer, false);
    }

    /**
     * One hcall; {@code interruptsDisabled} is MSR[EE]=0 at the call, as in stop_machine's callback (H_JOIN
     * requires it and answers H_BAD_MODE otherwise).
     *
     * @throws CallRefusedException when no real processor could have made the call (its vCPU is inside another
     *                              call or stopped): a bug in the guest
     */
    HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled);

    /** The asynchronous form, interrupts enabled. */
    default CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer) {
        return hcallAsync(vcpu, opcode, args, buffer, false);
    }

    /**
     * The asynchronous form; the future fails with {@link PortException} when the port is gone, with
     * {@link CallRefusedException} when the call was refused.
     */
    CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                              boolean interruptsDisabled);

    /** One RTAS call by service name; blocks until it returns. */
    RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea);

    CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea);

    /** Where pushed platform events go; events that arrived before a listener was set are delivered to it. */
    void setEventListener(PlatformEventListener listener);

    /** The guest finished handling an event (status 0 or a negative errno). */
    void ackEvent(long eventId, int status, String detail);

    /** Sends the guest's own view; the latest one is visible on the control port. */
    void report(GuestReport report);

    /**
     * Records a named point inside the guest kernel (a tracepoint) in the platform's trace, so kernel steps
     * appear on the same timeline as the hypervisor's and test clients can wait for them. Fire and forget:
     * the calling thread does not wait.
     */
    default void tracepoint(int vcpu, String name, String detail) {
    }

    /** True until the port is closed or its connection is lost. */
    boolean isOpen();

    @Override
    void close();
}
