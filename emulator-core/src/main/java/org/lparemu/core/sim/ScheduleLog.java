package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run did, in order: every decision of the scheduler (the schedule, which replays the run) and every
 * scheduling point a task passed (the steps, from which the interleaving diagram is drawn).
 */
public final class ScheduleLog {
    /**
     * One decision: what was chosen (task name and creation id; {@link Strategies.Guided#EVENT} for the event
     * queue), whether that preempted a task that could have gone on, and whether it was the default choice (go on
     * with the current task, else hypervisor work, else the task created first), which a replay need not force.
     */
    public record Decision(int index, String chosen, int taskId, boolean preemption, boolean defaultChoice,
                           long nanos) {
    }

    /** One step of a task: the scheduling point it passed (an hcall issued, a lock taken, a flag read ...). */
    public record Step(int decision, String task, int taskId, String label, long nanos) {
    }

    private final List<Decision> decisions = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();

    void decision(String chosen, int taskId, boolean preemption, boolean defaultChoice, long nanos) {
        decisions.add(new Decision(decisions.size(), chosen, taskId, preemption, defaultChoice, nanos));
    }

    void point(SimScheduler.Task t, String label, long nanos) {
        steps.add(new Step(decisions.size(), t.name, t.id, label, nanos));
    }

    /** A step recorded by the machine on behalf of the running task (e.g. an hcall's answer). */
    void note(SimScheduler.Task t, String label, long nanos) {
        point(t, label, nanos);
    }

    public List<Decision> decisions() {
        return Collections.unmodifiableList(decisions);
    }

    public List<Step> steps() {
        return Collections.unmodifiableList(steps);
    }

    /** The decisions a replay must force (the others are the default choice): decision index -> task id. */
    public Map<Integer, Integer> forced() {
        Map<Integer, Integer> m = new TreeMap<>();
        for (Decision d : decisions) {
            if (!d.defaultChoice()) {
                m.put(d.index(), d.taskId());
            }
        }
        return m;
    }

    /** Decisions that switched away from a task that could have gone on. */
    public int preemptions() {
        int n = 0;
        for (Decision d : decisions) {
            if (d.preemption()) {
                n++;
            }
        }
        return n;
    }
}
