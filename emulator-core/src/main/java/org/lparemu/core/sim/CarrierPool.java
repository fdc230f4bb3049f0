package org.lparemu.core.sim;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Threads that carry simulated tasks, reused across runs: an exploration makes hundreds of thousands of runs of a
 * few dozen tasks each, and starting a thread costs more than a whole simulated step. A carrier runs one task at a
 * time; when the task ends (or its run is torn down) the carrier comes back here.
 */
public final class CarrierPool implements AutoCloseable {
    private final ConcurrentLinkedDeque<Carrier> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger created = new AtomicInteger();
    private volatile boolean closed;

    /** One carrier thread. */
    final class Carrier implements Runnable {
        private final Thread thread;
        private volatile SimScheduler scheduler;
        private volatile SimScheduler.Task task;
        /** Set when the task is over and the carrier is back in the pool (teardown waits for it). */
        private volatile boolean returned = true;
        /** Who waits in {@link #awaitReturned}. */
        private volatile Thread returnWaiter;

        Carrier(int n) {
            thread = new Thread(this, "sim-carrier-" + n);
            thread.setDaemon(true);
        }

        Thread thread() {
            return thread;
        }

        /** Gives this carrier {@code t}; it waits for the baton before running the body. */
        void start(SimScheduler s, SimScheduler.Task t) {
            scheduler = s;
            returned = false;
            task = t;
            LockSupport.unpark(thread);
        }

        /** Waits (on the driver) until the task's body has unwound and the carrier is idle again. */
        void awaitReturned() {
            returnWaiter = Thread.currentThread();
            while (!returned) {
                LockSupport.park(this);
            }
            returnWaiter = null;
        }

        @Override
        public void run() {
            while (!closed) {
                SimScheduler.Task t = task;
                if (t == null) {
                    LockSupport.park(this);
                    continue;
                }
                SimScheduler s = scheduler;
                thread.setName(t.name);
                Throwable thrown = null;
                try {
                    s.awaitFirstTurn(t);
                    t.body.run();
                } catch (Throwable e) {
                    thrown = e;
                }
                s.exited(t, thrown);
                task = null;
                scheduler = null;
                thread.setName("sim-carrier-idle");
                idle.push(this);
                returned = true;
                Thread w = returnWaiter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            }
        }
    }

    /** An idle carrier, or a new one. */
    Carrier take() {
        if (closed) {
            throw new IllegalStateException("carrier pool closed");
        }
        Carrier c = idle.poll();
        if (c == null) {
            c = new Carrier(created.incrementAndGet());
            c.thread.start();
        }
        return c;
    }

    /** Threads created so far (for tests and benchmarks: reuse keeps it flat). */
    public int created() {
        return created.get();
    }

    @Override
    public void close() {
        closed = true;
        for (Carrier c : idle) {
            LockSupport.unpark(c.thread);
        }
    }
}
