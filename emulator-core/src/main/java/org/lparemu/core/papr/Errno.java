package org.lparemu.core.papr;

/** Linux errno values the guest kernel returns to its callers. */
public enum Errno {
    EIO(5),
    EAGAIN(11),
    EACCES(13),
    EEXIST(17),
    EBUSY(16),
    ENODEV(19),
    EINVAL(22),
    ENOSPC(28),
    ETIMEDOUT(110),
    ECANCELED(125),
    ENOTSUPP(524),
    ENOENT(2),
    EOPNOTSUPP(95),
    /** A sleep ended by a signal (the kernel restarts or fails the system call). */
    ERESTARTSYS(512);

    public final int value;

    Errno(int value) {
        this.value = value;
    }

    /** The negative form the kernel returns ({@code -EBUSY}). */
    public int negative() {
        return -value;
    }

    public static Errno of(int value) {
        int v = Math.abs(value);
        for (Errno e : values()) {
            if (e.value == v) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown errno " + value);
    }
}
