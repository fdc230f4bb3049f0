package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Virtual time for tests and deterministic runs: {@link #sleep} advances the clock at once by the requested
 * duration, yields the processor, and records who slept how long, so a test can assert a back-off sequence
 * (1, 10, 100, 1000 ms) without waiting for it.
 *
 * <p>Time is shared: every thread's sleep advances the same clock. The record keeps the first
 * {@value #MAX_RECORDED} sleeps (a polling loop can sleep many times); {@link #sleepCount()} counts all.
 */
public final class VirtualGuestClock implements GuestClock {
    /** Bound on recorded sleeps, so a long polling loop cannot exhaust memory. */
    public static final int MAX_RECORDED = 100_000;

    /** One recorded sleep. */
    public record Sleep(String thread, Duration duration) {
    }

    private final AtomicLong now = new AtomicLong();
    private final Object monitor = new Object();
    @GuardedBy("monitor")
    private final List<Sleep> recorded = new ArrayList<>();
    @GuardedBy("monitor")
    private long count;

    @Override
    public long nanoTime() {
        return now.get();
    }

    @Override
    @SuppressWarnings("ThreadPriorityCheck") // a sleeper makes room for others; see the last line
    public void sleep(Duration duration) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("guest sleep interrupted");
        }
        now.addAndGet(Math.max(0, duration.toNanos()));
        synchronized (monitor) {
            count++;
            if (recorded.size() < MAX_RECORDED) {
                recorded.add(new Sleep(Thread.currentThread().getName(), duration));
            }
            monitor.notifyAll();
        }
        // Let the threads a real sleeper would have made room for run first.
        Thread.yield();
    }

    /** Moves time forward without recording a sleep. */
    public void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    /** Every recorded sleep, in order. */
    public List<Sleep> sleepRecords() {
        synchronized (monitor) {
            return List.copyOf(recorded);
        }
    }

    /** Durations of every recorded sleep, in order. */
    public List<Duration> sleeps() {
        List<Duration> out = new ArrayList<>();
        for (Sleep s : sleepRecords()) {
            out.add(s.duration());
        }
        return out;
    }

    /** Durations slept by threads with this name, in order. */
    public List<Duration> sleepsOf(String thread) {
        List<Duration> out = new ArrayList<>();
        for (Sleep s : sleepRecords()) {
            if (s.thread().equals(thread)) {
                out.add(s.duration());
            }
        }
        return out;
    }

    public long sleepCount() {
        synchronized (monitor) {
            return count;
        }
    }

    /** Forgets recorded sleeps (time keeps its value). */
    public void clearRecord() {
        synchronized (monitor) {
            recorded.clear();
            count = 0;
        }
    }

    /**
     * Waits, in real time and at most {@code timeout}, until some thread whose name is {@code thread} has
     * recorded a sleep of {@code duration}. For tests that must act while a guest thread is in a polling loop.
     *
     * @return whether such a sleep was seen
     */
    public boolean awaitSleep(String thread, Duration duration, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            while (true) {
                for (Sleep s : recorded) {
                    if (s.thread().equals(thread) && s.duration().equals(duration)) {
                        return true;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                monitor.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    @Override
    public String toString() {
        return "VirtualGuestClock[now=" + Duration.ofNanos(now.get()) + ", sleeps=" + sleepCount() + "]";
    }
}
