package org.lparemu.core.sim;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The platform's executor in simulation: {@code execute} queues hypervisor work for the scheduler, {@code schedule}
 * sets a timer in virtual time. Nothing runs on a thread of its own; everything runs when the strategy picks it.
 */
final class SimExecutor extends AbstractExecutorService implements ScheduledExecutorService {
    private final SimScheduler sched;
    private boolean shutdown;

    SimExecutor(SimScheduler sched) {
        this.sched = sched;
    }

    @Override
    public void execute(Runnable command) {
        if (!shutdown) {
            sched.execute(command);
        }
    }

    /** A timer's future: done when the action ran, cancelled when the timer was. */
    private final class TimerFuture<V> implements ScheduledFuture<V> {
        private final Callable<V> action;
        private final long periodNanos;
        private SimScheduler.TimerHandle handle;
        private boolean done;
        private V value;
        private Throwable failure;

        TimerFuture(Callable<V> action, long delayNanos, long periodNanos) {
            this.action = action;
            this.periodNanos = periodNanos;
            arm(delayNanos);
        }

        private void arm(long delayNanos) {
            handle = sched.schedule(delayNanos, () -> sched.execute(this::fire));
        }

        private void fire() {
            if (done) {
                return;
            }
            try {
                V v = action.call();
                if (periodNanos > 0 && !shutdown) {
                    arm(periodNanos);
                    return;
                }
                value = v;
            } catch (Exception e) {
                failure = e;
            }
            done = true;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(handle.deadline() - sched.now(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done) {
                return false;
            }
            handle.cancel();
            done = true;
            failure = new CancellationException();
            return true;
        }

        @Override
        public boolean isCancelled() {
            return failure instanceof CancellationException;
        }

        @Override
        public boolean isDone() {
            return done;
        }

        @Override
        public V get() throws ExecutionException {
            if (!done) {
                throw new IllegalStateException("a simulated timer's result is read only after it ran");
            }
            if (failure instanceof CancellationException c) {
                throw c;
            }
            if (failure != null) {
                throw new ExecutionException(failure);
            }
            return value;
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws ExecutionException {
            return get();
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return new TimerFuture<>(() -> {
            command.run();
            return null;
        }, unit.toNanos(delay), 0);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return new TimerFuture<>(callable, unit.toNanos(delay), 0);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        return periodic(command, initialDelay, period, unit);
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        // Work takes no virtual time, so a fixed delay and a fixed rate are the same schedule.
        return periodic(command, initialDelay, delay, unit);
    }

    private ScheduledFuture<?> periodic(Runnable command, long initialDelay, long period, TimeUnit unit) {
        if (period <= 0) {
            throw new IllegalArgumentException("period must be positive");
        }
        return new TimerFuture<>(() -> {
            command.run();
            return null;
        }, unit.toNanos(initialDelay), unit.toNanos(period));
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public List<Runnable> shutdownNow() {
        shutdown = true;
        return List.of();
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return shutdown;
    }
}
