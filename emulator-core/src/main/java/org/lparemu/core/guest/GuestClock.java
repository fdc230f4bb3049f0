package org.lparemu.core.guest;

import java.time.Duration;

/**
 * All time the guest kernel uses: reading the clock and sleeping (the kernel's msleep / ssleep). Injected so
 * that tests run in virtual time ({@link VirtualGuestClock}) and demos can run faster than real time
 * ({@link SystemGuestClock} with a scale).
 */
public interface GuestClock {

    /** Monotonic guest time in nanoseconds; only differences are meaningful. */
    long nanoTime();

    /**
     * Sleeps for {@code duration} of guest time.
     *
     * @throws InterruptedException when the thread is interrupted before or while sleeping
     */
    void sleep(Duration duration) throws InterruptedException;

    /**
     * Sleeps like the kernel's msleep: an interrupt does not cut the sleep short. The interrupt status is
     * restored afterwards so that the caller's owner can still see it. The full duration is requested first;
     * only after an interrupt is the remainder measured, so a shared virtual clock advanced by other threads
     * neither shortens nor mis-records the sleep.
     */
    static void sleepUninterruptibly(GuestClock clock, Duration duration) {
        boolean interrupted = false;
        long end = clock.nanoTime() + duration.toNanos();
        Duration next = duration;
        try {
            while (true) {
                try {
                    clock.sleep(next);
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                    long left = end - clock.nanoTime();
                    if (left <= 0) {
                        return;
                    }
                    next = Duration.ofNanos(left);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
