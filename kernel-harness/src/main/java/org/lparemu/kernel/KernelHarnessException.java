package org.lparemu.kernel;

/** A failure of the harness itself, typed so the command can say what to do about it. */
public final class KernelHarnessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** A package or the kernel tree is missing: install it, or skip. */
        UNAVAILABLE,
        /** make failed: the shim does not fit this tree, or the tree is broken. */
        BUILD_FAILED,
        /** The C guest died, could not reach the daemon, or answered something unparseable. */
        GUEST_FAILED,
        /** A bad argument. */
        USAGE
    }

    private final Kind kind;

    public KernelHarnessException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public KernelHarnessException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
