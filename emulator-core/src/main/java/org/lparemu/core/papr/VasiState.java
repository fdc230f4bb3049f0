package org.lparemu.core.papr;

/** VASI migration stream states, as H_VASI_STATE returns them in ret[0] (papr-notes 2.3, 6.5). */
public enum VasiState {
    /** No stream. */
    INVALID(0),
    /** Stream opened by the orchestrator; the partition has been told to prepare. */
    ENABLED(1),
    /** Migration cancelled or timed out; terminal. */
    ABORTED(2),
    /** Orchestrator ready: the partition may join and call ibm,suspend-me. */
    SUSPENDING(3),
    /** ibm,suspend-me accepted; the partition is not running. */
    SUSPENDED(4),
    /** Running again, on the destination. */
    RESUMED(5),
    /** Memory transfer finished; terminal. */
    COMPLETED(6);

    public final int code;

    VasiState(int code) {
        this.code = code;
    }

    public static VasiState of(long code) {
        for (VasiState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        throw new IllegalArgumentException("no VASI state " + code);
    }

    /**
     * The stream's edges (papr-notes 6.5, inferred from the kernel's polling, not from PAPR text):
     * ENABLED -> SUSPENDING -> SUSPENDED -> RESUMED -> COMPLETED, and ABORTED from ENABLED or SUSPENDING
     * (cancel, timeout, refused suspend). A suspended partition is past the point of no return.
     */
    public boolean canBecome(VasiState next) {
        return switch (this) {
            case INVALID -> next == ENABLED;
            case ENABLED -> next == SUSPENDING || next == ABORTED;
            case SUSPENDING -> next == SUSPENDED || next == ABORTED;
            case SUSPENDED -> next == RESUMED;
            case RESUMED -> next == COMPLETED;
            case ABORTED, COMPLETED -> false;
        };
    }

    /** True for ABORTED and COMPLETED: the stream has ended. */
    public boolean terminal() {
        return this == ABORTED || this == COMPLETED;
    }
}
