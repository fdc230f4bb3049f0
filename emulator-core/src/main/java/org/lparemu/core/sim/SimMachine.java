package org.lparemu.core.sim;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import org.lparemu.core.guest.KernelMutex;
import org.lparemu.core.guest.Machine;
import org.lparemu.core.guest.WaitQueue;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;

/**
 * The guest's {@link Machine} under a {@link SimScheduler}: the same vCPU model as {@link
 * org.lparemu.core.guest.ThreadMachine}, with every wait a scheduler block and every scheduling point a decision
 * of the strategy. Only the baton holder runs, so the vCPU pool, mutexes and wait queues are plain fields.
 *
 * <p>The rules (as on hardware): a task runs kernel code on one vCPU; a task inside a call keeps its vCPU and
 * cannot be preempted; a spinlock waiter keeps its vCPU and its holder is not preempted; sleeping, waiting for a
 * mutex or a wait queue gives the vCPU up; {@link #stopMachine} reserves every online vCPU, waits for the tasks on
 * them to reach a preemption point (or leave their call), then runs its callback on all of them at once with
 * interrupts off while nothing else runs.
 */
public final class SimMachine implements Machine {
    /** Per-task state, kept on the scheduler's task. */
    private static final class TaskState {
        int cpu = -1;
        int lastCpu = -1;
        int depth;
        int preemptCount;
        int bound = -1;
        boolean stopper;
        boolean irqsDisabled;
        boolean inCall;
        boolean signalled;
        boolean exited;
        final List<SimScheduler.Waker> joiners = new ArrayList<>();
    }

    private final SimScheduler sched;
    private final Tracer tracer;
    private final TreeSet<Integer> online = new TreeSet<>();
    private final Map<Integer, SimScheduler.Task> owner = new HashMap<>();
    private final TreeSet<Integer> reserved = new TreeSet<>();
    private final List<SimScheduler.Waker> cpuWaiters = new ArrayList<>();
    private final List<SimScheduler.Waker> reserveWaiters = new ArrayList<>();
    private final List<SimBreakpoint> breakpoints = new ArrayList<>();
    private boolean preemptRequested;

    public SimMachine(SimScheduler sched, List<Integer> onlineCpus, Tracer tracer) {
        if (onlineCpus.isEmpty()) {
            throw new IllegalArgumentException("a machine needs at least one online vCPU");
        }
        this.sched = sched;
        this.tracer = tracer;
        online.addAll(onlineCpus);
    }

    /** A factory for {@link org.lparemu.core.guest.GuestConfig}: machines on {@code sched}. */
    public static Factory on(SimScheduler sched) {
        return (cpus, tracer) -> new SimMachine(sched, cpus, tracer);
    }

    private TaskState state(SimScheduler.Task t) {
        if (t.machineState == null) {
            t.machineState = new TaskState();
        }
        return (TaskState) t.machineState;
    }

    private SimScheduler.Task me() {
        SimScheduler.Task t = sched.current();
        if (t == null || sched.inEvent()) {
            throw new IllegalStateException("kernel code outside a simulated task (" + Thread.currentThread().getName()
                    + ")");
        }
        return t;
    }

    // ------------------------------------------------------------------------------------------------------------
    // tasks

    @Override
    public Task spawn(String name, Runnable body) {
        return spawnTask(name, false, body);
    }

    private Task spawnTask(String name, boolean daemon, Runnable body) {
        SimScheduler.Task[] holder = new SimScheduler.Task[1];
        holder[0] = sched.spawn(name, daemon, () -> {
            try {
                body.run();
            } finally {
                TaskState s = state(holder[0]);
                s.exited = true;
                s.joiners.forEach(SimScheduler.Waker::wake);
                s.joiners.clear();
            }
        });
        SimScheduler.Task t = holder[0];
        return new Task() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void join() {
                TaskState s = state(t);
                SimScheduler.Task self = me();
                int held = giveUpCpu(self);
                while (!s.exited && !t.done()) {
                    sched.block("join " + name, s.joiners::add);
                }
                takeCpuBack(self, held);
            }

            @Override
            public void interrupt() {
                state(t).signalled = true;
            }
        };
    }

    @Override
    public Workqueue workqueue(String name) {
        ArrayDeque<Runnable> queue = new ArrayDeque<>();
        SimScheduler.Waker[] idle = new SimScheduler.Waker[1];
        boolean[] shutdown = new boolean[1];
        spawnTask(name, true, () -> {
            while (true) {
                while (queue.isEmpty() && !shutdown[0]) {
                    sched.block("work for " + name, w -> idle[0] = w);
                }
                if (queue.isEmpty()) {
                    return;
                }
                queue.poll().run();
            }
        });
        return new Workqueue() {
            @Override
            public boolean queue(Runnable work) {
                if (shutdown[0]) {
                    return false;
                }
                queue.add(work);
                if (idle[0] != null) {
                    idle[0].wake();
                }
                return true;
            }

            @Override
            public void shutdown() {
                shutdown[0] = true;
                if (idle[0] != null) {
                    idle[0].wake();
                }
            }
        };
    }

    @Override
    public <T> T onCpu(Supplier<T> body) {
        SimScheduler.Task t = me();
        TaskState s = state(t);
        if (s.depth++ == 0 && s.cpu < 0) {
            sched.point("enter kernel");
            acquire(t, s.bound);
        }
        try {
            return body.get();
        } finally {
            if (--s.depth == 0 && s.cpu >= 0 && !s.stopper && s.bound < 0) {
                release(t);
            }
        }
    }

    @Override
    public <T> T workOnCpu(int cpu, Supplier<T> body) {
        SimScheduler.Task t = me();
        TaskState s = state(t);
        if (s.cpu >= 0 || s.bound >= 0) {
            throw new IllegalStateException(t.name + " is already on vCPU " + Math.max(s.cpu, s.bound));
        }
        if (!online.contains(cpu)) {
            throw new IllegalArgumentException("vCPU " + cpu + " is not online");
        }
        s.bound = cpu;
        s.depth++;
        acquire(t, cpu);
        try {
            return body.get();
        } finally {
            s.depth--;
            s.bound = -1;
            release(t);
        }
    }

    @Override
    public String currentTask() {
        return sched.inEvent() || sched.current() == null ? SimScheduler.EVENT_TASK : sched.current().name;
    }

    // ------------------------------------------------------------------------------------------------------------
    // CPUs

    @Override
    public int smpProcessorId() {
        int cpu = state(me()).cpu;
        if (cpu < 0) {
            throw new IllegalStateException(currentTask() + " asked for its vCPU outside the kernel (not on a vCPU)");
        }
        return cpu;
    }

    @Override
    public int currentCpu() {
        SimScheduler.Task t = sched.current();
        return t == null || sched.inEvent() ? -1 : state(t).cpu;
    }

    @Override
    public boolean interruptsDisabled() {
        return state(me()).irqsDisabled;
    }

    @Override
    public List<Integer> onlineCpus() {
        return List.copyOf(online);
    }

    /** Which task runs on each held vCPU now. */
    public SortedMap<Integer, String> runningTasks() {
        SortedMap<Integer, String> out = new TreeMap<>();
        owner.forEach((cpu, t) -> out.put(cpu, t.name));
        return out;
    }

    @Override
    public SortedMap<Integer, Integer> stopMachine(IntUnaryOperator fn) {
        SimScheduler.Task caller = me();
        int held = giveUpCpu(caller);
        List<Integer> cpus = reserve(null);
        int n = cpus.size();
        SortedMap<Integer, Integer> results = new TreeMap<>();
        int[] arrived = {0};
        int[] finished = {0};
        List<SimScheduler.Waker> rendezvous = new ArrayList<>();
        List<SimScheduler.Waker> leaving = new ArrayList<>();
        List<SimScheduler.Waker> callerWaits = new ArrayList<>();
        for (int cpu : cpus) {
            SimScheduler.Task[] self = new SimScheduler.Task[1];
            self[0] = sched.spawn("migration/" + cpu, false, () -> {
                SimScheduler.Task t = self[0];
                TaskState s = state(t);
                s.stopper = true;
                acquire(t, cpu);
                try {
                    // multi_cpu_stop: every stopper is on its vCPU before any runs the callback, with interrupts
                    // off, and none leaves before all have run it.
                    arrived[0]++;
                    if (arrived[0] == n) {
                        rendezvous.forEach(SimScheduler.Waker::wake);
                    }
                    while (arrived[0] < n) {
                        sched.block("stop_machine rendezvous", rendezvous::add);
                    }
                    s.irqsDisabled = true;
                    s.depth = 1;
                    try {
                        results.put(cpu, fn.applyAsInt(cpu));
                    } finally {
                        s.depth = 0;
                        s.irqsDisabled = false;
                        finished[0]++;
                    }
                    if (finished[0] == n) {
                        leaving.forEach(SimScheduler.Waker::wake);
                        callerWaits.forEach(SimScheduler.Waker::wake);
                    }
                    while (finished[0] < n) {
                        sched.block("stop_machine exit", leaving::add);
                    }
                } finally {
                    release(t);
                }
            });
        }
        try {
            while (finished[0] < n) {
                sched.block("stop_machine", callerWaits::add);
            }
        } finally {
            unreserve(cpus);
        }
        takeCpuBack(caller, held);
        return results;
    }

    @Override
    public void cpuDown(int cpu, Runnable dying) {
        SimScheduler.Task caller = me();
        int held = giveUpCpu(caller);
        List<Integer> cpus = reserve(cpu);
        boolean[] done = {false};
        List<SimScheduler.Waker> callerWaits = new ArrayList<>();
        SimScheduler.Task[] self = new SimScheduler.Task[1];
        self[0] = sched.spawn("cpuhp/" + cpu, false, () -> {
            SimScheduler.Task t = self[0];
            TaskState s = state(t);
            s.stopper = true;
            acquire(t, cpu);
            s.depth = 1;
            try {
                dying.run();
            } finally {
                s.depth = 0;
                online.remove(cpu);
                release(t);
                done[0] = true;
                callerWaits.forEach(SimScheduler.Waker::wake);
            }
        });
        try {
            while (!done[0]) {
                sched.block("cpu_down " + cpu, callerWaits::add);
            }
        } finally {
            unreserve(cpus);
        }
        takeCpuBack(caller, held);
    }

    @Override
    public void cpuUp(int cpu) {
        online.add(cpu);
        wakeAll(cpuWaiters);
    }

    /** Reserves vCPUs for stoppers, waiting while another stop holds a reservation (stop_cpus_mutex). */
    private List<Integer> reserve(Integer only) {
        while (!reserved.isEmpty()) {
            sched.block("stop_cpus_mutex", reserveWaiters::add);
        }
        List<Integer> cpus = only == null ? new ArrayList<>(online) : List.of(only);
        reserved.addAll(cpus);
        preemptRequested = true;
        List<String> busy = new ArrayList<>();
        for (int cpu : cpus) {
            SimScheduler.Task t = owner.get(cpu);
            if (t != null) {
                busy.add("vCPU " + cpu + ": " + t.name);
            }
        }
        if (!busy.isEmpty()) {
            tracer.tracepoint(-1, only == null ? "stop_machine_wait" : "cpu_down_wait", String.join(", ", busy));
        }
        return cpus;
    }

    private void unreserve(List<Integer> cpus) {
        reserved.removeAll(cpus);
        preemptRequested = !reserved.isEmpty();
        wakeAll(reserveWaiters);
        wakeAll(cpuWaiters);
    }

    // ------------------------------------------------------------------------------------------------------------
    // the vCPU pool

    private boolean free(int cpu, TaskState s) {
        return online.contains(cpu) && !owner.containsKey(cpu) && (s.stopper || !reserved.contains(cpu));
    }

    private int pick(TaskState s) {
        if (s.lastCpu >= 0 && free(s.lastCpu, s)) {
            return s.lastCpu;
        }
        for (int cpu : online) {
            if (free(cpu, s)) {
                return cpu;
            }
        }
        return -1;
    }

    private void acquire(SimScheduler.Task t, int specific) {
        TaskState s = state(t);
        while (true) {
            int cpu = specific >= 0 ? (free(specific, s) || (s.stopper && !owner.containsKey(specific)) ? specific : -1)
                    : pick(s);
            if (cpu >= 0) {
                owner.put(cpu, t);
                s.cpu = cpu;
                return;
            }
            sched.block(specific >= 0 ? "vCPU " + specific : "a vCPU", cpuWaiters::add);
        }
    }

    private void release(SimScheduler.Task t) {
        TaskState s = state(t);
        if (s.cpu < 0) {
            return;
        }
        owner.remove(s.cpu);
        s.lastCpu = s.cpu;
        s.cpu = -1;
        wakeAll(cpuWaiters);
    }

    /** Gives the vCPU up around a wait; returns the one held (-1 if none). */
    private int giveUpCpu(SimScheduler.Task t) {
        int held = state(t).cpu;
        if (held >= 0) {
            release(t);
        }
        return held;
    }

    private void takeCpuBack(SimScheduler.Task t, int held) {
        if (held >= 0) {
            TaskState s = state(t);
            acquire(t, s.stopper ? held : s.bound);
        }
    }

    private static void wakeAll(List<SimScheduler.Waker> waiters) {
        if (waiters.isEmpty()) {
            return;
        }
        List<SimScheduler.Waker> copy = new ArrayList<>(waiters);
        waiters.clear();
        copy.forEach(SimScheduler.Waker::wake);
    }

    // ------------------------------------------------------------------------------------------------------------
    // scheduling

    @Override
    public void condResched() {
        point("cond_resched");
    }

    @Override
    public void point(String what) {
        SimScheduler.Task t = me();
        TaskState s = state(t);
        if (!breakpoints.isEmpty() && !s.stopper && s.preemptCount == 0 && !s.inCall) {
            stopAtBreakpoint(t, what);
        }
        sched.point(what);
        preemptionPoint(t, s);
    }

    /** A stop waits for this task's vCPU: give it up here and take another when one is free. */
    private void preemptionPoint(SimScheduler.Task t, TaskState s) {
        if (preemptRequested && s.cpu >= 0 && !s.stopper && s.preemptCount == 0 && !s.inCall
                && reserved.contains(s.cpu)) {
            release(t);
            acquire(t, s.bound);
        }
    }

    @Override
    public <T> T awaitInCall(CompletableFuture<T> answer) {
        SimScheduler.Task t = me();
        TaskState s = state(t);
        s.inCall = true;
        try {
            while (!answer.isDone()) {
                sched.block("the hypervisor", w -> answer.whenComplete((v, e) -> w.wake()));
            }
        } finally {
            s.inCall = false;
        }
        try {
            T r = answer.get(0, TimeUnit.NANOSECONDS);
            sched.log().note(t, answerLabel(r), sched.now());
            return r;
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            sched.log().note(t, "-> " + c.getClass().getSimpleName(), sched.now());
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new PortException(String.valueOf(c), c);
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("a completed future could not be read", e);
        }
    }

    private static String answerLabel(Object r) {
        if (r instanceof HcallResult h) {
            return "-> " + HStatus.name(h.status());
        }
        if (r instanceof RtasResult rr) {
            return "-> " + RtasStatus.name(rr.status());
        }
        return "-> " + r;
    }

    @Override
    public void preemptDisable() {
        state(me()).preemptCount++;
    }

    @Override
    public void preemptEnable() {
        state(me()).preemptCount--;
    }

    @Override
    public Breakpoint breakAt(String task, String point) {
        SimBreakpoint b = new SimBreakpoint(task, point);
        breakpoints.add(b);
        return b;
    }

    private void stopAtBreakpoint(SimScheduler.Task t, String what) {
        for (SimBreakpoint b : breakpoints) {
            if (b.armed && b.task.equals(t.name) && b.point.equals(what)) {
                b.armed = false;
                breakpoints.remove(b);
                tracer.tracepoint(state(t).cpu, "breakpoint", t.name + " stopped at " + what);
                int held = giveUpCpu(t);
                b.hit = true;
                while (!b.released) {
                    sched.block("breakpoint " + what, b.waiters::add);
                }
                takeCpuBack(t, held);
                return;
            }
        }
    }

    /**
     * A breakpoint in simulation: released by a simulated task (an actor), since only the baton holder may change
     * the world. {@link #awaitHit} cannot be used from outside the simulation.
     */
    private final class SimBreakpoint implements Breakpoint {
        final String task;
        final String point;
        boolean armed = true;
        boolean hit;
        boolean released;
        final List<SimScheduler.Waker> waiters = new ArrayList<>();

        SimBreakpoint(String task, String point) {
            this.task = task;
            this.point = point;
        }

        @Override
        public boolean awaitHit(Duration timeout) {
            me();
            long deadline = sched.now() + timeout.toNanos();
            while (!hit && sched.now() < deadline) {
                sched.sleep(Math.min(timeout.toNanos(), deadline - sched.now()), "await breakpoint");
            }
            return hit;
        }

        @Override
        public boolean hit() {
            return hit;
        }

        @Override
        public void release() {
            me();
            armed = false;
            breakpoints.remove(this);
            released = true;
            wakeAll(waiters);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // synchronization and time

    @Override
    public KernelMutex mutex(String name) {
        return new SimMutex(name, false);
    }

    @Override
    public KernelMutex spinlock(String name) {
        return new SimMutex(name, true);
    }

    @Override
    public WaitQueue waitQueue(String name) {
        return new SimWaitQueue(name);
    }

    @Override
    public long nanoTime() {
        return sched.now();
    }

    @Override
    public void msleep(Duration d) {
        SimScheduler.Task t = me();
        int held = giveUpCpu(t);
        sched.sleep(d.toNanos(), "msleep " + d.toMillis() + " ms");
        takeCpuBack(t, held);
    }

    @Override
    public void waitFor(WaitQueue wake, BooleanSupplier done) {
        wake.waitEvent(done);
    }

    @Override
    public void close() {
        // Tasks end with the run (SimScheduler tears every parked task down); nothing is left to stop here.
    }

    /** A mutex, or a spinlock (a waiter keeps its vCPU, the holder is not preempted). */
    private final class SimMutex implements KernelMutex {
        private final String name;
        private final boolean spin;
        private SimScheduler.Task holder;
        private final List<SimScheduler.Waker> waiters = new ArrayList<>();
        private int waiting;

        SimMutex(String name, boolean spin) {
            this.name = name;
            this.spin = spin;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void lock() {
            SimScheduler.Task t = me();
            TaskState s = state(t);
            if (spin) {
                s.preemptCount++;
            } else {
                point("lock " + name);
            }
            if (holder == t) {
                // A kernel mutex is not recursive: the task would wait for itself forever (lockdep's report).
                throw new IllegalStateException("recursive locking of " + name + " by " + t.name);
            }
            if (holder != null) {
                tracer.tracepoint(s.cpu, "lock_contended[" + name + "]", t.name + (spin ? " spins for " : " waits for ")
                        + holder.name);
                int held = spin ? -1 : giveUpCpu(t);
                waiting++;
                try {
                    while (holder != null) {
                        sched.block((spin ? "spin " : "mutex ") + name, waiters::add);
                    }
                } finally {
                    waiting--;
                }
                takeCpuBack(t, held);
            }
            holder = t;
            if (spin) {
                sched.log().note(t, "lock " + name, sched.now());
            }
        }

        @Override
        public void unlock() {
            SimScheduler.Task t = sched.current();
            holder = null;
            wakeAll(waiters);
            if (spin) {
                TaskState s = state(t);
                s.preemptCount--;
                point("unlock " + name);
            } else {
                point("unlock " + name);
            }
        }

        @Override
        public boolean tryLock() {
            SimScheduler.Task t = me();
            if (holder != null) {
                return false;
            }
            holder = t;
            if (spin) {
                state(t).preemptCount++;
            }
            return true;
        }

        @Override
        public void lockInterruptibly() {
            lock();
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) {
            return tryLock();
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("kernel mutexes have no conditions");
        }

        @Override
        public boolean isHeldByCurrentTask() {
            return holder != null && holder == sched.current();
        }

        @Override
        public boolean isLocked() {
            return holder != null;
        }

        @Override
        public int waiters() {
            return waiting;
        }

        @Override
        public String toString() {
            return name + (holder == null ? "" : " held by " + holder.name);
        }
    }

    /** A wait queue: a waiter gives its vCPU up and re-checks after every wake-up. */
    private final class SimWaitQueue implements WaitQueue {
        private final String name;
        private final List<SimScheduler.Waker> waiters = new ArrayList<>();

        SimWaitQueue(String name) {
            this.name = name;
        }

        @Override
        public void waitEvent(BooleanSupplier condition) {
            if (condition.getAsBoolean()) {
                return;
            }
            SimScheduler.Task t = me();
            int held = giveUpCpu(t);
            while (!condition.getAsBoolean()) {
                sched.block("wait_event " + name, waiters::add);
            }
            takeCpuBack(t, held);
        }

        @Override
        public boolean waitEventInterruptible(BooleanSupplier condition) {
            if (condition.getAsBoolean()) {
                return true;
            }
            SimScheduler.Task t = me();
            TaskState s = state(t);
            int held = giveUpCpu(t);
            while (!condition.getAsBoolean() && !s.signalled) {
                sched.block("wait_event_interruptible " + name, waiters::add);
            }
            takeCpuBack(t, held);
            return condition.getAsBoolean();
        }

        @Override
        public void wakeUp() {
            wakeAll(waiters);
        }
    }
}
