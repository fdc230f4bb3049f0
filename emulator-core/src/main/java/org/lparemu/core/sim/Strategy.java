package org.lparemu.core.sim;

import java.util.List;

/**
 * Chooses what runs at each decision of a {@link SimScheduler}: one of the runnable tasks, or (index
 * {@code candidates.size()}) the hypervisor's oldest queued event. Every random choice comes from the generator the
 * strategy was built with, so (world, strategy, seed) fixes the run.
 */
public interface Strategy {
    /** A task was created (the strategy may give it a priority). */
    default void onSpawn(SimScheduler.Task t, SimScheduler s) {
    }

    /** The run starts. */
    default void onStart(SimScheduler s) {
    }

    /**
     * Chooses what runs next.
     *
     * @param candidates runnable tasks in creation order (never empty unless {@code eventReady})
     * @param eventReady hypervisor work is queued: {@code candidates.size()} is a valid answer
     * @param current    the task that reached the decision, if it can go on (null when it blocked or ended)
     * @return an index into {@code candidates}, or {@code candidates.size()} for the event queue
     */
    int pick(List<SimScheduler.Task> candidates, boolean eventReady, SimScheduler.Task current, SimScheduler s);

    /** The name used in reports and on the command line. */
    String name();
}
