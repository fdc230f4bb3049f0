package org.lparemu.core.hypervisor;

import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Platform events: pushing them to a partition's guest, the guest's acknowledgements, and waiting for them
 * (AwaitEvent, the report requests of the invariant check).
 *
 * <p>An event waits in its partition's {@link Partition#events} (guarded by the partition lock) until the guest
 * acknowledges it; the ack moves it into {@link #recentAcks} in the same critical section, so a waiter that no
 * longer finds the event pending finds its ack. {@code recentAcks} is bounded: beyond {@value #RECENT_ACKS}
 * entries the oldest quarter is forgotten.
 */
public final class PlatformEvents {
    private static final Logger LOG = LoggerFactory.getLogger(PlatformEvents.class);
    /** Acknowledgements remembered for late AwaitEvent callers. */
    static final int RECENT_ACKS = 4096;

    private final PlatformConfig.Limits limits;
    private final TraceRing trace;
    private final ScheduledExecutorService timers;
    private final Supplier<Collection<Partition>> partitions;
    private final ConcurrentHashMap<Long, Partition.EventAck> recentAcks = new ConcurrentHashMap<>();
    private final AtomicLong nextEventId = new AtomicLong(1);
    private final PlatformCounters counters;

    PlatformEvents(PlatformConfig.Limits limits, TraceRing trace, ScheduledExecutorService timers,
                   Supplier<Collection<Partition>> partitions, PlatformCounters counters) {
        this.limits = limits;
        this.trace = trace;
        this.timers = timers;
        this.partitions = partitions;
        this.counters = counters;
    }

    /**
     * Pushes an event to the partition's guest (or keeps it pending until a guest connects).
     *
     * @param factory builds the event from its new id
     * @return the event (its ack is awaited with {@link #await})
     * @throws ControlException LIMIT_EXCEEDED when the partition already has the maximum of unacknowledged events
     */
    public PlatformEvent push(Partition p, LongFunction<PlatformEvent> factory, String detail) {
        PlatformEvent event;
        GuestSession target;
        p.lock.lock();
        try {
            if (p.events.size() >= limits.maxPendingEvents()) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED, "partition " + p.name + " has "
                        + p.events.size() + " unacknowledged events (limit " + limits.maxPendingEvents() + ")");
            }
            event = factory.apply(nextEventId.getAndIncrement());
            Partition.PendingEventEntry e = new Partition.PendingEventEntry(event, detail);
            target = p.eventSessionLocked();
            e.deliveredTo = target;
            p.events.put(event.eventId(), e);
        } finally {
            p.lock.unlock();
        }
        trace.append(TraceKind.EVENT, p.name, -1, "", event.kind(), new long[] {event.eventId()}, 0, 0, 0,
                detail, 0);
        counters.eventPushed(event.kind());
        if (target != null) {
            target.sink().deliver(event);
        }
        return event;
    }

    /** The guest of {@code s}'s partition finished handling an event. */
    void acknowledge(GuestSession s, long eventId, int status, String detail) {
        Partition p = s.partition();
        Partition.PendingEventEntry e;
        Partition.EventAck ack = new Partition.EventAck(eventId, status, detail == null ? "" : detail);
        p.lock.lock();
        try {
            e = p.events.remove(eventId);
            if (e != null) {
                // In the same critical section as the removal: an await that no longer finds the event
                // pending (it looks under this lock) must find it here.
                if (recentAcks.size() >= RECENT_ACKS) {
                    recentAcks.keySet().stream().sorted().limit(RECENT_ACKS / 4).toList().forEach(recentAcks::remove);
                }
                recentAcks.put(eventId, ack);
            }
        } finally {
            p.lock.unlock();
        }
        trace.append(TraceKind.EVENT_ACK, p.name, -1, "", e == null ? "unknown event" : e.event.kind(),
                new long[] {eventId}, status, 0, 0, detail, 0);
        if (e == null) {
            LOG.debug("{}: ack for unknown event {}", p.name, eventId);
            return;
        }
        e.ack.complete(ack);
    }

    /** The guest's ack of an event, when it comes; TIMEOUT after {@code timeoutMs}; UNKNOWN_EVENT if never pushed. */
    public CompletableFuture<Partition.EventAck> await(long eventId, long timeoutMs) {
        Partition.EventAck done = recentAcks.get(eventId);
        if (done != null) {
            return CompletableFuture.completedFuture(done);
        }
        for (Partition p : partitions.get()) {
            p.lock.lock();
            try {
                Partition.PendingEventEntry e = p.events.get(eventId);
                if (e != null) {
                    return Futures.withTimeout(timers, e.ack, timeoutMs, "event " + eventId + " not acknowledged");
                }
            } finally {
                p.lock.unlock();
            }
        }
        Partition.EventAck late = recentAcks.get(eventId);
        if (late != null) {
            return CompletableFuture.completedFuture(late);
        }
        return CompletableFuture.failedFuture(new ControlException(ControlError.UNKNOWN_EVENT,
                "no event " + eventId + " is pending or recently acknowledged"));
    }

    /**
     * Asks the partition's guest for a fresh report (a ReportRequest event) and completes with it once the
     * guest has acknowledged the request; empty when no guest connection takes events. The guest sends the
     * report before the ack on the same connection, so the ack means the report has arrived.
     */
    CompletableFuture<Optional<GuestReport>> freshReport(Partition p, long timeoutMs) {
        p.lock.lock();
        try {
            if (p.eventSessionLocked() == null) {
                return CompletableFuture.completedFuture(Optional.empty());
            }
        } finally {
            p.lock.unlock();
        }
        PlatformEvent e = push(p, PlatformEvent.ReportRequest::new, "invariant check");
        // A request nobody answered is withdrawn (before the caller hears of it): left pending, every check of a
        // guest that never answers (a bare client library connection) would add one until the partition's
        // pending-event limit refuses migrations.
        return await(e.eventId(), timeoutMs <= 0 ? 5000 : timeoutMs).whenComplete((a, failure) -> {
            if (failure != null) {
                withdraw(p, e.eventId(), failure);
            }
        }).thenApply(ack -> {
            p.lock.lock();
            try {
                GuestReport r = p.latestReport;
                if (r == null || r.inReplyToEvent() != e.eventId()) {
                    throw new ControlException(ControlError.INVALID_STATE, "the guest of " + p.name
                            + " acknowledged report request " + e.eventId() + " without sending the report");
                }
                return Optional.of(r);
            } finally {
                p.lock.unlock();
            }
        });
    }

    /** Removes a still-pending event its requester gave up on; a late ack then finds no event. */
    private void withdraw(Partition p, long eventId, Throwable why) {
        Partition.PendingEventEntry e;
        p.lock.lock();
        try {
            e = p.events.remove(eventId);
        } finally {
            p.lock.unlock();
        }
        if (e != null) {
            trace.append(TraceKind.EVENT, p.name, -1, "", e.event.kind() + " withdrawn", new long[] {eventId}, 0, 0, 0,
                    String.valueOf(why.getMessage()), 0);
        }
    }

    /** The latest report a guest sent; kept for GetState and the oracles. */
    void acceptReport(GuestSession s, GuestReport report) {
        Partition p = s.partition();
        p.lock.lock();
        try {
            p.latestReport = report;
        } finally {
            p.lock.unlock();
        }
    }
}
