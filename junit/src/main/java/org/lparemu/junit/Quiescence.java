package org.lparemu.junit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.trace.TraceRecord;

/**
 * Waits for a platform to be quiescent, the only moment the oracles are meaningful: the guest side checks compare a
 * guest's counters with its windows, and a task in the middle of an open (between its counter increment and taking
 * the mutex) would look like a mismatch.
 *
 * <p>Quiescent means all of: no trace record for {@link #QUIET_MS} (no call, tracepoint or event is happening), no
 * call in flight on any connection, no platform event waiting for its acknowledgement, no migration under way. The
 * wait is event-driven: it waits for the next trace record with a timeout ({@code TraceRing.await}), never sleeps.
 */
final class Quiescence {
    /** How long the trace must stay silent. */
    static final long QUIET_MS = 50;

    private Quiescence() {
    }

    /** Null once quiescent; else, after {@code timeoutMs}, what was still going on. */
    static String await(Platform platform, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        String busy = "trace records kept coming";
        while (true) {
            if (silentFor(platform, QUIET_MS)) {
                busy = busy(platform);
                if (busy == null) {
                    return null;
                }
            } else {
                busy = "trace records kept coming";
            }
            if (System.nanoTime() - deadline > 0) {
                return busy + " (after " + timeoutMs + " ms)";
            }
            if (Thread.currentThread().isInterrupted()) {
                return "interrupted while waiting for quiescence";
            }
        }
    }

    /** True when no trace record appears for {@code ms}. */
    private static boolean silentFor(Platform platform, long ms) {
        long since = platform.trace().nextSeq() - 1;
        CompletableFuture<TraceRecord> next = platform.trace().await(null, since, r -> true);
        try {
            next.get(ms, TimeUnit.MILLISECONDS);
            return false;
        } catch (TimeoutException e) {
            return true;
        } catch (ExecutionException e) {
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } finally {
            next.cancel(false);
        }
    }

    /** What keeps the platform busy, or null. */
    static String busy(Platform platform) {
        List<String> out = new ArrayList<>();
        for (PartitionView.Summary s : platform.listPartitions()) {
            PartitionView v;
            try {
                v = platform.getState(s.name());
            } catch (RuntimeException e) {
                continue; // deleted meanwhile
            }
            int inFlight = v.connections().stream().mapToInt(PartitionView.ConnectionView::callsInFlight).sum();
            if (inFlight > 0) {
                out.add(s.name() + ": " + inFlight + " call(s) in flight");
            }
            if (!v.pendingEvents().isEmpty()) {
                out.add(s.name() + ": " + v.pendingEvents().size() + " event(s) not acknowledged ("
                        + v.pendingEvents().get(0).kind() + ")");
            }
            VasiState m = v.migration() == null ? VasiState.INVALID : v.migration().vasiState();
            if (m != VasiState.INVALID && m != VasiState.ABORTED && m != VasiState.COMPLETED) {
                out.add(s.name() + ": migration " + m);
            }
        }
        return out.isEmpty() ? null : String.join("; ", out);
    }
}
