package org.lparemu.core.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The object-free storage of {@link TraceRing}: round trips, wrap-around, the intern bound, text, concurrency. */
class TraceRingStorageTest {

    private static List<TraceRecord> all(TraceRing ring) {
        return ring.read(0, Integer.MAX_VALUE, null).records();
    }

    @Test
    void everyFieldRoundTrips() {
        TraceRing ring = new TraceRing(16);
        long s1 = ring.append(TraceKind.CALL_BEGIN, "lpar1", 3, "kworker/3", "H_ALLOCATE_VAS_WINDOW",
                new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, 0, 0, "", 0x360);
        long s2 = ring.appendCallEnd("lpar1", 3, "kworker/3", "H_ALLOCATE_VAS_WINDOW", -4, s1, 12345,
                new long[] {7, -1}, 0x360);
        long s3 = ring.append(TraceKind.FAULT, "lpar1", 2, "t", "rule 1 Hold(x) BEFORE", null, 9, s1, 0,
                "H_MODIFY_VAS_WINDOW vcpu 2", 0x3a4);
        long s4 = ring.append(TraceKind.EVENT, null, -1, null, null, new long[] {42}, Long.MIN_VALUE, Long.MAX_VALUE,
                -1, null, -1);
        long s5 = ring.appendCallEnd("", 0, "", "ibm,suspend-me", 0, 0, 0, null, 0);
        List<TraceRecord> r = all(ring);
        assertEquals(5, r.size());

        TraceRecord b = r.get(0);
        assertEquals(s1, b.seq());
        assertEquals(TraceKind.CALL_BEGIN, b.kind());
        assertEquals("lpar1", b.partition());
        assertEquals(3, b.vcpu());
        assertEquals("kworker/3", b.task());
        assertEquals("H_ALLOCATE_VAS_WINDOW", b.name());
        assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, b.args());
        assertEquals(0, b.status());
        assertEquals("", b.detail());
        assertEquals(0x360, b.opcode());
        assertTrue(b.nanos() >= 0);

        TraceRecord e = r.get(1);
        assertEquals(s2, e.seq());
        assertEquals(TraceKind.CALL_END, e.kind());
        assertEquals(0, e.args().length, "return registers are not args");
        assertEquals("rets [7, -1]", e.detail());
        assertEquals(-4, e.status());
        assertEquals(s1, e.beginSeq());
        assertEquals(12345, e.beginNanos());
        assertTrue(e.nanos() >= b.nanos());

        TraceRecord f = r.get(2);
        assertEquals(s3, f.seq());
        assertEquals("rule 1 Hold(x) BEFORE", f.name());
        assertEquals("H_MODIFY_VAS_WINDOW vcpu 2", f.detail());
        assertEquals(9, f.status());
        assertEquals(s1, f.beginSeq());
        assertEquals(0, f.beginNanos());
        assertEquals(0x3a4, f.opcode());

        TraceRecord ev = r.get(3);
        assertEquals(s4, ev.seq());
        assertEquals("", ev.partition());
        assertEquals("", ev.task());
        assertNull(ev.name());
        assertEquals("", ev.detail());
        assertArrayEquals(new long[] {42}, ev.args());
        assertEquals(Long.MIN_VALUE, ev.status());
        assertEquals(Long.MAX_VALUE, ev.beginSeq());
        assertEquals(-1, ev.beginNanos());
        assertEquals(-1, ev.opcode());
        assertEquals(-1, ev.vcpu());

        TraceRecord rtas = r.get(4);
        assertEquals(s5, rtas.seq());
        assertEquals("", rtas.detail());
        assertEquals(0, rtas.args().length);
    }

    @Test
    void oversizedPartsAreKeptExactly() {
        TraceRing ring = new TraceRing(16);
        long[] rtasArgs = new long[16];
        for (int i = 0; i < rtasArgs.length; i++) {
            rtasArgs[i] = 100L + i;
        }
        long[] manyRets = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        String longDetail = "x".repeat(TraceRing.MAX_TEXT_CHARS + 10);
        ring.append(TraceKind.CALL_BEGIN, "p", 0, "t", "ibm,configure-connector", rtasArgs, 0, 0, 0, "", 0);
        ring.appendCallEnd("p", 0, "t", "H_X", 1, 5, 6, manyRets, 0x10);
        ring.append(TraceKind.CALL_BEGIN, "p", 0, "t", "H_Y", new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 4, 5,
                "and a detail", 0);
        ring.note(TraceKind.OPERATOR, "p", "long", longDetail);
        // By reference: 16 args; 9 args next to status, beginSeq, beginNanos and a text (13 words > 9); the long
        // detail. The ten return registers become a text detail instead.
        assertEquals(3, ring.spilledSlots());
        List<TraceRecord> r = all(ring);
        assertArrayEquals(rtasArgs, r.get(0).args());
        assertEquals("rets [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", r.get(1).detail());
        assertEquals(0, r.get(1).args().length);
        assertEquals(1, r.get(1).status());
        assertEquals(5, r.get(1).beginSeq());
        assertEquals(6, r.get(1).beginNanos());
        TraceRecord y = r.get(2);
        assertArrayEquals(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, y.args());
        assertEquals("and a detail", y.detail());
        assertEquals(3, y.status());
        assertEquals(4, y.beginSeq());
        assertEquals(5, y.beginNanos());
        assertEquals(longDetail, r.get(3).detail());

        // The spill goes with the record that overwrites its slot.
        for (int i = 0; i < 16; i++) {
            ring.note(TraceKind.STATE, "p", "n", "");
        }
        assertEquals(0, ring.spilledSlots());
    }

    @Test
    void wrapAroundCountsDroppedRecordsForEveryReader() {
        TraceRing ring = new TraceRing(16);
        for (int i = 1; i <= 100; i++) {
            ring.append(TraceKind.CALL_BEGIN, "p", i, "t", "n", new long[] {i}, 0, 0, 0, "", i);
        }
        TraceRing.Chunk c = ring.read(0, 1000, null);
        assertEquals(84, c.dropped());
        assertEquals(16, c.records().size());
        assertEquals(100, c.lastSeq());
        for (int i = 0; i < 16; i++) {
            TraceRecord r = c.records().get(i);
            assertEquals(85 + i, r.seq());
            assertEquals(r.seq(), r.args()[0]);
            assertEquals(r.seq(), r.opcode());
            assertEquals(r.seq(), r.vcpu());
        }
        TraceRing.Chunk mid = ring.read(50, 1000, null);
        assertEquals(34, mid.dropped(), "51..84 are gone");
        assertEquals(85, mid.records().get(0).seq());
        TraceRing.Chunk none = ring.read(100, 10, null);
        assertEquals(0, none.records().size());
        assertEquals(0, none.dropped());
        assertEquals(100, none.lastSeq());
        assertEquals(101, ring.nextSeq());
    }

    @Test
    void theInternTableStaysBoundedUnderAFloodOfTaskNamesAndNamesStayExact() {
        int limit = 64;
        TraceRing ring = new TraceRing(1024, limit, 1 << 16);
        ring.append(TraceKind.GUEST, "lpar1", 0, "worker", "lock_contended[vas_pseries_mutex]", null, 0, 0, 0, "", 0);
        for (int i = 0; i < 10_000; i++) {
            ring.append(TraceKind.GUEST, "lpar1", 0, "hostile-" + i, "tp-" + i, null, 0, 0, 0, "", 0);
        }
        assertTrue(ring.internedNames() <= limit, "interned " + ring.internedNames());
        assertEquals(0, ring.spilledSlots(), "names that miss the table go to the text ring, not to objects");
        // After the flood: a name the table has never seen, and the names interned before it.
        CompletableFuture<TraceRecord> waiting = ring.await("lpar1", ring.nextSeq() - 1,
                r -> r.name().equals("lock_contended[dt_update_mutex]"));
        long seq = ring.append(TraceKind.GUEST, "lpar1", 1, "worker", "lock_contended[dt_update_mutex]", null, 0, 0, 0,
                "after the flood", 0);
        assertTrue(waiting.isDone());
        assertEquals(seq, waiting.join().seq());
        List<TraceRecord> r = ring.read(seq - 1024, 2000, "lpar1").records();
        assertFalse(r.isEmpty());
        for (TraceRecord t : r) {
            if (t.seq() == seq) {
                assertEquals("lock_contended[dt_update_mutex]", t.name());
                assertEquals("worker", t.task());
                assertEquals("after the flood", t.detail());
            } else {
                long i = t.seq() - 2;
                assertEquals("hostile-" + i, t.task());
                assertEquals("tp-" + i, t.name());
                assertEquals("lpar1", t.partition());
            }
        }
        assertTrue(ring.internedNames() <= limit);
        ring.clear();
        assertEquals(2, ring.internedNames(), "clear() starts a fresh table (\"\" and null)");
    }

    @Test
    void recordsWhoseTextWasOverwrittenCountAsDropped() {
        int textChars = 4 * (TraceRing.MAX_TEXT_CHARS + 1);
        TraceRing ring = new TraceRing(64, 16, textChars);
        String big = "d".repeat(TraceRing.MAX_TEXT_CHARS);
        long first = ring.note(TraceKind.STATE, "p", "a", big);
        for (int i = 0; i < 4; i++) {
            ring.note(TraceKind.STATE, "p", "b", big);
        }
        long plain = ring.note(TraceKind.STATE, "p", "c", "");
        TraceRing.Chunk c = ring.read(0, 100, null);
        assertEquals(plain, c.lastSeq());
        assertTrue(c.dropped() >= 1, "the first record's text was lapped");
        assertTrue(c.records().stream().noneMatch(r -> r.seq() == first));
        for (TraceRecord r : c.records()) {
            assertEquals(r.name().equals("c") ? "" : big, r.detail());
        }
        assertEquals(6, c.records().size() + c.dropped());
    }

    @Test
    void textPositionsPastTheSlotsFortyEightBitsStillReadBack() {
        TraceRing ring = new TraceRing(64);
        ring.skipText((1L << 48) - 30);
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            seqs.add(ring.note(TraceKind.STATE, "p", "n", "detail number " + i));
        }
        List<TraceRecord> r = all(ring);
        assertEquals(10, r.size());
        for (int i = 0; i < 10; i++) {
            assertEquals(seqs.get(i), r.get(i).seq());
            assertEquals("detail number " + i, r.get(i).detail());
        }
    }

    @Test
    void clearHidesOldRecordsReleasesSpillsAndKeepsSeqGrowing() {
        TraceRing ring = new TraceRing(16, 8, 1 << 16);
        for (int i = 0; i < 10; i++) {
            ring.append(TraceKind.CALL_BEGIN, "p" + i, 0, "t", "n", new long[12], 0, 0, 0, "", 0);
        }
        assertEquals(10, ring.spilledSlots());
        ring.clear();
        assertEquals(0, ring.spilledSlots());
        assertEquals(0, ring.read(0, 100, null).records().size());
        long seq = ring.note(TraceKind.STATE, "p3", "after", "x");
        assertEquals(11, seq);
        List<TraceRecord> r = all(ring);
        assertEquals(1, r.size());
        assertEquals("p3", r.get(0).partition());
        assertEquals("after", r.get(0).name());
    }

    @Test
    void aRejectedAppendDoesNotLeaveAnUnpublishedSeqBehind() {
        TraceRing ring = new TraceRing(16);
        assertThrows(NullPointerException.class, () -> ring.note(null, "p", "n", ""));
        assertEquals(1, ring.nextSeq());
        long seq = ring.note(TraceKind.STATE, "p", "n", "");
        assertEquals(1, ring.read(0, 10, null).records().size());
        assertEquals(seq, ring.read(0, 10, null).lastSeq());
    }

    @Test
    void slotsAndTextAreAllocatedAsTheyAreFirstUsed() {
        int capacity = 3 * TraceRing.SEG_SLOTS + 100;
        TraceRing ring = new TraceRing(capacity);
        assertEquals(0, ring.allocatedBytes());
        ring.note(TraceKind.OPERATOR, "lpar1", "CreatePartition", "4 vCPUs");
        long one = ring.allocatedBytes();
        assertEquals(8L * TraceRing.SEG_SLOTS * TraceRing.STRIDE + 4L * TraceRing.SEG_SLOTS
                + 2L * TraceRing.TEXT_CHUNK, one, "one segment and one text chunk");
        for (int i = 2; i <= 5 * capacity; i++) {
            ring.append(TraceKind.CALL_BEGIN, "lpar1", i % 8, "t", "H_X", new long[] {i, -i}, 0, 0, 0, "", i);
        }
        long full = 8L * capacity * TraceRing.STRIDE + 4L * capacity + 2L * TraceRing.TEXT_CHUNK;
        assertEquals(full, ring.allocatedBytes(), "every segment, the last one partial; text untouched since");
        TraceRing.Chunk c = ring.read(0, Integer.MAX_VALUE, null);
        assertEquals(capacity, c.records().size());
        assertEquals(4L * capacity, c.dropped());
        long expect = 4L * capacity + 1;
        for (TraceRecord r : c.records()) {
            assertEquals(expect, r.seq());
            assertEquals(expect, r.opcode());
            assertArrayEquals(new long[] {expect, -expect}, r.args());
            expect++;
        }
    }

    @Test
    void textCrossesChunkBoundariesAndWrapsExactly() {
        int textChars = 2 * TraceRing.TEXT_CHUNK + 123;
        TraceRing ring = new TraceRing(1024, 64, textChars);
        Random rnd = new Random(7);
        List<String> details = new ArrayList<>();
        int written = 0;
        for (int i = 0; written < 3 * textChars; i++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(TraceRing.MAX_TEXT_CHARS) + 1;
            for (int k = 0; k < n; k++) {
                sb.append((char) ('a' + (i + k) % 26));
            }
            if (i % 3 == 0) {
                sb.append('\u00e9').append('\u4e2d');
            }
            details.add(sb.toString());
            ring.note(TraceKind.GUEST, "p", "tp", sb.toString());
            written += sb.length() + 1;
        }
        TraceRing.Chunk c = ring.read(0, Integer.MAX_VALUE, null);
        assertEquals(details.size(), c.records().size() + c.dropped());
        assertTrue(c.records().size() > 2 * textChars / (TraceRing.MAX_TEXT_CHARS + 1) / 2);
        for (TraceRecord r : c.records()) {
            assertEquals(details.get((int) r.seq() - 1), r.detail());
        }
        assertTrue(ring.allocatedBytes() >= 2L * textChars);
    }

    @Test
    void capacityIsBounded() {
        assertThrows(IllegalArgumentException.class, () -> new TraceRing(8));
        assertThrows(IllegalArgumentException.class, () -> new TraceRing(TraceRing.MAX_CAPACITY + 1));
    }

    @Test
    void awaitIsWokenByAnAppendOnAnotherThread() throws Exception {
        TraceRing ring = new TraceRing(64);
        CompletableFuture<TraceRecord> f = ring.await("lpar1", 0,
                r -> r.kind() == TraceKind.CALL_END && r.detail().equals("rets [5]"));
        assertFalse(f.isDone());
        Thread t = new Thread(() -> {
            long b = ring.append(TraceKind.CALL_BEGIN, "lpar1", 1, "w", "H_ALLOCATE_VAS_WINDOW", new long[] {1, 2}, 0,
                    0, 0, "", 0x360);
            ring.appendCallEnd("lpar1", 1, "w", "H_ALLOCATE_VAS_WINDOW", 0, b, 10, new long[] {5}, 0x360);
        });
        t.start();
        TraceRecord r = f.get(30, TimeUnit.SECONDS);
        t.join();
        assertEquals(2, r.seq());
        assertEquals(1, r.beginSeq());
        assertEquals(0, r.args().length);
        assertEquals("rets [5]", all(ring).get(1).detail(), "the woken record is the one the ring reads back");
        assertEquals(0, ring.waiterCount());
    }

    /** Every field of a record is derived from one value, so a reader can tell a torn record from a whole one. */
    private static void appendDerived(TraceRing ring, int writer, long v) {
        int argc = (int) (v % 10);
        long[] args = new long[argc];
        for (int i = 0; i < argc; i++) {
            args[i] = v * 31 + i;
        }
        String detail = v % 5 == 0 ? "detail " + v : "";
        String task = "task-" + writer + "-" + (v % 7);
        if (v % 3 == 0) {
            ring.appendCallEnd("part" + writer, writer, task, "end" + (v % 11), v % 4 == 0 ? 0 : -v, v * 2, v * 3,
                    args, v);
        } else {
            ring.append(TraceKind.CALL_BEGIN, "part" + writer, writer, task, "begin" + (v % 11), args,
                    v % 4 == 0 ? 0 : -v, v * 2, v * 3, detail, v);
        }
    }

    private static void checkDerived(TraceRecord r) {
        long v = r.opcode();
        int writer = r.vcpu();
        String where = r.toString();
        assertEquals("part" + writer, r.partition(), where);
        assertEquals("task-" + writer + "-" + (v % 7), r.task(), where);
        assertEquals(v % 4 == 0 ? 0 : -v, r.status(), where);
        assertEquals(v * 2, r.beginSeq(), where);
        assertEquals(v * 3, r.beginNanos(), where);
        int argc = (int) (v % 10);
        long[] args = new long[argc];
        for (int i = 0; i < argc; i++) {
            args[i] = v * 31 + i;
        }
        if (v % 3 == 0) {
            assertEquals(TraceKind.CALL_END, r.kind(), where);
            assertEquals("end" + (v % 11), r.name(), where);
            assertEquals(0, r.args().length, where);
            assertEquals(TraceRing.retsDetail(args, argc), r.detail(), where);
        } else {
            assertEquals(TraceKind.CALL_BEGIN, r.kind(), where);
            assertEquals("begin" + (v % 11), r.name(), where);
            assertArrayEquals(args, r.args(), where);
            assertEquals(v % 5 == 0 ? "detail " + v : "", r.detail(), where);
        }
    }

    /** 256: one segment, lapped constantly; 4196: two segments, the second one partial. */
    @ParameterizedTest
    @ValueSource(ints = {256, TraceRing.SEG_SLOTS + 100})
    void concurrentWritersAndReadersNeverSeeATornRecord(int capacity) throws Exception {
        int writers = 4;
        int perWriter = 40_000;
        // Small ring, small intern table and small text ring: slots, text and names are all overwritten and
        // overflowed while the readers read.
        TraceRing ring = new TraceRing(capacity, 40, 4 * (TraceRing.MAX_TEXT_CHARS + 1));
        ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
        CountDownLatch start = new CountDownLatch(1);
        AtomicBoolean writing = new AtomicBoolean(true);
        try {
            List<Future<?>> ws = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                ws.add(pool.submit(() -> {
                    start.await();
                    for (long i = 1; i <= perWriter; i++) {
                        appendDerived(ring, writer, i * writers + writer);
                    }
                    return null;
                }));
            }
            List<Future<long[]>> rs = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                String filter = k == 0 ? null : "part1";
                rs.add(pool.submit(() -> {
                    start.await();
                    long since = 0;
                    long seen = 0;
                    long dropped = 0;
                    while (true) {
                        boolean stillWriting = writing.get();
                        TraceRing.Chunk c = ring.read(since, 100, filter);
                        long prev = since;
                        for (TraceRecord r : c.records()) {
                            assertTrue(r.seq() > prev, "seqs ascend");
                            prev = r.seq();
                            assertTrue(r.seq() <= c.lastSeq());
                            if (filter != null) {
                                assertEquals(filter, r.partition());
                            }
                            checkDerived(r);
                        }
                        seen += c.records().size();
                        dropped += c.dropped();
                        if (c.lastSeq() == since && !stillWriting && ring.nextSeq() - 1 == since) {
                            return new long[] {seen, dropped, since};
                        }
                        since = c.lastSeq();
                    }
                }));
            }
            start.countDown();
            for (Future<?> f : ws) {
                f.get(50, TimeUnit.SECONDS);
            }
            writing.set(false);
            long total = (long) writers * perWriter;
            assertEquals(total + 1, ring.nextSeq(), "every append got its own seq");
            long[] everything = rs.get(0).get(50, TimeUnit.SECONDS);
            assertEquals(total, everything[2], "the unfiltered reader reached the end");
            assertEquals(total, everything[0] + everything[1], "every seq was either returned or counted as dropped");
            assertTrue(everything[0] > 0);
            rs.get(1).get(50, TimeUnit.SECONDS);
            // Quiescent now: the newest records read back whole.
            List<TraceRecord> tail = ring.read(total - capacity, capacity, null).records();
            assertFalse(tail.isEmpty());
            tail.forEach(TraceRingStorageTest::checkDerived);
        } finally {
            pool.shutdownNow();
        }
    }
    @Test
    void clearsDuringConcurrentAppendsAndReadsNeverMixTables() throws Exception {
        int writers = 3;
        int perWriter = 30_000;
        TraceRing ring = new TraceRing(512, 48, 4 * (TraceRing.MAX_TEXT_CHARS + 1));
        ExecutorService pool = Executors.newFixedThreadPool(writers + 2);
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch written = new CountDownLatch(writers);
        try {
            for (int w = 0; w < writers; w++) {
                int writer = w;
                pool.submit(() -> {
                    start.await();
                    for (long i = 1; i <= perWriter; i++) {
                        appendDerived(ring, writer, i * writers + writer);
                    }
                    written.countDown();
                    return null;
                });
            }
            Future<Integer> clears = pool.submit(() -> {
                start.await();
                int n = 0;
                long at = 0;
                while (written.getCount() > 0) {
                    if (ring.nextSeq() - at >= 1_000) {
                        at = ring.nextSeq();
                        ring.clear();
                        n++;
                        // Shift the ids the writers' names get in the fresh table, so that a record decoded
                        // against the wrong table would read back wrong names.
                        for (int j = 0; j <= n % 7; j++) {
                            ring.note(TraceKind.STATE, "shift", "shift-" + n + "-" + j, "");
                        }
                    } else {
                        Thread.onSpinWait();
                    }
                }
                return n;
            });
            Future<Long> reader = pool.submit(() -> {
                start.await();
                long since = 0;
                long seen = 0;
                while (true) {
                    boolean done = written.getCount() == 0;
                    TraceRing.Chunk c = ring.read(since, 200, null);
                    for (TraceRecord r : c.records()) {
                        if (!r.partition().equals("shift")) {
                            checkDerived(r);
                        }
                    }
                    seen += c.records().size();
                    if (done && c.lastSeq() == ring.nextSeq() - 1) {
                        return seen;
                    }
                    since = c.lastSeq();
                }
            });
            start.countDown();
            assertTrue(written.await(50, TimeUnit.SECONDS));
            assertTrue(clears.get(50, TimeUnit.SECONDS) > 0, "the ring was cleared while being written");
            assertTrue(reader.get(50, TimeUnit.SECONDS) > 0);
            assertTrue(ring.internedNames() <= 48);
        } finally {
            pool.shutdownNow();
        }
    }
}
