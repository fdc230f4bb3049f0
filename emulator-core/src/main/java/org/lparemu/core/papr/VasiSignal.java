package org.lparemu.core.papr;

/** H_VASI_SIGNAL signals (arg 2) and the reason-code layout Linux uses with CANCEL (papr-notes 2.3). */
public final class VasiSignal {
    public static final int CANCEL = 1;
    public static final int ABORT = 2;
    public static final int SUSPEND = 3;
    public static final int COMPLETE = 4;
    public static final int ENABLE = 5;
    public static final int FAILOVER = 6;

    /** Reason-code entity for the migrating partition itself. */
    public static final int ENTITY_MIGRATING_PARTITION = 6;

    private VasiSignal() {
    }

    /** (entity &lt;&lt; 24) | (abs(errno) &amp; 0xFFFFFF), as {@code pseries_cancel_migration} builds it. */
    public static long cancelReason(int entity, int errno) {
        return ((long) entity << 24) | (Math.abs(errno) & 0xFFFFFFL);
    }

    public static String name(long signal) {
        return switch ((int) signal) {
            case CANCEL -> "CANCEL";
            case ABORT -> "ABORT";
            case SUSPEND -> "SUSPEND";
            case COMPLETE -> "COMPLETE";
            case ENABLE -> "ENABLE";
            case FAILOVER -> "FAILOVER";
            default -> Long.toString(signal);
        };
    }
}
