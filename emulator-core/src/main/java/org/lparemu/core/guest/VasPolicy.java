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
     * The reviewer's alternative (Nathan Lynch on v1 of that patch): hold the mutex for the whole allocation
     * (allocate, modify, list add). The migration handler is the PRE_FIX one; SUSPEND simply waits for the
     * mutex and then closes the window like any other listed one.
     */
    HOLD_MUTEX
}
