package org.lparemu.core.papr;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;

/** PAPR hcall return codes (signed; values from Linux {@code asm/hvcall.h}, papr-notes 2.1). */
public final class HStatus {
    public static final long H_SUCCESS = 0;
    public static final long H_BUSY = 1;
    public static final long H_CLOSED = 2;
    public static final long H_NOT_AVAILABLE = 3;
    public static final long H_CONSTRAINED = 4;
    public static final long H_PARTIAL = 5;
    public static final long H_IN_PROGRESS = 14;
    public static final long H_PAGE_REGISTERED = 15;
    public static final long H_PARTIAL_STORE = 16;
    public static final long H_PENDING = 17;
    public static final long H_CONTINUE = 18;
    public static final long H_LONG_BUSY_START_RANGE = 9900;
    public static final long H_LONG_BUSY_ORDER_1_MSEC = 9900;
    public static final long H_LONG_BUSY_ORDER_10_MSEC = 9901;
    public static final long H_LONG_BUSY_ORDER_100_MSEC = 9902;
    public static final long H_LONG_BUSY_ORDER_1_SEC = 9903;
    public static final long H_LONG_BUSY_ORDER_10_SEC = 9904;
    public static final long H_LONG_BUSY_ORDER_100_SEC = 9905;
    public static final long H_LONG_BUSY_END_RANGE = 9905;
    public static final long H_TOO_HARD = 9999;

    public static final long H_HARDWARE = -1;
    public static final long H_FUNCTION = -2;
    public static final long H_PRIVILEGE = -3;
    public static final long H_PARAMETER = -4;
    public static final long H_BAD_MODE = -5;
    public static final long H_PTEG_FULL = -6;
    public static final long H_NOT_FOUND = -7;
    public static final long H_RESERVED_DABR = -8;
    public static final long H_NO_MEM = -9;
    public static final long H_AUTHORITY = -10;
    public static final long H_PERMISSION = -11;
    public static final long H_DROPPED = -12;
    public static final long H_SOURCE_PARM = -13;
    public static final long H_DEST_PARM = -14;
    public static final long H_REMOTE_PARM = -15;
    public static final long H_RESOURCE = -16;
    public static final long H_ABORTED = -54;
    public static final long H_P2 = -55;
    public static final long H_P3 = -56;
    public static final long H_P4 = -57;
    public static final long H_P5 = -58;
    public static final long H_P6 = -59;
    public static final long H_P7 = -60;
    public static final long H_P8 = -61;
    public static final long H_P9 = -62;
    public static final long H_NOOP = -63;
    public static final long H_TOO_BIG = -64;
    public static final long H_UNSUPPORTED = -67;
    public static final long H_OVERLAP = -68;
    public static final long H_INTERRUPT = -69;
    public static final long H_BAD_DATA = -70;
    public static final long H_NOT_ACTIVE = -71;
    public static final long H_SG_LIST = -72;
    public static final long H_OP_MODE = -73;
    public static final long H_COP_HW = -74;
    public static final long H_STATE = -75;
    public static final long H_IN_USE = -77;
    public static final long H_MULTI_THREADS_ACTIVE = -9005;
    public static final long H_OUTSTANDING_COP_OPS = -9006;

    private static final Map<Long, String> NAMES = new HashMap<>();

    static {
        for (Field f : HStatus.class.getFields()) {
            String n = f.getName();
            if (n.startsWith("H_") && f.getType() == long.class && !n.endsWith("_RANGE")) {
                try {
                    NAMES.putIfAbsent(f.getLong(null), n);
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    private HStatus() {
    }

    /** Decoded name such as {@code H_PARAMETER}, or the number for an unnamed status. */
    public static String name(long status) {
        String n = NAMES.get(status);
        return n != null ? n : Long.toString(status);
    }

    /** Status for a name such as {@code H_BUSY}, or null. */
    public static Long byName(String name) {
        for (Map.Entry<Long, String> e : NAMES.entrySet()) {
            if (e.getValue().equalsIgnoreCase(name)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** {@code H_IS_LONG_BUSY}: 9900..9905. */
    public static boolean isLongBusy(long status) {
        return status >= H_LONG_BUSY_START_RANGE && status <= H_LONG_BUSY_END_RANGE;
    }

    /**
     * The delay a long-busy status hints at, in milliseconds: 1, 10, 100, 1000, 10000, 100000
     * (Linux {@code get_longbusy_msecs}; an unknown value counts as 1 ms).
     */
    public static long longBusyMillis(long status) {
        if (!isLongBusy(status)) {
            return 1;
        }
        long ms = 1;
        for (long s = H_LONG_BUSY_ORDER_1_MSEC; s < status; s++) {
            ms *= 10;
        }
        return ms;
    }
}
