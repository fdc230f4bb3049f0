package org.lparemu.core.port;

/** Thrown by an {@link HcallPort} when the platform refused a call ({@link CallRefusal}): a bug in the guest. */
public final class CallRefusedException extends PortException {
    private static final long serialVersionUID = 1L;

    private final transient CallRefusal refusal;

    public CallRefusedException(CallRefusal refusal) {
        super(refusal.reason() + ": " + refusal.message());
        this.refusal = refusal;
    }

    public CallRefusal refusal() {
        return refusal;
    }
}
