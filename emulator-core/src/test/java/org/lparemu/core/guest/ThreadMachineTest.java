package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The vCPU model on real threads: a vCPU runs one task at a time, a task inside a call keeps its vCPU,
 * stop_machine holds every online vCPU while its callback runs with interrupts off, cpu_down runs its callback on
 * the dying vCPU, and a task waiting for a mutex or a wait queue gives its vCPU up.
 */
@Timeout(20)
class ThreadMachineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<String> tracepoints = new ArrayList<>();
    private ThreadMachine machine;

    private ThreadMachine machine(Integer... cpus) {
        machine = new ThreadMachine(List.of(cpus), new VirtualGuestClock(),
                (cpu, name, detail) -> {
                    synchronized (tracepoints) {
                        tracepoints.add(name);
                    }
                });
        return machine;
    }

    @AfterEach
    void close() {
        if (machine != null) {
            machine.close();
        }
    }

    private static void await(CountDownLatch l) {
        try {
            assertTrue(l.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "latch never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void awaitState(Thread t, Thread.State state) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (t.getState() != state) {
            assertTrue(System.nanoTime() < deadline, t.getName() + " never reached " + state + ": " + t.getState());
            Thread.onSpinWait();
        }
    }

    private static void join(Thread t) {
        try {
            t.join(WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        assertFalse(t.isAlive(), t.getName() + " did not end");
    }

    @Test
    void aTaskRunsOnOneVcpuInsideTheKernelAndOnNoneOutsideIt() {
        ThreadMachine m = machine(0, 1);
        assertEquals(-1, m.currentCpu());
        assertThrows(IllegalStateException.class, m::smpProcessorId);
        int cpu = m.onCpu(() -> {
            assertEquals(Map.of(m.smpProcessorId(), Thread.currentThread().getName()), m.runningTasks());
            int nested = m.onCpu(m::smpProcessorId);
            assertEquals(m.smpProcessorId(), nested, "a nested kernel entry keeps the vCPU");
            assertFalse(m.interruptsDisabled());
            return m.smpProcessorId();
        });
        assertTrue(cpu == 0 || cpu == 1);
        assertEquals(Map.of(), m.runningTasks(), "the vCPU is given back on the way out");
    }

    @Test
    void aSecondTaskWaitsForTheOnlyVcpu() {
        ThreadMachine m = machine(0);
        CountDownLatch onCpu = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread a = new Thread(() -> m.onCpu(() -> {
            onCpu.countDown();
            await(leave);
            return null;
        }), "a");
        a.start();
        await(onCpu);
        AtomicBoolean ran = new AtomicBoolean();
        Thread b = new Thread(() -> m.onCpu(() -> {
            ran.set(true);
            return null;
        }), "b");
        b.start();
        awaitState(b, Thread.State.WAITING);
        assertFalse(ran.get(), "b ran while a held the only vCPU");
        assertEquals(Map.of(0, "a"), m.runningTasks());
        leave.countDown();
        join(a);
        join(b);
        assertTrue(ran.get());
    }

    @Test
    void workOnCpuRunsOnThatVcpuAndWaitsForIt() {
        ThreadMachine m = machine(0, 1);
        assertEquals(1, m.workOnCpu(1, m::smpProcessorId));
        assertThrows(IllegalArgumentException.class, () -> m.workOnCpu(5, () -> 0), "vCPU 5 is not online");
        CountDownLatch on1 = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        Thread a = new Thread(() -> m.workOnCpu(1, () -> {
            on1.countDown();
            await(leave);
            return null;
        }), "a");
        a.start();
        await(on1);
        AtomicInteger bRan = new AtomicInteger(-1);
        Thread b = new Thread(() -> bRan.set(m.workOnCpu(1, () -> {
            // a blocking wait gives the vCPU up and takes the same one back
            m.msleep(Duration.ofMillis(1));
            return m.smpProcessorId();
        })), "b");
        b.start();
        awaitState(b, Thread.State.WAITING);
        assertEquals(-1, bRan.get(), "b ran on vCPU 1 while a was on it (vCPU 0 was free, but b is bound)");
        assertThrows(IllegalStateException.class, () -> m.onCpu(() -> m.workOnCpu(0, () -> 0)));
        leave.countDown();
        join(a);
        join(b);
        assertEquals(1, bRan.get());
    }

    @Test
    void stopMachineRunsTheCallbackOnEveryOnlineVcpuWithInterruptsOffAndNothingElseRunning() {
        ThreadMachine m = machine(0, 1, 2);
        // a busy task that only meets preemption points: it must get off its vCPU for the stop
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger spins = new AtomicInteger();
        CountDownLatch spinning = new CountDownLatch(1);
        Thread busy = new Thread(() -> m.onCpu(() -> {
            while (!stop.get()) {
                spins.incrementAndGet();
                spinning.countDown();
                m.condResched();
            }
            return null;
        }), "busy");
        busy.start();
        await(spinning);

        Map<Integer, String> seen = new ConcurrentHashMap<>();
        AtomicReference<String> wrong = new AtomicReference<>();
        SortedMap<Integer, Integer> results = m.stopMachine(cpu -> {
            if (m.smpProcessorId() != cpu || !m.interruptsDisabled()) {
                wrong.set("cpu " + cpu + " ran on " + m.smpProcessorId() + " irqs off " + m.interruptsDisabled());
            }
            seen.put(cpu, Thread.currentThread().getName());
            for (String task : m.runningTasks().values()) {
                if (!task.startsWith("migration/")) {
                    wrong.set(task + " was running during stop_machine");
                }
            }
            return cpu * 10;
        });
        stop.set(true);
        join(busy);

        assertEquals(null, wrong.get());
        assertEquals(Map.of(0, 0, 1, 10, 2, 20), results);
        assertEquals(Map.of(0, "migration/0", 1, "migration/1", 2, "migration/2"), seen);
        assertTrue(spins.get() > 0);
    }

    @Test
    void stopMachineWaitsForATaskInsideAHypervisorCall() {
        ThreadMachine m = machine(0, 1);
        CompletableFuture<String> answer = new CompletableFuture<>();
        CountDownLatch inCall = new CountDownLatch(1);
        Thread caller = new Thread(() -> m.onCpu(() -> {
            inCall.countDown();
            return m.awaitInCall(answer);
        }), "caller");
        caller.start();
        await(inCall);

        AtomicInteger ran = new AtomicInteger();
        Thread stopper = new Thread(() -> m.stopMachine(cpu -> ran.incrementAndGet()), "stopper");
        stopper.start();
        // the stopper for the free vCPU is on it; the other waits for the call to return
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!m.runningTasks().containsValue("migration/0") && !m.runningTasks().containsValue("migration/1")) {
            assertTrue(System.nanoTime() < deadline, "no stopper ever got a vCPU");
            Thread.onSpinWait();
        }
        assertEquals(0, ran.get(), "the callback ran while a vCPU was inside the hypervisor");
        assertTrue(m.runningTasks().containsValue("caller"));

        answer.complete("H_SUCCESS");
        join(caller);
        join(stopper);
        assertEquals(2, ran.get());
    }

    @Test
    void aBreakpointTakesTheTaskOffItsVcpuUntilReleased() throws Exception {
        ThreadMachine m = machine(0);
        Machine.Breakpoint b = m.breakAt("a", "after-fetch");
        Machine.Breakpoint never = m.breakAt("a", "in-spinlock");
        AtomicInteger steps = new AtomicInteger();
        Thread a = new Thread(() -> m.onCpu(() -> {
            m.preemptDisable();
            m.point("in-spinlock"); // not a place a task can be preempted: no stop
            m.preemptEnable();
            steps.incrementAndGet();
            m.point("after-fetch");
            steps.incrementAndGet();
            return null;
        }), "a");
        a.start();
        assertTrue(b.awaitHit(WAIT));
        assertFalse(never.hit());
        assertEquals(1, steps.get());
        // the only vCPU is free for another task while a is stopped
        assertEquals(0, m.onCpu(m::smpProcessorId));
        assertEquals(1, steps.get());
        b.release();
        join(a);
        assertEquals(2, steps.get());
        never.release();
        synchronized (tracepoints) {
            assertEquals(1, tracepoints.stream().filter("breakpoint"::equals).count(), tracepoints.toString());
        }
    }

    @Test
    void cpuDownRunsTheDyingCallbackOnThatVcpuAndTakesItOffline() {
        ThreadMachine m = machine(0, 1, 2, 3);
        AtomicInteger dyingOn = new AtomicInteger(-1);
        m.cpuDown(2, () -> dyingOn.set(m.smpProcessorId()));
        assertEquals(2, dyingOn.get());
        assertEquals(List.of(0, 1, 3), m.onlineCpus());
        assertEquals(Map.of(0, 0, 1, 0, 3, 0), m.stopMachine(cpu -> 0), "an offline vCPU joins no stop");
        m.cpuUp(2);
        assertEquals(List.of(0, 1, 2, 3), m.onlineCpus());
    }

    @Test
    void waitingForAMutexOrAWaitQueueGivesTheVcpuUp() {
        ThreadMachine m = machine(0);
        KernelMutex mutex = m.mutex("vas_mutex");
        WaitQueue wq = m.waitQueue("wq");
        AtomicBoolean go = new AtomicBoolean();
        CountDownLatch aHolds = new CountDownLatch(1);
        // a takes the mutex and sleeps on the wait queue; b queues for the mutex; c must still get the only vCPU
        Thread a = new Thread(() -> m.onCpu(() -> {
            mutex.lock();
            try {
                aHolds.countDown();
                wq.waitEvent(go::get);
            } finally {
                mutex.unlock();
            }
            return null;
        }), "a");
        a.start();
        await(aHolds);
        awaitState(a, Thread.State.WAITING);
        Thread b = new Thread(() -> m.onCpu(() -> {
            mutex.lock();
            try {
                return null;
            } finally {
                mutex.unlock();
            }
        }), "b");
        b.start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (mutex.waiters() == 0) {
            assertTrue(System.nanoTime() < deadline, "b never queued for the mutex");
            Thread.onSpinWait();
        }
        Thread c = new Thread(() -> m.onCpu(() -> {
            go.set(true);
            wq.wakeUp();
            return null;
        }), "c");
        c.start();
        join(c);
        join(a);
        join(b);
        assertFalse(mutex.isLocked());
        synchronized (tracepoints) {
            assertTrue(tracepoints.stream().anyMatch(t -> t.contains("lock_contended")), tracepoints.toString());
        }
    }
}
