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

    /** True for ABORTED and COMPLETED: the stream has ended. */
    public boolean terminal() {
        return this == ABORTED || this == COMPLETED;
    }
}
