package org.lparemu.core.trace;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.util.concurrent.CompletableFuture;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * {@link TraceRing#await} against a concurrent {@link TraceRing#note}: the waiter registers and then scans the ring,
 * the writer publishes its record and then offers it to the registered waiters. That is the store-buffering
 * shape: with plain release/acquire on each side both can miss the other, and the waiter is never completed
 * although its record is in the ring (a lost wake-up, which surfaced as a 30 s timeout in a scenario awaiting a
 * disconnect). The ring closes it without a fence on the writer's path: the waiter reads the next seq after
 * registering, a writer that claims a later seq sees the waiter, and the waiter scans (waiting for publication)
 * every record claimed before. FORBIDDEN: when both actors are done, the future is not complete. The reordering is
 * rare on x86 (a waiter that stops its scan at an unpublished record, with no fence on the writer, did not fire in
 * 40 s here), so {@code TraceRingTest.awaitFindsARecordClaimedBeforeItRegisteredWhoseWriterMissedIt} also stages the
 * interleaving deterministically; that waiter fails it.
 */
@JCStressTest
@Description("await(since) racing note(): the awaited record is found by the scan or offered to the waiter, never neither")
@Outcome(id = "1", expect = ACCEPTABLE, desc = "the waiter got the record (from its scan or from the writer)")
@Outcome(id = "0", expect = FORBIDDEN, desc = "lost wake-up: the record is in the ring and the waiter still waits")
@State
public class TraceAwaitTest {
    final TraceRing ring = new TraceRing(64);
    CompletableFuture<TraceRecord> waiter;

    @Actor
    public void writer() {
        ring.note(TraceKind.CONNECTION, "lpar1", "disconnect", "guest 1");
    }

    @Actor
    public void awaiter() {
        waiter = ring.await("lpar1", 0, r -> r.name().equals("disconnect"));
    }

    @Arbiter
    public void done(I_Result r) {
        r.r1 = waiter.isDone() ? 1 : 0;
    }
}
