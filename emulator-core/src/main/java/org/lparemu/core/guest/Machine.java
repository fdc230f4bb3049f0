package org.lparemu.core.guest;

import java.time.Duration;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;

/**
 * The guest kernel's processors and scheduler: the one seam through which the guest's tasks run, sleep, lock,
 * wait and stop the machine. The guest never creates a thread, sleeps or blocks any other way, so the same
 * kernel code runs on real threads ({@link ThreadMachine}, the daemon's guests) or under a deterministic
 * scheduler (simulation), and never knows which.
 *
 * <h2>The vCPU model</h2>
 * <ul>
 *   <li>A task runs kernel code on a vCPU ({@link #onCpu}: a syscall, a kthread's work item); a vCPU runs one task
 *       at a time. {@link #smpProcessorId()} is the vCPU the task is on now.</li>
 *   <li>A task that sleeps ({@link #msleep}), waits for a mutex or an event, or waits for other tasks gives its
 *       vCPU up and takes one again (preferring the last) when it wakes: Linux tasks migrate the same way.</li>
 *   <li>A task inside an hcall or RTAS call keeps its vCPU: the processor is busy in the hypervisor
 *       ({@link #awaitInCall}).</li>
 *   <li>{@link #stopMachine} runs a callback on every online vCPU at once, with interrupts disabled, and no other
 *       task runs on any vCPU until it returns; a task holding a vCPU (running kernel code, or inside a call)
 *       delays the stop until it gives the vCPU up at its next preemption point.</li>
 *   <li>Offline vCPUs run nothing; {@link #cpuDown} and {@link #cpuUp} change the online set (processor DLPAR).</li>
 * </ul>
 *
 * <p>Scheduling points, where another task may run (all of them in simulation; preemption by a pending
 * stop_machine on real threads): vCPU acquire and release, mutex lock and unlock, waits and sleeps, hcall issue
 * and completion ({@link #point}), the named memory-ordering accessors ({@link #point}), {@link #condResched}.
 */
public interface Machine extends AutoCloseable {

    /** Where tracepoints go: the hypervisor's trace, through the guest's port. */
    @FunctionalInterface
    interface Tracer {
        void tracepoint(int cpu, String name, String detail);
    }

    /** Builds a guest's machine once its online vCPUs are known (from the device tree at boot). */
    @FunctionalInterface
    interface Factory {
        Machine create(List<Integer> onlineCpus, Tracer tracer);
    }

    // --- tasks

    /**
     * Starts a task ({@code kthread_run}, or a user process of a workload): {@code body} runs in user mode, off
     * any vCPU; its kernel entries take one ({@link #onCpu}).
     */
    Task spawn(String name, Runnable body);

    /** A single-threaded, ordered workqueue whose work items run as kernel code on a vCPU (drmgr, rtasd ...). */
    Workqueue workqueue(String name);

    /** Runs {@code body} as kernel code on a vCPU: enters the kernel when the task is not in it yet. */
    <T> T onCpu(Supplier<T> body);

    /** {@link #onCpu} for code without a result. */
    default void onCpu(Runnable body) {
        onCpu(() -> {
            body.run();
            return null;
        });
    }

    /**
     * {@code work_on_cpu(cpu, fn)}: runs {@code body} as kernel code on vCPU {@code cpu} and no other, waiting for
     * it to be free; the task stays bound to it until {@code body} returns (a blocking wait inside gives it up and
     * takes the same vCPU back). For a task that is not on a vCPU yet; {@code cpu} must be online.
     */
    <T> T workOnCpu(int cpu, Supplier<T> body);

    /** The current task's name (the kernel's {@code current->comm}), as traces and fault rules see it. */
    String currentTask();

    // --- CPUs

    /** {@code smp_processor_id()}: the vCPU the current task runs on. Only inside {@link #onCpu}. */
    int smpProcessorId();

    /** The vCPU the current task runs on, or -1 when it is not on one (sleeping, or in user mode). */
    int currentCpu();

    /** Whether the current task runs with external interrupts disabled (MSR[EE]=0): inside stop_machine. */
    boolean interruptsDisabled();

    /** The online vCPUs, ascending ({@code for_each_online_cpu}). */
    List<Integer> onlineCpus();

    /**
     * {@code stop_machine(fn)}: runs {@code fn(cpu)} on every online vCPU at once, interrupts disabled, while no
     * other task runs anywhere; returns when every vCPU has finished it, with each one's result by vCPU. The
     * caller sleeps meanwhile.
     */
    SortedMap<Integer, Integer> stopMachine(IntUnaryOperator fn);

    /**
     * Takes {@code cpu} offline ({@code cpu_down}): the tasks on it move off, then {@code dying} runs on it (the
     * offlined thread's last code: RTAS stop-self) and it runs nothing more. The caller sleeps meanwhile.
     */
    void cpuDown(int cpu, Runnable dying);

    /** Brings {@code cpu} online ({@code cpu_up}), after the platform started it. */
    void cpuUp(int cpu);

    // --- scheduling

    /** {@code cond_resched()}: another task may run here. */
    void condResched();

    /** A scheduling point inside the kernel (a memory-ordering accessor, an hcall's issue or completion). */
    void point(String what);

    /**
     * A breakpoint: the first time task {@code task} reaches the scheduling point named {@code point} (a
     * {@link #point} name) where it may be preempted, it is taken off its vCPU there and stays off until
     * {@link Breakpoint#release}, as if the scheduler had preempted it and run everything else first. It keeps the
     * locks it holds. A point reached inside a call or with preemption disabled is not a place a task can be
     * preempted, and does not stop it. The stop is traced as the guest tracepoint {@code breakpoint}.
     */
    Breakpoint breakAt(String task, String point);

    /**
     * Waits for a call's answer while keeping the vCPU: the processor is inside the hypervisor. Returns the
     * future's value, or throws what it failed with (unwrapped).
     */
    <T> T awaitInCall(CompletableFuture<T> answer);

    /** Enters a non-preemptible region (a spinlock held: rtas_lock); nests. */
    void preemptDisable();

    void preemptEnable();

    // --- synchronization and time

    /** A sleeping mutex whose contention is traced as {@code lock_contended[name]}. */
    KernelMutex mutex(String name);

    /**
     * A spinlock ({@code raw_spin_lock_irqsave}): a waiter keeps its vCPU and spins, the holder cannot be
     * preempted; contention is traced as {@code lock_contended[name]}.
     */
    KernelMutex spinlock(String name);

    /** A wait queue ({@code wait_event} / {@code wake_up}). */
    WaitQueue waitQueue(String name);

    /** Guest time in nanoseconds (monotonic; only differences mean anything). */
    long nanoTime();

    /** {@code msleep}: sleeps the task (giving its vCPU up); an interrupt does not cut it short. */
    void msleep(Duration d);

    /**
     * Waits, off any vCPU, until {@code done} is true, re-checking whenever {@code wake} is signalled; for
     * joins with other tasks (kthread_stop, flush_workqueue) and waits on data another task changes.
     */
    void waitFor(WaitQueue wake, BooleanSupplier done);

    /** Stops every task and workqueue this machine started (bounded wait); tasks blocked in calls end on their own. */
    @Override
    void close();

    /** A breakpoint set by {@link #breakAt}. */
    interface Breakpoint {
        /** Waits until a task has stopped here; false when {@code timeout} passed first. */
        boolean awaitHit(Duration timeout) throws InterruptedException;

        boolean hit();

        /** Lets the stopped task go on (or disarms the breakpoint if nothing stopped yet). */
        void release();
    }

    /** A task started by {@link #spawn}. */
    interface Task {
        String name();

        /** Waits (off any vCPU) until the task has ended. */
        void join();

        /** Asks the task to stop (an interrupt: sleeps end early where they are interruptible). */
        void interrupt();
    }

    /** A single-threaded ordered workqueue. */
    interface Workqueue {
        /** Queues a work item; false when the workqueue is shut down. */
        boolean queue(Runnable work);

        /** Stops taking work; the item running finishes. */
        void shutdown();
    }
}
