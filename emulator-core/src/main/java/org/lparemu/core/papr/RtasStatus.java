package org.lparemu.core.papr;

/** RTAS call statuses used by the services lparemu implements (papr-notes 2.4, 6.3). */
public final class RtasStatus {
    public static final int SUCCESS = 0;
    /** ibm,update-nodes / ibm,update-properties: more data, call again with the same work area. */
    public static final int CALL_AGAIN = 1;
    public static final int HARDWARE_ERROR = -1;
    public static final int BUSY = -2;
    public static final int PARAMETER_ERROR = -3;
    /** Positive: "vendor-specific success" range; the kernel maps it to -ECANCELED. */
    public static final int SUSPEND_ABORTED = 9000;
    public static final int NOT_SUSPENDABLE = -9004;
    public static final int THREADS_ACTIVE = -9005;
    public static final int OUTSTANDING_COPROC = -9006;
    public static final int EXTENDED_DELAY_MIN = 9900;
    public static final int EXTENDED_DELAY_MAX = 9905;

    // ibm,configure-connector results
    public static final int CC_COMPLETE = 0;
    public static final int CC_NEXT_SIBLING = 1;
    public static final int CC_NEXT_CHILD = 2;
    public static final int CC_NEXT_PROPERTY = 3;
    public static final int CC_PREV_PARENT = 4;
    public static final int CC_MORE_MEMORY = 5;

    private RtasStatus() {
    }

    public static String name(long status) {
        return switch ((int) status) {
            case SUCCESS -> "SUCCESS";
            case CALL_AGAIN -> "CALL_AGAIN";
            case HARDWARE_ERROR -> "HARDWARE_ERROR";
            case BUSY -> "BUSY";
            case PARAMETER_ERROR -> "PARAMETER_ERROR";
            case SUSPEND_ABORTED -> "RTAS_SUSPEND_ABORTED";
            case NOT_SUSPENDABLE -> "RTAS_NOT_SUSPENDABLE";
            case THREADS_ACTIVE -> "RTAS_THREADS_ACTIVE";
            case OUTSTANDING_COPROC -> "RTAS_OUTSTANDING_COPROC";
            default -> isExtendedDelay(status) ? "EXTENDED_DELAY_" + (status - EXTENDED_DELAY_MIN) : Long.toString(status);
        };
    }

    public static boolean isExtendedDelay(long status) {
        return status >= EXTENDED_DELAY_MIN && status <= EXTENDED_DELAY_MAX;
    }
}
