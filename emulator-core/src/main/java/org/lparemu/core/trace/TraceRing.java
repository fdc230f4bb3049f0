package org.lparemu.core.trace;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded, lock-free ring of trace records shared by every partition of a platform.
 *
 * <p>Writers claim a sequence number with one atomic increment and publish the record into slot
 * {@code seq % capacity} with a release store; readers walk sequence numbers and accept a slot only when
 * the record in it carries the sequence they want, so a slot overwritten by a newer lap is reported as
 * dropped rather than returned out of order. Old records are overwritten: the ring never grows.
 */
public final class TraceRing {
    private final AtomicReferenceArray<TraceRecord> slots;
    private final int capacity;
    private final AtomicLong nextSeq = new AtomicLong(1);
    private final long originNanos;
    /** Records below this seq were cleared by {@link #clear()}. */
    private volatile long floorSeq = 1;

    public TraceRing(int capacity) {
        if (capacity < 16) {
            throw new IllegalArgumentException("trace capacity must be at least 16, got " + capacity);
        }
        this.capacity = capacity;
        this.slots = new AtomicReferenceArray<>(capacity);
        this.originNanos = System.nanoTime();
    }

    public int capacity() {
        return capacity;
    }

    /** Nanoseconds since this ring was created (the trace's time base). */
    public long now() {
        return System.nanoTime() - originNanos;
    }

    /** The seq the next record will get. */
    public long nextSeq() {
        return nextSeq.get();
    }

    /** Appends a record and returns its seq. */
    public long append(TraceKind kind, String partition, int vcpu, String task, String name, long[] args, long status,
                       long beginSeq, long beginNanos, String detail, long opcode) {
        long seq = nextSeq.getAndIncrement();
        TraceRecord r = new TraceRecord(seq, now(), kind, partition, vcpu, task, name, args, status, beginSeq,
                beginNanos, detail, opcode);
        slots.lazySet((int) (seq % capacity), r);
        if (!waiters.isEmpty()) {
            wake(r);
        }
        return seq;
    }

    private record Waiter(String partition, long sinceSeq, java.util.function.Predicate<TraceRecord> match,
                          java.util.concurrent.CompletableFuture<TraceRecord> future) {
    }

    private final java.util.concurrent.CopyOnWriteArrayList<Waiter> waiters = new java.util.concurrent.CopyOnWriteArrayList<>();

    private void wake(TraceRecord r) {
        for (Waiter w : waiters) {
            if (r.seq() > w.sinceSeq && (w.partition == null || w.partition.equals(r.partition())) && w.match.test(r)
                    && waiters.remove(w)) {
                w.future.complete(r);
            }
        }
    }

    /**
     * The first record after {@code sinceSeq} (of one partition, or any when null) that matches; completes at
     * once when such a record is already in the ring. Waiters that are abandoned (timed out) must be removed
     * by cancelling the future.
     */
    public java.util.concurrent.CompletableFuture<TraceRecord> await(String partition, long sinceSeq,
                                                                      java.util.function.Predicate<TraceRecord> match) {
        java.util.concurrent.CompletableFuture<TraceRecord> f = new java.util.concurrent.CompletableFuture<>();
        Waiter w = new Waiter(partition == null || partition.isEmpty() ? null : partition, sinceSeq, match, f);
        waiters.add(w);
        f.whenComplete((v, e) -> waiters.remove(w));
        // Records appended before the waiter was registered: look for them now.
        long from = sinceSeq;
        while (true) {
            Chunk c = read(from, 4096, w.partition);
            for (TraceRecord r : c.records()) {
                if (match.test(r)) {
                    if (waiters.remove(w)) {
                        f.complete(r);
                    }
                    return f;
                }
            }
            if (c.lastSeq() == from) {
                return f;
            }
            from = c.lastSeq();
        }
    }

    /** Waiters currently registered (bounded by their timeouts). */
    public int waiterCount() {
        return waiters.size();
    }

    /** Appends a simple record (no call pairing). */
    public long note(TraceKind kind, String partition, String name, String detail) {
        return append(kind, partition, -1, "", name, null, 0, 0, 0, detail, 0);
    }

    /** A chunk read from the ring. */
    public record Chunk(List<TraceRecord> records, long lastSeq, long dropped) {
    }

    /**
     * Records with seq greater than {@code sinceSeq}, oldest first, at most {@code max}, optionally only one
     * partition's (null or empty = all). {@code dropped} counts records that were overwritten before this read.
     */
    public Chunk read(long sinceSeq, int max, String partition) {
        long end = nextSeq.get();
        long first = Math.max(sinceSeq + 1, floorSeq);
        long dropped = 0;
        if (end - first > capacity) {
            dropped = end - first - capacity;
            first = end - capacity;
        }
        List<TraceRecord> out = new ArrayList<>();
        long last = sinceSeq;
        for (long s = first; s < end && out.size() < max; s++) {
            TraceRecord r = slots.get((int) (s % capacity));
            if (r == null || r.seq() != s) {
                if (r != null && r.seq() > s) {
                    dropped++;
                }
                // Claimed but not yet published: stop here so the caller can resume from it.
                if (r == null || r.seq() < s) {
                    break;
                }
                last = s;
                continue;
            }
            last = s;
            if (partition == null || partition.isEmpty() || partition.equals(r.partition())) {
                out.add(r);
            }
        }
        return new Chunk(out, last, dropped);
    }

    /** Forgets every record (Reset). Sequence numbers keep growing so readers never see a seq twice. */
    public void clear() {
        floorSeq = nextSeq.get();
        for (int i = 0; i < capacity; i++) {
            slots.set(i, null);
        }
    }
}
