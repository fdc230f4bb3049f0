package org.lparemu.core.guest;

import java.time.Duration;

/**
 * A guest clock whose sleeps only yield the processor. The UPSTREAM SUSPEND polls nr_open_wins_progress with
 * msleep(10) and the mutex dropped; what matters for ordering is that the mutex is dropped and taken again,
 * not how long the thread sleeps, and a real 10 ms per race would cut a jcstress run to a few hundred samples.
 */
final class SpinClock implements GuestClock {
    static final SpinClock INSTANCE = new SpinClock();

    private SpinClock() {
    }

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    @SuppressWarnings("ThreadPriorityCheck") // a sleep that only lets the other actor run
    public void sleep(Duration duration) {
        Thread.yield();
    }
}
