package org.lparemu.core.guest;

import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;

/**
 * A failed VAS window open, carrying the code the kernel would hand back to the ioctl caller: a negative errno,
 * or, on the one path where the kernel passes a hypervisor status through unchanged (H_HOME_NODE_ASSOCIATIVITY
 * failing when vas_id is -1), the raw PAPR status.
 */
public final class VasException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int rc;
    private final boolean paprStatus;

    private VasException(int rc, boolean paprStatus, String message) {
        super(message);
        this.rc = rc;
        this.paprStatus = paprStatus;
    }

    static VasException errno(int negativeErrno, String message) {
        return new VasException(negativeErrno, false, message);
    }

    static VasException papr(long status, String message) {
        return new VasException((int) status, true, message);
    }

    /** The code returned to the caller: negative errno, or the PAPR status when {@link #isPaprStatus()}. */
    public int rc() {
        return rc;
    }

    public boolean isPaprStatus() {
        return paprStatus;
    }

    /** {@code EBUSY}, {@code H_PARAMETER}, ... */
    public String errorName() {
        return errorName(rc, paprStatus);
    }

    static String errorName(int rc, boolean paprStatus) {
        if (paprStatus) {
            return HStatus.name(rc);
        }
        try {
            return Errno.of(rc).name();
        } catch (IllegalArgumentException e) {
            return "errno " + rc;
        }
    }
}
