package org.lparemu.core.guest;

import java.util.concurrent.locks.Lock;

/**
 * A kernel sleeping mutex ({@code struct mutex}): a waiter gives its vCPU up and takes one again once it owns the
 * mutex; contention is traced as {@code lock_contended[name]} (Linux's {@code contention_begin} tracepoint), with
 * the waiting and the owning task. It is a {@link Lock}, so Error Prone's {@code @GuardedBy} checker sees
 * {@code lock()} / {@code unlock()} on it; conditions are not supported (the kernel has none).
 */
public interface KernelMutex extends Lock {
    /** The lock's kernel name, e.g. {@code vas_pseries_mutex}. */
    String name();

    /** Whether the current task holds it. */
    boolean isHeldByCurrentTask();

    /** Whether any task holds it (a snapshot, for tests and reports). */
    boolean isLocked();

    /** Tasks waiting for it (a snapshot, for tests). */
    int waiters();
}
