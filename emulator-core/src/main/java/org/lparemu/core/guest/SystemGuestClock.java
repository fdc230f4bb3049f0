package org.lparemu.core.guest;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Guest time derived from {@link System#nanoTime()}, optionally running faster or slower than real time.
 *
 * <p>{@code scale} is real seconds per guest second: 1.0 is real time, 0.01 makes every guest sleep a hundred
 * times shorter (and guest time a hundred times faster), so a migration's one-second VASI polls take 10 ms.
 * Sleeps park the thread ({@link LockSupport#parkNanos}); spurious wake-ups are absorbed.
 */
public final class SystemGuestClock implements GuestClock {
    private final double scale;
    private final long origin = System.nanoTime();

    public SystemGuestClock(double scale) {
        if (!(scale > 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("scale must be a positive number, got " + scale);
        }
        this.scale = scale;
    }

    /** Real time. */
    public static SystemGuestClock realTime() {
        return new SystemGuestClock(1.0);
    }

    public double scale() {
        return scale;
    }

    @Override
    public long nanoTime() {
        return (long) ((System.nanoTime() - origin) / scale);
    }

    @Override
    public void sleep(Duration duration) throws InterruptedException {
        long deadline = System.nanoTime() + (long) (duration.toNanos() * scale);
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("guest sleep interrupted");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(this, left);
        }
    }

    @Override
    public String toString() {
        return "SystemGuestClock[scale=" + scale + "]";
    }
}
