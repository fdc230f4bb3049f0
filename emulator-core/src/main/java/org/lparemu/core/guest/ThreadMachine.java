package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.IntUnaryOperator;
import java.util.function.Supplier;
import org.lparemu.core.port.PortException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's {@link Machine} on real threads: every task is a Java thread, and the vCPUs are a pool the tasks
 * take and give back under {@link #pool}, so that a vCPU runs one task at a time, a task in an hcall keeps its
 * vCPU, and stop_machine holds every online vCPU while its callback runs.
 *
 * <h2>Design</h2>
 * A task's state is thread-local ({@link TaskState}): the vCPU it holds (or -1), its kernel-entry depth, whether
 * it is a stopper and whether its interrupts are off. Taking a vCPU waits on {@link #changed} until one is free,
 * online, not being taken offline and, while a stop_machine is on, only for a stopper. Giving one back signals.
 * Blocking operations ({@link #block}) give the vCPU up around the wait and take one again after it.
 *
 * <p>Preemption: a task keeps its vCPU until it blocks, or until a preemption point ({@link #condResched},
 * {@link #point}, mutex operations, the return from a call) finds a stop_machine or a cpu_down waiting for it
 * ({@link #preemptRequested}, one volatile read on the fast path). A task inside a call, or inside a
 * non-preemptible region (rtas_lock held), is not preempted: the stop waits for it, as on hardware.
 *
 * <p>Lock order: a task never holds {@link #pool} while it waits for anything else; kernel mutexes and wait
 * queues are waited for with the vCPU given up, outside {@link #pool}.
 */
public final class ThreadMachine implements Machine {
    private static final Logger LOG = LoggerFactory.getLogger(ThreadMachine.class);
    /** How long {@link #close} waits for the tasks and workqueues it started. */
    private static final long CLOSE_WAIT_MS = 1000;

    /** One task's scheduling state; only its own thread touches it, except {@link #cpu} reads under the pool. */
    private static final class TaskState {
        final String name;
        int cpu = -1;
        int lastCpu = -1;
        int depth;
        int preemptCount;
        /** The vCPU this task is bound to ({@link #workOnCpu}), or -1. */
        int bound = -1;
        boolean stopper;
        boolean irqsDisabled;

        TaskState(String name) {
            this.name = name;
        }
    }

    /** {@code ThreadMutex.ownerTask}, accessed opaque. */
    private static final VarHandle OWNER_TASK;

    static {
        try {
            OWNER_TASK = MethodHandles.privateLookupIn(ThreadMutex.class, MethodHandles.lookup())
                    .findVarHandle(ThreadMutex.class, "ownerTask", String.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final GuestClock clock;
    private final Tracer tracer;
    private final ThreadLocal<TaskState> current;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<ExecutorService> workqueues = new CopyOnWriteArrayList<>();
    private final AtomicInteger stopperGeneration = new AtomicInteger();

    private final ReentrantLock pool = new ReentrantLock();
    private final Condition changed = pool.newCondition();
    // vCPU numbers are small non-negative ints: bit sets and an array, so that a kernel entry's acquire and release
    // box nothing and walk no tree (B3 makes two of each per window lifecycle).
    /** Online vCPUs. */
    @GuardedBy("pool")
    private final BitSet online = new BitSet();
    /** Which task holds each held vCPU (null: free), indexed by vCPU, grown on demand. */
    @GuardedBy("pool")
    private TaskState[] owner = new TaskState[8];
    /** vCPUs reserved for a stop_machine's stoppers or a cpu_down: no one else takes them. */
    @GuardedBy("pool")
    private final BitSet reserved = new BitSet();
    /** A stop_machine or cpu_down is waiting for vCPUs: running tasks give theirs up at preemption points. */
    private volatile boolean preemptRequested;
    /** Armed breakpoints; {@link #point} reads the volatile flag first, so none costs one read. */
    private final List<ThreadBreakpoint> breakpoints = new CopyOnWriteArrayList<>();
    private volatile boolean anyBreakpoint;

    public ThreadMachine(List<Integer> onlineCpus, GuestClock clock, Tracer tracer) {
        if (onlineCpus.isEmpty()) {
            throw new IllegalArgumentException("a machine needs at least one online vCPU");
        }
        this.clock = clock;
        this.tracer = tracer;
        this.current = ThreadLocal.withInitial(() -> new TaskState(Thread.currentThread().getName()));
        pool.lock();
        try {
            onlineCpus.forEach(this::cpuOnlineLocked);
        } finally {
            pool.unlock();
        }
    }

    /** A factory for {@link GuestConfig}: real threads over {@code clock}. */
    public static Factory over(GuestClock clock) {
        return (cpus, tracer) -> new ThreadMachine(cpus, clock, tracer);
    }

    // ------------------------------------------------------------------------------------------------------------
    // tasks

    @Override
    public Task spawn(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
        return new Task() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void join() {
                block(() -> joinUninterruptibly(t));
            }

            @Override
            public void interrupt() {
                t.interrupt();
            }
        };
    }

    @Override
    public Workqueue workqueue(String name) {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        workqueues.add(ex);
        return new Workqueue() {
            @Override
            public boolean queue(Runnable work) {
                try {
                    ex.execute(() -> onCpu(work));
                    return true;
                } catch (RejectedExecutionException shutDown) {
                    return false;
                }
            }

            @Override
            public void shutdown() {
                ex.shutdownNow();
            }
        };
    }

    @Override
    public <T> T onCpu(Supplier<T> body) {
        TaskState t = current.get();
        if (t.depth++ == 0 && t.cpu < 0) {
            acquire(t, -1);
        }
        try {
            return body.get();
        } finally {
            if (--t.depth == 0 && t.cpu >= 0 && !t.stopper) {
                release(t);
            }
        }
    }

    @Override
    public <T> T workOnCpu(int cpu, Supplier<T> body) {
        TaskState t = current.get();
        if (t.cpu >= 0 || t.bound >= 0) {
            throw new IllegalStateException(t.name + " is already on vCPU " + Math.max(t.cpu, t.bound));
        }
        pool.lock();
        try {
            if (cpu < 0 || !online.get(cpu)) {
                throw new IllegalArgumentException("vCPU " + cpu + " is not online");
            }
        } finally {
            pool.unlock();
        }
        t.bound = cpu;
        t.depth++;
        acquire(t, cpu);
        try {
            return body.get();
        } finally {
            t.depth--;
            t.bound = -1;
            release(t);
        }
    }

    @Override
    public String currentTask() {
        return Thread.currentThread().getName();
    }

    // ------------------------------------------------------------------------------------------------------------
    // CPUs

    @Override
    public int smpProcessorId() {
        int cpu = current.get().cpu;
        if (cpu < 0) {
            throw new IllegalStateException(currentTask() + " asked for its vCPU outside the kernel (not on a vCPU)");
        }
        return cpu;
    }

    @Override
    public int currentCpu() {
        return current.get().cpu;
    }

    @Override
    public boolean interruptsDisabled() {
        return current.get().irqsDisabled;
    }

    @Override
    public List<Integer> onlineCpus() {
        pool.lock();
        try {
            return cpus(online);
        } finally {
            pool.unlock();
        }
    }

    /** Which task runs on each held vCPU now (a snapshot, for tests and reports). */
    public SortedMap<Integer, String> runningTasks() {
        pool.lock();
        try {
            SortedMap<Integer, String> out = new TreeMap<>();
            for (int cpu = 0; cpu < owner.length; cpu++) {
                if (owner[cpu] != null) {
                    out.put(cpu, owner[cpu].name);
                }
            }
            return out;
        } finally {
            pool.unlock();
        }
    }

    @Override
    public SortedMap<Integer, Integer> stopMachine(IntUnaryOperator fn) {
        SortedMap<Integer, Integer> results = Collections.synchronizedSortedMap(new TreeMap<>());
        block(() -> {
            List<Integer> cpus = reserve(null);
            CountDownLatch onCpus = new CountDownLatch(cpus.size());
            CountDownLatch finished = new CountDownLatch(cpus.size());
            List<Thread> stoppers = new ArrayList<>();
            int generation = stopperGeneration.incrementAndGet();
            try {
                for (int cpu : cpus) {
                    Thread s = new Thread(() -> {
                        TaskState me = current.get();
                        me.stopper = true;
                        acquire(me, cpu);
                        try {
                            // multi_cpu_stop: every stopper is on its vCPU before any disables interrupts and runs
                            // the callback, and none leaves before all have run it.
                            onCpus.countDown();
                            awaitUninterruptibly(onCpus);
                            me.irqsDisabled = true;
                            me.depth = 1;
                            try {
                                results.put(cpu, fn.applyAsInt(cpu));
                            } finally {
                                me.depth = 0;
                                me.irqsDisabled = false;
                                finished.countDown();
                            }
                            awaitUninterruptibly(finished);
                        } finally {
                            release(me);
                        }
                    }, "migration/" + cpu);
                    s.setDaemon(true);
                    stoppers.add(s);
                }
                LOG.debug("stop_machine #{} on vCPUs {}", generation, cpus);
                stoppers.forEach(Thread::start);
                stoppers.forEach(ThreadMachine::joinUninterruptibly);
            } finally {
                unreserve(cpus);
            }
        });
        return results;
    }

    @Override
    public void cpuDown(int cpu, Runnable dying) {
        block(() -> {
            List<Integer> cpus = reserve(cpu);
            try {
                Thread t = new Thread(() -> {
                    TaskState me = current.get();
                    me.stopper = true;
                    acquire(me, cpu);
                    me.depth = 1;
                    try {
                        dying.run();
                    } finally {
                        me.depth = 0;
                        pool.lock();
                        try {
                            online.clear(cpu);
                        } finally {
                            pool.unlock();
                        }
                        release(me);
                    }
                }, "cpuhp/" + cpu);
                t.setDaemon(true);
                t.start();
                joinUninterruptibly(t);
            } finally {
                unreserve(cpus);
            }
        });
    }

    @Override
    public void cpuUp(int cpu) {
        pool.lock();
        try {
            cpuOnlineLocked(cpu);
            changed.signalAll();
        } finally {
            pool.unlock();
        }
    }

    /**
     * Reserves {@code only} (or every online vCPU when null) for stoppers: no other task takes them from now on,
     * and the tasks holding them give them up at their next preemption point. Waits while another stop holds a
     * reservation (stop_machine calls are serialized, as the kernel's stop_cpus_mutex serializes them).
     */
    private List<Integer> reserve(Integer only) {
        List<Integer> cpus;
        List<String> busy = new ArrayList<>();
        pool.lock();
        try {
            while (!reserved.isEmpty()) {
                changed.awaitUninterruptibly();
            }
            cpus = only == null ? cpus(online) : List.of(only);
            cpus.forEach(reserved::set);
            preemptRequested = true;
            changed.signalAll();
            for (int cpu : cpus) {
                TaskState t = ownerOf(cpu);
                if (t != null) {
                    busy.add("vCPU " + cpu + ": " + t.name);
                }
            }
        } finally {
            pool.unlock();
        }
        if (!busy.isEmpty()) {
            // The stop has to wait for these tasks to reach a preemption point (or to leave their call).
            tracer.tracepoint(-1, only == null ? "stop_machine_wait" : "cpu_down_wait", String.join(", ", busy));
        }
        return cpus;
    }

    private void unreserve(List<Integer> cpus) {
        pool.lock();
        try {
            cpus.forEach(reserved::clear);
            preemptRequested = !reserved.isEmpty();
            changed.signalAll();
        } finally {
            pool.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // scheduling

    @Override
    public void condResched() {
        preemptionPoint();
    }

    @Override
    public void point(String what) {
        if (anyBreakpoint) {
            stopAtBreakpoint(what);
        }
        preemptionPoint();
    }

    @Override
    public Breakpoint breakAt(String task, String point) {
        ThreadBreakpoint b = new ThreadBreakpoint(task, point);
        breakpoints.add(b);
        anyBreakpoint = true;
        return b;
    }

    /** Stops the current task here if an armed breakpoint matches it and it may be preempted here. */
    private void stopAtBreakpoint(String what) {
        TaskState t = current.get();
        if (t.stopper || t.preemptCount > 0) {
            return;
        }
        for (ThreadBreakpoint b : breakpoints) {
            if (b.task.equals(t.name) && b.point.equals(what) && b.arm.compareAndSet(true, false)) {
                breakpoints.remove(b);
                anyBreakpoint = !breakpoints.isEmpty();
                tracer.tracepoint(t.cpu, "breakpoint", t.name + " stopped at " + what);
                block(() -> {
                    b.stopped.countDown();
                    awaitUninterruptibly(b.released);
                });
                return;
            }
        }
    }

    @Override
    public <T> T awaitInCall(CompletableFuture<T> answer) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return answer.get();
                } catch (InterruptedException e) {
                    // A processor inside the hypervisor cannot be interrupted out of its call.
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable c = e.getCause() != null ? e.getCause() : e;
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    throw new PortException(String.valueOf(c), c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void preemptDisable() {
        current.get().preemptCount++;
    }

    @Override
    public void preemptEnable() {
        current.get().preemptCount--;
    }

    /** Gives the vCPU up and takes one again when a stop is waiting for it (and the task may be preempted). */
    private void preemptionPoint() {
        if (!preemptRequested) {
            return;
        }
        TaskState t = current.get();
        if (t.cpu < 0 || t.stopper || t.preemptCount > 0) {
            return;
        }
        int held = t.cpu;
        boolean mustYield;
        pool.lock();
        try {
            mustYield = reserved.get(held);
        } finally {
            pool.unlock();
        }
        if (mustYield) {
            release(t);
            acquire(t, t.bound);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // synchronization and time

    @Override
    public KernelMutex mutex(String name) {
        return new ThreadMutex(name);
    }

    @Override
    public KernelMutex spinlock(String name) {
        return new ThreadSpinLock(name);
    }

    @Override
    public WaitQueue waitQueue(String name) {
        return new ThreadWaitQueue();
    }

    @Override
    public long nanoTime() {
        return clock.nanoTime();
    }

    @Override
    public void msleep(Duration d) {
        block(() -> GuestClock.sleepUninterruptibly(clock, d));
    }

    @Override
    public void waitFor(WaitQueue wake, BooleanSupplier done) {
        wake.waitEvent(done);
    }

    /** Gives the vCPU up (if held) while {@code wait} runs, then takes one again, preferring the same. */
    private void block(Runnable wait) {
        TaskState t = current.get();
        int held = t.cpu;
        if (held >= 0) {
            release(t);
        }
        try {
            wait.run();
        } finally {
            if (held >= 0) {
                acquire(t, t.stopper ? held : t.bound);
            }
        }
    }

    private void acquire(TaskState t, int specific) {
        pool.lock();
        try {
            while (true) {
                int cpu = specific >= 0 ? (free(specific, t) ? specific : -1) : pick(t);
                if (cpu >= 0) {
                    owner[cpu] = t;
                    t.cpu = cpu;
                    return;
                }
                changed.awaitUninterruptibly();
            }
        } finally {
            pool.unlock();
        }
    }

    /** A specific vCPU is free for {@code t}: nobody on it and, unless {@code t} is a stopper, not reserved. */
    @GuardedBy("pool")
    private boolean free(int cpu, TaskState t) {
        return ownerOf(cpu) == null && (t.stopper || !reserved.get(cpu));
    }

    /** The task on {@code cpu}, or null. */
    @GuardedBy("pool")
    private TaskState ownerOf(int cpu) {
        return cpu < owner.length ? owner[cpu] : null;
    }

    /** Marks {@code cpu} online, making room for it in {@link #owner}. */
    @GuardedBy("pool")
    private void cpuOnlineLocked(int cpu) {
        if (cpu < 0) {
            throw new IllegalArgumentException("vCPU " + cpu);
        }
        if (cpu >= owner.length) {
            owner = Arrays.copyOf(owner, Math.max(cpu + 1, owner.length * 2));
        }
        online.set(cpu);
    }

    /** The members of {@code set}, ascending. */
    private static List<Integer> cpus(BitSet set) {
        List<Integer> out = new ArrayList<>(set.cardinality());
        for (int cpu = set.nextSetBit(0); cpu >= 0; cpu = set.nextSetBit(cpu + 1)) {
            out.add(cpu);
        }
        return out;
    }

    @GuardedBy("pool")
    private int pick(TaskState t) {
        int last = t.lastCpu;
        if (last >= 0 && online.get(last) && owner[last] == null && !reserved.get(last)) {
            return last;
        }
        for (int cpu = online.nextSetBit(0); cpu >= 0; cpu = online.nextSetBit(cpu + 1)) {
            if (owner[cpu] == null && !reserved.get(cpu)) {
                return cpu;
            }
        }
        return -1;
    }

    private void release(TaskState t) {
        pool.lock();
        try {
            owner[t.cpu] = null;
            t.lastCpu = t.cpu;
            t.cpu = -1;
            changed.signalAll();
        } finally {
            pool.unlock();
        }
    }

    @Override
    public void close() {
        for (ExecutorService ex : workqueues) {
            ex.shutdownNow();
        }
        threads.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MS);
        try {
            for (ExecutorService ex : workqueues) {
                ex.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
            for (Thread t : threads) {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The kernel mutex on a ReentrantLock: waiting gives the vCPU up; contention is traced. */
    private final class ThreadMutex implements KernelMutex {
        private final String name;
        /**
         * The contention tracepoint's name, built at the first contention (a window's mmap_mutex is created per open
         * and rarely contended; the 8-task benchmarks contend vas_pseries_mutex all the time). A racy cache: two
         * tasks may both build it.
         */
        private String contendedPoint;
        private final ReentrantLock lock = new ReentrantLock();
        /**
         * Name of the owning task, for the contention tracepoint and toString only: read and written opaque
         * ({@link #OWNER_TASK}), since nothing is ordered by it (a volatile store per lock and unlock was a full fence
         * each on the guest's hot path).
         */
        @SuppressWarnings("UnusedVariable") // read and written through OWNER_TASK
        private String ownerTask = "";

        ThreadMutex(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        private String owner() {
            return (String) OWNER_TASK.getOpaque(this);
        }

        @Override
        public void lock() {
            if (lock.isHeldByCurrentThread()) {
                // A kernel mutex is not recursive: on Linux the task would wait for itself forever.
                throw new IllegalStateException("recursive locking of " + name + " by " + currentTask());
            }
            preemptionPoint();
            if (!lock.tryLock()) {
                TaskState t = current.get();
                String point = contendedPoint;
                if (point == null) {
                    point = "lock_contended[" + name + "]";
                    contendedPoint = point;
                }
                tracer.tracepoint(t.cpu, point, t.name + " waits for " + owner());
                block(lock::lock);
            }
            OWNER_TASK.setOpaque(this, currentTask());
        }

        @Override
        public void unlock() {
            if (lock.getHoldCount() == 1) {
                OWNER_TASK.setOpaque(this, "");
            }
            lock.unlock();
            preemptionPoint();
        }

        @Override
        public boolean tryLock() {
            boolean got = lock.tryLock();
            if (got) {
                OWNER_TASK.setOpaque(this, currentTask());
            }
            return got;
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            lock();
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) {
            throw new UnsupportedOperationException("kernel mutexes have no timed lock");
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("kernel mutexes have no conditions; use a WaitQueue");
        }

        @Override
        public boolean isHeldByCurrentTask() {
            return lock.isHeldByCurrentThread();
        }

        @Override
        public boolean isLocked() {
            return lock.isLocked();
        }

        @Override
        public int waiters() {
            return lock.getQueueLength();
        }

        @Override
        public String toString() {
            return name + (lock.isLocked() ? " (held by " + owner() + ")" : "");
        }
    }

    /** A spinlock: waiting keeps the vCPU; the holder is not preemptible. Contention is traced. */
    private final class ThreadSpinLock implements KernelMutex {
        private final String name;
        private final ReentrantLock lock = new ReentrantLock();
        private volatile String ownerTask = "";

        ThreadSpinLock(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void lock() {
            TaskState t = current.get();
            if (lock.isHeldByCurrentThread()) {
                throw new IllegalStateException("recursive locking of spinlock " + name + " by " + t.name);
            }
            t.preemptCount++;
            if (!lock.tryLock()) {
                tracer.tracepoint(t.cpu, "lock_contended[" + name + "]", t.name + " spins for " + ownerTask);
                lock.lock();
            }
            ownerTask = t.name;
        }

        @Override
        public void unlock() {
            ownerTask = "";
            lock.unlock();
            current.get().preemptCount--;
            preemptionPoint();
        }

        @Override
        public boolean tryLock() {
            TaskState t = current.get();
            t.preemptCount++;
            if (lock.tryLock()) {
                ownerTask = t.name;
                return true;
            }
            t.preemptCount--;
            return false;
        }

        @Override
        public void lockInterruptibly() {
            lock();
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) {
            throw new UnsupportedOperationException("spinlocks have no timed lock");
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("spinlocks have no conditions");
        }

        @Override
        public boolean isHeldByCurrentTask() {
            return lock.isHeldByCurrentThread();
        }

        @Override
        public boolean isLocked() {
            return lock.isLocked();
        }

        @Override
        public int waiters() {
            return lock.getQueueLength();
        }
    }

    /** A breakpoint: armed until a task stops at it; the task waits on {@link #released}, off its vCPU. */
    private final class ThreadBreakpoint implements Breakpoint {
        final String task;
        final String point;
        final AtomicBoolean arm = new AtomicBoolean(true);
        final CountDownLatch stopped = new CountDownLatch(1);
        final CountDownLatch released = new CountDownLatch(1);

        ThreadBreakpoint(String task, String point) {
            this.task = task;
            this.point = point;
        }

        @Override
        public boolean awaitHit(Duration timeout) throws InterruptedException {
            return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public boolean hit() {
            return stopped.getCount() == 0;
        }

        @Override
        public void release() {
            if (arm.compareAndSet(true, false)) {
                breakpoints.remove(this);
                anyBreakpoint = !breakpoints.isEmpty();
            }
            released.countDown();
        }

        @Override
        public String toString() {
            return "breakpoint " + task + " at " + point + (hit() ? " (hit)" : "");
        }
    }

    /** A wait queue on a ReentrantLock and its Condition; waiting gives the vCPU up. */
    private final class ThreadWaitQueue implements WaitQueue {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition woken = lock.newCondition();

        @Override
        public void waitEvent(BooleanSupplier condition) {
            if (condition.getAsBoolean()) {
                return;
            }
            block(() -> {
                lock.lock();
                try {
                    while (!condition.getAsBoolean()) {
                        woken.awaitUninterruptibly();
                    }
                } finally {
                    lock.unlock();
                }
            });
        }

        @Override
        public boolean waitEventInterruptible(BooleanSupplier condition) {
            if (condition.getAsBoolean()) {
                return true;
            }
            boolean[] held = {false};
            block(() -> {
                lock.lock();
                try {
                    held[0] = condition.getAsBoolean();
                    while (!held[0]) {
                        woken.await();
                        held[0] = condition.getAsBoolean();
                    }
                } catch (InterruptedException e) {
                    // A signal: the kernel's -ERESTARTSYS; the interrupt stays pending for the caller.
                    Thread.currentThread().interrupt();
                } finally {
                    lock.unlock();
                }
            });
            return held[0];
        }

        @Override
        public void wakeUp() {
            lock.lock();
            try {
                woken.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }
}
