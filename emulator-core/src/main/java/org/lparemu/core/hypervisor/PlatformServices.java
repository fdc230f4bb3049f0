package org.lparemu.core.hypervisor;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceRing;

/**
 * What the hypervisor's families (the hcall and RTAS handlers, {@link Mobility}, {@link Reconfiguration}) may use
 * of the platform: its configuration, the trace, timers, platform events, the managed systems and id sources.
 * Narrow on purpose: no partition registry, no dispatcher, no operator API, so a family cannot reach around the
 * partition it was handed. Families receive it through {@link CallContext#services()} or as a parameter, never
 * {@link Platform} itself.
 *
 * <p>Thread-safety: immutable after construction apart from the atomic id source; the parts it hands out are
 * thread-safe.
 */
public final class PlatformServices {
    private final PlatformConfig config;
    private final Map<String, ManagedSystem> systems;
    private final TraceRing trace;
    private final ScheduledExecutorService executor;
    private final PlatformEvents events;
    private final PlatformCounters counters;
    private final AtomicLong nextStreamId = new AtomicLong(1);

    PlatformServices(PlatformConfig config, Map<String, ManagedSystem> systems, TraceRing trace,
                     ScheduledExecutorService executor, PlatformEvents events, PlatformCounters counters) {
        this.config = config;
        this.systems = Collections.unmodifiableMap(new LinkedHashMap<>(systems));
        this.trace = trace;
        this.executor = executor;
        this.events = events;
        this.counters = counters;
    }

    public PlatformConfig.HypervisorOptions hypervisor() {
        return config.hypervisor();
    }

    public PlatformConfig.Limits limits() {
        return config.limits();
    }

    public TraceRing trace() {
        return trace;
    }

    /** The platform's monotonic counters. */
    public PlatformCounters counters() {
        return counters;
    }

    /** The platform's time base (the trace's clock), in nanoseconds. */
    public long now() {
        return trace.now();
    }

    /** Runs {@code task} on the platform executor after {@code delayMs}. */
    public ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        return executor.schedule(task, delayMs, TimeUnit.MILLISECONDS);
    }

    /** Runs {@code task} on the platform executor. */
    public void execute(Runnable task) {
        executor.execute(task);
    }

    /** Pushes an event to the partition's guest (see {@link PlatformEvents#push}). */
    public PlatformEvent pushEvent(Partition p, LongFunction<PlatformEvent> factory, String detail) {
        return events.push(p, factory, detail);
    }

    /** The guest's ack of an event (see {@link PlatformEvents#await}). */
    public CompletableFuture<Partition.EventAck> awaitEvent(long eventId, long timeoutMs) {
        return events.await(eventId, timeoutMs);
    }

    /** The managed system, or UNKNOWN_SYSTEM. */
    public ManagedSystem system(String name) {
        ManagedSystem s = systems.get(name);
        if (s == null) {
            throw new ControlException(ControlError.UNKNOWN_SYSTEM,
                    "no managed system '" + name + "' (have " + systems.keySet() + ")");
        }
        return s;
    }

    /** Every managed system, in configuration order. */
    public Collection<ManagedSystem> systems() {
        return systems.values();
    }

    /** A VASI stream id never handed out before by this platform. */
    public long newStreamId() {
        return nextStreamId.getAndIncrement();
    }

    /** A copy of {@code f} that fails with TIMEOUT after {@code timeoutMs} (0 = no timeout). */
    public <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, long timeoutMs, String what) {
        return Futures.withTimeout(executor, f, timeoutMs, what);
    }
}
