package org.lparemu.core.guest;

import java.util.function.BooleanSupplier;

/**
 * A kernel wait queue: {@code wait_event(wq, cond)} sleeps the task (off its vCPU) until {@code cond} holds,
 * re-checking after every {@code wake_up(wq)}. The waker must make the condition true before it wakes.
 */
public interface WaitQueue {
    /** {@code wait_event}: uninterruptible. */
    void waitEvent(BooleanSupplier condition);

    /**
     * {@code wait_event_interruptible}: as {@link #waitEvent}, but a signal to the task ends the wait early.
     *
     * @return true when the condition held, false when a signal ended the wait (the kernel's -ERESTARTSYS)
     */
    boolean waitEventInterruptible(BooleanSupplier condition);

    /** {@code wake_up}: every waiter re-checks its condition. */
    void wakeUp();
}
