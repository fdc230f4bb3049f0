package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestClockTest {

    @Test
    void virtualSleepAdvancesTimeAtOnceAndIsRecorded() throws Exception {
        VirtualGuestClock c = new VirtualGuestClock();
        long t0 = c.nanoTime();
        c.sleep(Duration.ofSeconds(100));
        c.sleep(Duration.ofMillis(1));
        assertEquals(Duration.ofSeconds(100).plusMillis(1).toNanos(), c.nanoTime() - t0);
        assertEquals(List.of(Duration.ofSeconds(100), Duration.ofMillis(1)), c.sleeps());
        assertEquals(List.of(Duration.ofSeconds(100), Duration.ofMillis(1)), c.sleepsOf(Thread.currentThread().getName()));
        assertEquals(List.of(), c.sleepsOf("someone-else"));
        assertEquals(2, c.sleepCount());
        c.advance(Duration.ofSeconds(1));
        assertEquals(2, c.sleepCount(), "advance is not a sleep");
        c.clearRecord();
        assertEquals(List.of(), c.sleeps());
    }

    @Test
    void virtualSleepHonoursInterrupts() {
        VirtualGuestClock c = new VirtualGuestClock();
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> c.sleep(Duration.ofMillis(1)));
        assertFalse(Thread.currentThread().isInterrupted());
        assertEquals(0, c.sleepCount());
    }

    @Test
    void uninterruptibleSleepCompletesAndRestoresTheInterrupt() {
        VirtualGuestClock c = new VirtualGuestClock();
        Thread.currentThread().interrupt();
        GuestClock.sleepUninterruptibly(c, Duration.ofMillis(10));
        assertTrue(Thread.interrupted(), "the interrupt is kept for the owner");
        assertEquals(List.of(Duration.ofMillis(10)), c.sleeps());
    }

    @Test
    void uninterruptibleSleepAsksForTheWholeDurationEvenWhenOthersMoveTheClock() {
        List<Duration> asked = new ArrayList<>();
        GuestClock busy = new GuestClock() {
            private long now;

            @Override
            public long nanoTime() {
                now += Duration.ofMillis(5).toNanos(); // other threads keep advancing shared virtual time
                return now;
            }

            @Override
            public void sleep(Duration d) {
                asked.add(d);
            }
        };
        GuestClock.sleepUninterruptibly(busy, Duration.ofMillis(10));
        assertEquals(List.of(Duration.ofMillis(10)), asked);
    }

    @Test
    void awaitSleepSeesAnotherThreadsSleep() throws Exception {
        VirtualGuestClock c = new VirtualGuestClock();
        Thread t = new Thread(() -> GuestClock.sleepUninterruptibly(c, Duration.ofMillis(10)), "sleeper");
        t.start();
        assertTrue(c.awaitSleep("sleeper", Duration.ofMillis(10), Duration.ofSeconds(20)));
        t.join();
        assertFalse(c.awaitSleep("sleeper", Duration.ofMillis(11), Duration.ofMillis(1)));
    }

    @Test
    void systemClockScalesSleepsAndTime() throws Exception {
        SystemGuestClock fast = new SystemGuestClock(0.001); // one guest second = one real millisecond
        long real0 = System.nanoTime();
        long guest0 = fast.nanoTime();
        fast.sleep(Duration.ofSeconds(2));
        long real = System.nanoTime() - real0;
        long guest = fast.nanoTime() - guest0;
        assertTrue(real >= Duration.ofMillis(2).toNanos(), "slept at least the scaled time: " + real);
        assertTrue(guest >= Duration.ofSeconds(2).toNanos(), "guest time advanced by at least the sleep: " + guest);
        assertThrows(IllegalArgumentException.class, () -> new SystemGuestClock(0));
        assertThrows(IllegalArgumentException.class, () -> new SystemGuestClock(Double.NaN));
        assertEquals(1.0, SystemGuestClock.realTime().scale());
    }

    @Test
    void systemClockSleepIsInterruptible() {
        SystemGuestClock c = SystemGuestClock.realTime();
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> c.sleep(Duration.ofHours(1)));
    }
}
