package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A scheduler with manual time for tests: {@link #execute} and zero-delay timers run at once on one real
 * worker thread (so completions still happen off the caller's locks), while timers with a delay wait until
 * the test calls {@link #advance}. Time never passes on its own, so a test decides exactly when a blackout,
 * a transfer or a migration timeout ends.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "manual-scheduler");
        t.setDaemon(true);
        return t;
    });
    private final PriorityQueue<Timer> timers = new PriorityQueue<>();
    private long nowMs;
    private long seq;

    private final class Timer implements ScheduledFuture<Object> {
        final FutureTask<Object> task;
        final long dueMs;
        final long order;

        Timer(FutureTask<Object> task, long dueMs, long order) {
            this.task = task;
            this.dueMs = dueMs;
            this.order = order;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            synchronized (ManualScheduler.this) {
                return unit.convert(dueMs - nowMs, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public int compareTo(Delayed o) {
            Timer t = (Timer) o;
            return dueMs != t.dueMs ? Long.compare(dueMs, t.dueMs) : Long.compare(order, t.order);
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            synchronized (ManualScheduler.this) {
                timers.remove(this);
            }
            return task.cancel(mayInterrupt);
        }

        @Override
        public boolean isCancelled() {
            return task.isCancelled();
        }

        @Override
        public boolean isDone() {
            return task.isDone();
        }

        @Override
        public Object get() throws InterruptedException, ExecutionException {
            return task.get();
        }

        @Override
        public Object get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException,
                TimeoutException {
            return task.get(timeout, unit);
        }
    }

    /** Moves time forward and runs (on the worker) every timer that fell due, in due order. */
    public void advance(long ms) {
        List<Timer> due = new ArrayList<>();
        synchronized (this) {
            nowMs += ms;
            while (!timers.isEmpty() && timers.peek().dueMs <= nowMs) {
                due.add(timers.poll());
            }
        }
        for (Timer t : due) {
            worker.execute(t.task);
        }
    }

    /** Timers waiting for time to pass. */
    public synchronized int pendingTimers() {
        return timers.size();
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return timer(new FutureTask<>(command, null), delay, unit);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return (ScheduledFuture<V>) timer(new FutureTask<>((Callable<Object>) callable), delay, unit);
    }

    private ScheduledFuture<Object> timer(FutureTask<Object> task, long delay, TimeUnit unit) {
        long ms = unit.toMillis(delay);
        Timer t;
        synchronized (this) {
            t = new Timer(task, nowMs + ms, seq++);
            if (ms > 0) {
                timers.add(t);
                return t;
            }
        }
        worker.execute(t.task);
        return t;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("not needed by the platform");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("not needed by the platform");
    }

    @Override
    public void execute(Runnable command) {
        worker.execute(command);
    }

    @Override
    public void shutdown() {
        worker.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
        return worker.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
        return worker.isShutdown();
    }

    @Override
    public boolean isTerminated() {
        return worker.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return worker.awaitTermination(timeout, unit);
    }
}
