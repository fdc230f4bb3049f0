package org.lparemu.core.hypervisor;

/** A control operation failed for a reason the caller can act on; carries the typed {@link ControlError}. */
public class ControlException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ControlError code;

    public ControlException(ControlError code, String message) {
        super(message);
        this.code = code;
    }

    public ControlError code() {
        return code;
    }
}
