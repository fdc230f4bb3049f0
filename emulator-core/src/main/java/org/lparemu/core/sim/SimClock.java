package org.lparemu.core.sim;

import java.time.Duration;
import org.lparemu.core.guest.GuestClock;

/** The guest's clock in simulation: the scheduler's virtual time; a sleep blocks the running task. */
final class SimClock implements GuestClock {
    private final SimScheduler sched;

    SimClock(SimScheduler sched) {
        this.sched = sched;
    }

    @Override
    public long nanoTime() {
        return sched.now();
    }

    @Override
    public void sleep(Duration duration) {
        sched.sleep(duration.toNanos(), "sleep " + duration.toMillis() + " ms");
    }
}
