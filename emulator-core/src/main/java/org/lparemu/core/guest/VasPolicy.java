package org.lparemu.core.guest;

/**
 * How the guest's VAS code serialises window allocation against the migration handler. Each constant is an
 * algorithm (the shape of {@code vas_allocate_window} and {@code vas_migration_handler} in one kernel era), not
 * a scenario: what goes wrong under each one comes out of running it.
 */
public enum VasPolicy {
    /**
     * Linux v5.18 to v6.6. Allocation: section A checks migration_in_progress and allocates under the mutex,
     * the mutex is dropped for H_MODIFY_VAS_WINDOW, section B lists the window if no window is closed (it does
     * not look at migration_in_progress again). The migration handler runs entirely under the mutex and sets
     * the flag there; SUSPEND closes the listed windows and does not wait for anything, so it can miss a
     * half-open window.
     */
    PRE_FIX,
    /**
     * Linux v6.7+ (commit 0cf72f7f14d1, "Migration suspend waits for no in-progress open windows"): an
     * nr_open_wins_progress counter under the mutex covers the half-open stretch, section B re-checks
     * migration_in_progress, and SUSPEND, after closing the listed windows, polls the counter every 10 ms
     * with the mutex dropped while it sleeps. The flag is written without the mutex.
     */
    UPSTREAM,
    /**
     * The first version of that fix, as posted for review (linuxppc-dev, October 2023; the seed
     * 004_9169ed42df93d4a0): migration_in_progress becomes an {@code atomic_t} touched only by {@code atomic_set}
     * (the handler, without the mutex) and {@code atomic_read} (the open path, under the mutex in both sections);
     * nr_open_wins_progress is an {@code atomic_t} bumped by {@code atomic_inc} in section A and dropped by
     * {@code atomic_dec} when the window is listed or backed out; SUSPEND closes the listed windows under the mutex
     * and then sleeps in {@code wait_event_interruptible} on open_win_progress_wq until the counter reads 0, which
     * a backed-out open wakes. The handler no longer holds the mutex around its capability queries. Every atomic
     * uses the weakest Java access mode matching Documentation/atomic_t.txt (see {@code AtomicT}).
     */
    V1_PATCH,
    /**
     * The reviewer's alternative (Nathan Lynch on v1 of that patch): hold the mutex for the whole allocation
     * (allocate, modify, list add). The migration handler is the PRE_FIX one; SUSPEND simply waits for the
     * mutex and then closes the window like any other listed one.
     */
    HOLD_MUTEX
}
