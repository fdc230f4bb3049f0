package org.lparemu.bench.wire;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop pipelined load: N connections keep {@code depth} calls in flight each; every reply frees a
 * slot that immediately carries the next call, until {@link #stop()}. Subclasses own the transport; this
 * class counts completions and errors, records each call's latency, and tracks the slots so that
 * {@link #stop()} can tell when every connection has drained.
 */
public abstract class ClosedLoopLoad implements AutoCloseable {
    protected final int connections;
    protected final int depth;
    private volatile boolean running;
    private volatile Recorder recorder = new Recorder(3);
    private final LongAdder completed = new LongAdder();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicInteger slots = new AtomicInteger();
    private volatile CompletableFuture<Void> drained = CompletableFuture.completedFuture(null);
    private volatile String firstError;

    protected ClosedLoopLoad(int connections, int depth) {
        this.connections = connections;
        this.depth = depth;
    }

    /** Starts the load: every connection issues {@code depth} calls (through {@link #slotOpened()}). */
    public final void start(Recorder r) {
        recorder = r;
        drained = new CompletableFuture<>();
        running = true;
        startAll();
    }

    /** Issues {@code depth} calls on every connection, each preceded by {@link #slotOpened()}. */
    protected abstract void startAll();

    protected final void slotOpened() {
        slots.incrementAndGet();
    }

    /**
     * Records one answered call. Returns true when the caller must issue the next call on the same slot; false
     * when the load is stopping (the slot is retired).
     */
    protected final boolean answered(long latencyNanos, boolean ok, Object detail) {
        recorder.recordValue(Math.max(1, latencyNanos));
        completed.increment();
        if (!ok && errors.getAndIncrement() == 0) {
            firstError = String.valueOf(detail);
        }
        if (running && ok) {
            return true;
        }
        if (slots.decrementAndGet() == 0) {
            drained.complete(null);
        }
        return false;
    }

    /** Stops issuing; the future completes when every call in flight has been answered. */
    public final CompletableFuture<Void> stop() {
        running = false;
        if (slots.get() == 0) {
            drained.complete(null);
        }
        return drained;
    }

    public final long completed() {
        return completed.sum();
    }

    public final long errors() {
        return errors.get();
    }

    public final String firstError() {
        return firstError;
    }

    /** Closes every connection. */
    @Override
    public abstract void close();
}
