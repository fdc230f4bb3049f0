package org.lparemu.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TraceRingTest {
    @Test
    void readReturnsRecordsInOrderAndCountsOverwrittenOnes() {
        TraceRing ring = new TraceRing(16);
        for (int i = 0; i < 40; i++) {
            ring.note(TraceKind.STATE, i % 2 == 0 ? "a" : "b", "n" + i, "");
        }
        TraceRing.Chunk all = ring.read(0, 100, null);
        assertEquals(16, all.records().size());
        assertEquals(24, all.dropped(), "40 written into a ring of 16");
        assertEquals(25, all.records().get(0).seq());
        assertEquals(40, all.lastSeq());
        TraceRing.Chunk onlyA = ring.read(0, 100, "a");
        assertTrue(onlyA.records().stream().allMatch(r -> r.partition().equals("a")));
        assertEquals(8, onlyA.records().size());
        TraceRing.Chunk page = ring.read(30, 5, null);
        assertEquals(31, page.records().get(0).seq());
        assertEquals(35, page.lastSeq());
    }

    @Test
    void awaitCompletesOnAMatchingAppendOrAtOnceForAnExistingRecord() {
        TraceRing ring = new TraceRing(64);
        ring.note(TraceKind.GUEST, "p", "vas_migration_closed", "default");
        CompletableFuture<TraceRecord> existing = ring.await("p", 0, r -> r.name().contains("closed"));
        assertTrue(existing.isDone());
        assertEquals(1, existing.join().seq());

        CompletableFuture<TraceRecord> later = ring.await("p", 1, r -> r.name().contains("closed"));
        assertFalse(later.isDone());
        ring.note(TraceKind.GUEST, "other", "vas_migration_closed", "");
        assertFalse(later.isDone(), "another partition's record does not match");
        ring.note(TraceKind.GUEST, "p", "something_else", "");
        assertFalse(later.isDone());
        long seq = ring.note(TraceKind.GUEST, "p", "vas_migration_closed", "qos");
        assertEquals(seq, later.join().seq());
        assertEquals(0, ring.waiterCount());

        CompletableFuture<TraceRecord> abandoned = ring.await(null, seq, r -> false);
        abandoned.cancel(false);
        assertEquals(0, ring.waiterCount(), "a cancelled waiter is dropped");
    }

    /**
     * Starts a task that awaits a record named "wanted" of partition p from seq 0 and completes {@code registered}
     * with the future await returns; returns once the task's scan has stopped at an unpublished record.
     */
    private static Thread awaitStalledOnAnotherThread(TraceRing ring,
                                                      CompletableFuture<CompletableFuture<TraceRecord>> registered) {
        Thread awaiting = new Thread(() -> registered.complete(ring.await("p", 0, r -> r.name().equals("wanted"))),
                "awaiting");
        awaiting.start();
        while (ring.stalledScans() == 0) {
            Thread.onSpinWait(); // until the waiter's scan has reached the unpublished record
        }
        return awaiting;
    }

    @Test
    void awaitBehindAStalledWriterWaitsForItsRecordAndGoesOnOnceTheRingLapsIt() throws Exception {
        TraceRing ring = new TraceRing(16);
        // Seq 1 is claimed before the waiter registers and never published: a writer stalled between its claim and
        // its publish. The waiter must not return past it (its writer may not see the waiter), nor wait for it once
        // a newer lap owns its slot.
        assertEquals(1, ring.claimWithoutPublishing());
        CompletableFuture<CompletableFuture<TraceRecord>> registered = new CompletableFuture<>();
        Thread awaiting = awaitStalledOnAnotherThread(ring, registered);
        for (int i = 2; i <= 16; i++) {
            ring.note(TraceKind.STATE, "p", "n" + i, "");
        }
        long wanted = ring.note(TraceKind.STATE, "p", "wanted", ""); // seq 17: the slot of seq 1
        assertEquals(17, wanted);
        assertEquals(wanted, registered.get().get().seq());
        awaiting.join();
        assertEquals(0, ring.waiterCount());
    }

    @Test
    void awaitFindsARecordClaimedBeforeItRegisteredWhoseWriterMissedIt() throws Exception {
        TraceRing ring = new TraceRing(64);
        // The store-buffering interleaving, made deterministic: the writer claims seq 1 and reads the waiter list
        // before the waiter registers (so it will not offer its record); the waiter registers and scans while seq 1
        // is still unpublished. The scan must wait for seq 1 rather than leave it to a writer that will not call.
        assertEquals(1, ring.claimWithoutPublishing());
        CompletableFuture<CompletableFuture<TraceRecord>> registered = new CompletableFuture<>();
        Thread awaiting = awaitStalledOnAnotherThread(ring, registered);
        ring.publishClaimedUnoffered(1, TraceKind.STATE, "p", "wanted");
        // Bounded so that a waiter that stopped at the unpublished record fails here instead of hanging the suite.
        assertEquals(1, registered.get().get(30, TimeUnit.SECONDS).seq());
        awaiting.join();
        assertEquals(0, ring.waiterCount());
    }

    @Test
    void clearForgetsRecordsButNotSequenceNumbers() {
        TraceRing ring = new TraceRing(16);
        ring.note(TraceKind.STATE, "p", "x", "");
        ring.clear();
        assertEquals(0, ring.read(0, 10, null).records().size());
        long seq = ring.note(TraceKind.STATE, "p", "y", "");
        assertEquals(2, seq);
        assertEquals("y", ring.read(0, 10, null).records().get(0).name());
    }
    @Test
    void aReaderALapBehindCountsDroppedRecordsOnceEvenWhenItStopsAtAnUnpublishedRecord() {
        TraceRing ring = new TraceRing(16);
        for (int i = 1; i <= 24; i++) {
            ring.note(TraceKind.STATE, "p", "n" + i, "");
        }
        long stalled = ring.claimWithoutPublishing();
        assertEquals(25, stalled);
        for (int i = 26; i <= 40; i++) {
            ring.note(TraceKind.STATE, "p", "n" + i, "");
        }
        TraceRing.Chunk c = ring.read(0, 100, null);
        assertEquals(24, c.dropped(), "1..24 were overwritten");
        assertEquals(0, c.records().size(), "the read stops at 25, claimed but not published");
        assertEquals(24, c.lastSeq(), "the dropped records are accounted for");
        TraceRing.Chunk again = ring.read(c.lastSeq(), 100, null);
        assertEquals(0, again.dropped());
        assertEquals(24, again.lastSeq());
        ring.note(TraceKind.STATE, "p", "n41", "");
        TraceRing.Chunk after = ring.read(again.lastSeq(), 100, null);
        assertEquals(1, after.dropped(), "25 was lapped before it was ever published");
        assertEquals(16, after.records().size());
        assertEquals(26, after.records().get(0).seq());
        assertEquals("n41", after.records().get(15).name());
        assertEquals(41, after.lastSeq());
    }
}
