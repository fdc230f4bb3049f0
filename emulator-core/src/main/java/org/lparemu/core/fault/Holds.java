package org.lparemu.core.fault;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Named latches where Hold actions park calls, and where test clients wait for them (AwaitHold) and let
 * them go (ReleaseHold). A parked call is a future: no thread is blocked while it waits.
 *
 * <p>Thread-safety: one monitor guards the latches and waiters; futures are completed after it is released,
 * so continuations never run under it.
 */
public final class Holds {
    /** Thrown into a parked call's future when it is failed rather than released. */
    public static final class HoldFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public HoldFailed(String message) {
            super(message);
        }
    }

    private record Parked(ParkedCall info, CompletableFuture<Void> release) {
    }

    private record Waiter(String latch, int minCount, CompletableFuture<List<ParkedCall>> future) {
    }

    private final int maxParked;
    private final AtomicLong nextParkId = new AtomicLong(1);
    private final Map<String, ArrayDeque<Parked>> latches = new HashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private int parked;

    public Holds(int maxParked) {
        this.maxParked = maxParked;
    }

    /**
     * Parks a call at a latch; the returned future completes when the call is released, or fails with
     * {@link HoldFailed}. Returns null when the parked-holds limit is reached (the call is not parked).
     */
    public CompletableFuture<Void> park(String latch, CallInfo call, When when, long status) {
        Parked p;
        List<Runnable> wake = new ArrayList<>();
        synchronized (this) {
            if (parked >= maxParked) {
                return null;
            }
            p = new Parked(new ParkedCall(nextParkId.getAndIncrement(), latch, call, when, status),
                    new CompletableFuture<>());
            latches.computeIfAbsent(latch, k -> new ArrayDeque<>()).add(p);
            parked++;
            collectSatisfiedLocked(latch, wake);
        }
        wake.forEach(Runnable::run);
        return p.release;
    }

    /** Waits until at least {@code minCount} calls are parked at {@code latch}; completes with them. */
    public CompletableFuture<List<ParkedCall>> await(String latch, int minCount) {
        int need = Math.max(1, minCount);
        synchronized (this) {
            ArrayDeque<Parked> q = latches.get(latch);
            if (q != null && q.size() >= need) {
                return CompletableFuture.completedFuture(snapshotLocked(latch));
            }
            CompletableFuture<List<ParkedCall>> f = new CompletableFuture<>();
            waiters.add(new Waiter(latch, need, f));
            // A waiter that times out is dropped so they cannot pile up.
            f.whenComplete((v, e) -> {
                synchronized (this) {
                    waiters.removeIf(w -> w.future == f);
                }
            });
            return f;
        }
    }

    private void collectSatisfiedLocked(String latch, List<Runnable> wake) {
        ArrayDeque<Parked> q = latches.get(latch);
        int n = q == null ? 0 : q.size();
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (w.latch.equals(latch) && n >= w.minCount) {
                it.remove();
                List<ParkedCall> snap = snapshotLocked(latch);
                wake.add(() -> w.future.complete(snap));
            }
        }
    }

    private List<ParkedCall> snapshotLocked(String latch) {
        ArrayDeque<Parked> q = latches.get(latch);
        List<ParkedCall> out = new ArrayList<>();
        if (q != null) {
            for (Parked p : q) {
                out.add(p.info);
            }
        }
        return out;
    }

    /** Calls parked at a latch now, oldest first. */
    public synchronized List<ParkedCall> parkedAt(String latch) {
        return snapshotLocked(latch);
    }

    public synchronized int parkedCount() {
        return parked;
    }

    /** Releases up to {@code count} calls parked at {@code latch}, oldest first (0 = all); returns how many. */
    public int release(String latch, int count) {
        List<Parked> out = new ArrayList<>();
        synchronized (this) {
            ArrayDeque<Parked> q = latches.get(latch);
            while (q != null && !q.isEmpty() && (count <= 0 || out.size() < count)) {
                out.add(q.poll());
            }
            parked -= out.size();
            if (q != null && q.isEmpty()) {
                latches.remove(latch);
            }
        }
        out.forEach(p -> p.release.complete(null));
        return out.size();
    }

    /** Fails every parked call of one guest connection (it disconnected); returns how many. */
    public int failConnection(long connectionId, String reason) {
        return failWhere(p -> p.info.call().connectionId() == connectionId, reason);
    }

    /** Fails every parked call of one partition (deleted); returns how many. */
    public int failPartition(String partition, String reason) {
        return failWhere(p -> partition.equals(p.info.call().partition()), reason);
    }

    /** Fails every parked call and every waiter (Reset, shutdown). */
    public int failAll(String reason) {
        List<Waiter> ws;
        synchronized (this) {
            ws = new ArrayList<>(waiters);
            waiters.clear();
        }
        ws.forEach(w -> w.future.completeExceptionally(new HoldFailed(reason)));
        return failWhere(p -> true, reason);
    }

    private int failWhere(Predicate<Parked> which, String reason) {
        List<Parked> out = new ArrayList<>();
        synchronized (this) {
            for (Iterator<Map.Entry<String, ArrayDeque<Parked>>> it = latches.entrySet().iterator(); it.hasNext(); ) {
                ArrayDeque<Parked> q = it.next().getValue();
                q.removeIf(p -> {
                    if (which.test(p)) {
                        out.add(p);
                        return true;
                    }
                    return false;
                });
                if (q.isEmpty()) {
                    it.remove();
                }
            }
            parked -= out.size();
        }
        out.forEach(p -> p.release.completeExceptionally(new HoldFailed(reason)));
        return out.size();
    }
}
