package org.lparemu.core.trace;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * A bounded, lock-free ring of trace records shared by every partition of a platform, stored without one
 * object per record.
 *
 * <p><b>Why.</b> The daemon appends two records per guest call and the default ring holds 262,144 of them.
 * Kept as {@link TraceRecord} objects (each with its args array and detail string) they were all live, so
 * every young collection copied and re-scanned them and every append dirtied a card of the old-generation
 * slot array. Here a record lives in primitive arrays that the collector never traces; {@link TraceRecord}s
 * are built only when the ring is read ({@link #read}, {@link #await}), which is off the call path.
 *
 * <p><b>Slots.</b> Record {@code seq} lives in slot {@code seq % capacity}: {@value #STRIDE} longs of a
 * {@code long[]} segment of {@value #SEG_SLOTS} slots, allocated when the first record lands in it (so a ring
 * that is never filled, as in tests and short demos, stays small). The words are a stamp, nanos, opcode, a meta
 * word (vcpu, kind, argument count, flags), an ids word (partition, task and name as 16-bit ids into the intern
 * table, plus the table's epoch) and a variable area of {@value #VAR_WORDS} words holding, in this order and
 * only when present, status, beginSeq, beginNanos, the text reference, then the arguments (at most
 * {@value #MAX_ARGS}: the PAPR hcall ABI's nine argument registers) or a call's return registers. A CALL_END's
 * "rets [..]" detail is not built when the call ends: the return registers are stored as values and formatted
 * when the record is read.
 *
 * <p><b>Slot protocol (a seqlock per slot).</b> The stamp is 0 for an empty slot, {@code seq} for a published
 * record and {@code -seq} while the writer of {@code seq} is filling the slot. A writer takes the slot with a
 * CAS from any older stamp to {@code -seq} (if a newer lap already owns the slot, its own record is simply lost,
 * which readers count as dropped; if an older lap's writer is still filling it, it waits for those few stores),
 * writes the words with plain stores and publishes with a release store of {@code seq}. A reader that wants
 * {@code seq} reads the stamp (acquire), copies the slot, issues an acquire fence and reads the stamp again:
 * the copy is used only if both reads saw {@code seq}, so a record overwritten during the read is reported as
 * dropped, never returned torn. A stamp older than {@code seq} means claimed but not yet published: the read
 * stops there so the caller can resume from it.
 *
 * <p><b>Strings.</b> Partition, task and record names are a small set of shared strings: they are interned
 * into a table of at most {@code nameLimit} entries (default {@value #DEFAULT_NAME_LIMIT}, each at most
 * {@value #MAX_INTERNED_CHARS} chars). Task and tracepoint names come from guests over the wire, so a hostile
 * guest can send any number of distinct ones: once the table is full, a string that is not in it is stored as
 * text (below) instead, exactly, and the table stays bounded. {@link #clear()} starts a fresh table.
 *
 * <p><b>Text</b> (free-text details, and names the table has no room for) goes into one bounded {@code char[]}
 * ring shared by all records, default {@value #TEXT_CHARS_PER_RECORD} chars per record of capacity (most records,
 * the calls, have none), in chunks of {@value #TEXT_CHUNK} chars allocated when first written. A writer advances
 * the text cursor and copies its chars in under the text ring's lock (only records with text take it), then
 * stores the position in its slot. A reader copies the chars and then checks, after an acquire fence, that the
 * cursor has not advanced a whole text ring past them; if it has, the text may have been overwritten and the
 * record counts as dropped, like a record whose slot was overwritten.
 *
 * <p><b>By reference</b>, the one exception: a string longer than {@value #MAX_TEXT_CHARS} chars, and arguments
 * that do not fit the slot's variable area (more than nine, e.g. an RTAS call with up to 16) are kept in the
 * slot's entry of a side array, which is null for every other record and released by the next lap.
 *
 * <p>An append of a record without text allocates nothing, apart from the segment it may be the first to use
 * (with waiters registered by {@link #await}, it builds the one {@link TraceRecord} they are offered).
 */
public final class TraceRing {
    /** Arguments (or return registers) stored in a slot; more are kept by reference. */
    public static final int MAX_ARGS = 9;
    /** Default bound of the intern table of partition, task and record names. */
    public static final int DEFAULT_NAME_LIMIT = 4096;
    /** Strings longer than this are never interned (they go to the text ring). */
    static final int MAX_INTERNED_CHARS = 256;
    /** Strings longer than this are kept by reference instead of in the text ring. */
    static final int MAX_TEXT_CHARS = 2048;
    /** Default size of the text ring, in chars per record of capacity. */
    static final int TEXT_CHARS_PER_RECORD = 8;
    static final int MIN_TEXT_CHARS = 1 << 16;
    private static final int TEXT_CHUNK_SHIFT = 13;
    static final int TEXT_CHUNK = 1 << TEXT_CHUNK_SHIFT;
    /** A slot stores a text position in 48 bits (next to a 16-bit length). */
    private static final long TEXT_POS_MASK = (1L << 48) - 1;

    // slot layout (longs)
    private static final int W_STAMP = 0;
    private static final int W_NANOS = 1;
    private static final int W_OPCODE = 2;
    private static final int W_META = 3;
    private static final int W_IDS = 4;
    private static final int W_VAR = 5;
    private static final int VAR_WORDS = 9;
    static final int STRIDE = W_VAR + VAR_WORDS;
    private static final int SEG_SHIFT = 9;
    static final int SEG_SLOTS = 1 << SEG_SHIFT;
    private static final int SEG_MASK = SEG_SLOTS - 1;

    /** The largest capacity (the slots' words are addressed with an int). */
    public static final int MAX_CAPACITY = (Integer.MAX_VALUE - 16) / STRIDE;

    // meta word: vcpu (bits 0-31), kind (32-35), argument count in the slot (36-39), flags (40-)
    private static final int F_STATUS = 1;
    private static final int F_BEGIN_SEQ = 1 << 1;
    private static final int F_BEGIN_NANOS = 1 << 2;
    private static final int F_TEXT = 1 << 3;
    /** The slot's arguments are a call's return registers: the record has no args and a "rets [..]" detail. */
    private static final int F_RETS = 1 << 4;
    private static final int F_TEXT_PARTITION = 1 << 5;
    private static final int F_TEXT_TASK = 1 << 6;
    private static final int F_TEXT_NAME = 1 << 7;
    private static final int F_TEXT_DETAIL = 1 << 8;
    /** The slot's entry in the side array holds a {@link Spill}. */
    private static final int F_SPILL = 1 << 9;

    // ids word: partition (bits 0-15), task (16-31), name (32-47), the intern table's epoch (48-63)
    private static final int ID_EMPTY = 0;
    private static final int ID_NULL = 1;
    /** Not interned: the string is in the text ring or the spill. */
    private static final int ID_NONE = 0xFFFF;
    static final int MAX_NAME_LIMIT = ID_NONE - 1;

    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int ID_CACHE_NAMES = 16;
    private static final long[] NO_ARGS = new long[0];
    /** Kinds by their code in a slot's meta word (the inverse of {@link #kindCode}). */
    private static final TraceKind[] KINDS = TraceKind.values();

    private final int capacity;
    /** Slots in segments of {@value #SEG_SLOTS}, each allocated when a record first lands in it. */
    private final AtomicReferenceArray<Segment> segments;
    /** The text ring's size in chars, in chunks of {@value #TEXT_CHUNK} allocated when first written. */
    private final int textCap;
    /** Written under the lock {@code textLock}; readers see a chunk through the release of the slot using it. */
    private final char[][] textChunks;
    private final Object textLock = new Object();
    private final AtomicLong textCursor = new AtomicLong();
    private final int nameLimit;
    private volatile Names names;
    /**
     * The last ids looked up, by string identity: partition (slot 0), task (1), and names by opcode (2..). Each
     * call's two records name the same partition, task and call, so most appends read their three ids here instead
     * of in the intern table's map. Entries are immutable and carry their table, so a stale or racing one is only a
     * miss (plain reads and writes).
     */
    private final CachedId[] idCache = new CachedId[2 + ID_CACHE_NAMES];
    private final AtomicLong nextSeq = new AtomicLong(1);
    private final LongSupplier clock;
    private final long originNanos;
    /** Records below this seq were cleared by {@link #clear()}. */
    private volatile long floorSeq = 1;

    private final CopyOnWriteArrayList<Waiter> waiters = new CopyOnWriteArrayList<>();
    /** Scans by {@link #await} that had to wait for a record still being written (tests, diagnostics). */
    private final AtomicLong stalledScans = new AtomicLong();

    /** decode: the record's text was overwritten (counts as dropped). */
    private static final TraceRecord LOST = new TraceRecord(-1, 0, TraceKind.STATE, "", -1, "", "", null, 0, 0, 0,
            "", 0);

    /** decode: another partition's record, or one from before a clear(). */
    private static final TraceRecord SKIP = new TraceRecord(-2, 0, TraceKind.STATE, "", -1, "", "", null, 0, 0, 0,
            "", 0);

    public TraceRing(int capacity) {
        this(capacity, System::nanoTime);
    }

    /**
     * A ring whose time base is {@code clock} (nanoseconds, monotonic): a simulation passes its virtual clock so that
     * a run's trace is a function of its schedule alone.
     */
    public TraceRing(int capacity, LongSupplier clock) {
        this(capacity, DEFAULT_NAME_LIMIT, (int) Math.min(Math.max((long) capacity * TEXT_CHARS_PER_RECORD,
                MIN_TEXT_CHARS), 1 << 28), clock);
    }

    /**
     * @param nameLimit distinct partition, task and record names interned (2 to {@value #MAX_NAME_LIMIT})
     * @param textChars size of the text ring (at least 4 times {@value #MAX_TEXT_CHARS} + 4 chars)
     */
    TraceRing(int capacity, int nameLimit, int textChars) {
        this(capacity, nameLimit, textChars, System::nanoTime);
    }

    private TraceRing(int capacity, int nameLimit, int textChars, LongSupplier clock) {
        if (capacity < 16) {
            throw new IllegalArgumentException("trace capacity must be at least 16, got " + capacity);
        }
        if (capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("trace capacity must be at most " + MAX_CAPACITY + ", got " + capacity);
        }
        if (nameLimit < 2 || nameLimit > MAX_NAME_LIMIT) {
            throw new IllegalArgumentException("name limit out of range: " + nameLimit);
        }
        if (textChars < 4 * (MAX_TEXT_CHARS + 1)) {
            throw new IllegalArgumentException("text ring too small: " + textChars);
        }
        this.capacity = capacity;
        this.segments = new AtomicReferenceArray<>((capacity + SEG_SLOTS - 1) >>> SEG_SHIFT);
        this.textCap = textChars;
        this.textChunks = new char[(textChars + TEXT_CHUNK - 1) >>> TEXT_CHUNK_SHIFT][];
        this.nameLimit = nameLimit;
        this.names = new Names(0, nameLimit);
        this.clock = clock;
        this.originNanos = clock.getAsLong();
    }

    public int capacity() {
        return capacity;
    }

    /** Nanoseconds since this ring was created (the trace's time base). */
    public long now() {
        return clock.getAsLong() - originNanos;
    }

    /** The seq the next record will get. */
    public long nextSeq() {
        return nextSeq.get();
    }

    /** Appends a record and returns its seq. {@code args} is copied. */
    public long append(TraceKind kind, String partition, int vcpu, String task, String name, long[] args, long status,
                       long beginSeq, long beginNanos, String detail, long opcode) {
        return write(-1, kind, partition, vcpu, task, name, args, false, status, beginSeq, beginNanos, detail, opcode);
    }

    /**
     * {@link #append} stamped {@code nanos} (a {@link #now()} the caller just read, e.g. a call's begin time that
     * its CALL_END will carry as beginNanos): the record's time is then exactly that value, and the ring does not
     * read the clock a second time.
     */
    public long appendAt(long nanos, TraceKind kind, String partition, int vcpu, String task, String name, long[] args,
                         long status, long beginSeq, long beginNanos, String detail, long opcode) {
        return write(nanos, kind, partition, vcpu, task, name, args, false, status, beginSeq, beginNanos, detail,
                opcode);
    }

    /**
     * Appends the CALL_END of a call that returned {@code rets} (may be null): the record reads back with no
     * args and the detail {@code "rets " + Arrays.toString(rets)} (empty when there are none), formatted only
     * when it is read.
     */
    public long appendCallEnd(String partition, int vcpu, String task, String name, long status, long beginSeq,
                              long beginNanos, long[] rets, long opcode) {
        return write(-1, TraceKind.CALL_END, partition, vcpu, task, name, rets, true, status, beginSeq, beginNanos, "",
                opcode);
    }

    /** {@code table.id(s)}, through {@link #idCache} slot {@code slot}. */
    @SuppressWarnings("ReferenceEquality") // a cache hit is the very same String (and table) instance
    private int cachedId(Names table, String s, int slot) {
        CachedId c = idCache[slot];
        if (c != null && c.s == s && c.table == table) {
            return c.id;
        }
        int id = table.id(s);
        if (id != ID_NONE) {
            idCache[slot] = new CachedId(s, id, table);
        }
        return id;
    }

    /** One {@link #idCache} entry. */
    private record CachedId(String s, int id, Names table) {
    }

    /** Appends a simple record (no call pairing). */
    public long note(TraceKind kind, String partition, String name, String detail) {
        return append(kind, partition, -1, "", name, null, 0, 0, 0, detail, 0);
    }

    /** A kind's code in a slot's meta word: its position in {@link #KINDS}, which only ever grows at the end. */
    @SuppressWarnings("EnumOrdinal") // slots are in-memory only: the code never outlives this process
    private static int kindCode(TraceKind kind) {
        return kind.ordinal();
    }

    /** {@code atNanos}: the record's time, or -1 to read the clock after claiming the seq. */
    private long write(long atNanos, TraceKind kind, String partition, int vcpu, String task, String name, long[] args,
                       boolean rets, long status, long beginSeq, long beginNanos, String detail, long opcode) {
        // Nothing between claiming the seq and publishing it may throw: a seq never published stops every
        // reader there until the ring laps it, and a slot left locked would stall its next writer.
        Objects.requireNonNull(kind, "kind");
        long seq = nextSeq.getAndIncrement();
        return writeClaimed(seq, true, atNanos, kind, partition, vcpu, task, name, args, rets, status, beginSeq,
                beginNanos, detail, opcode);
    }

    /** Fills and publishes the claimed {@code seq}; then, when {@code offer}, offers it to the registered waiters. */
    private long writeClaimed(long seq, boolean offer, long atNanos, TraceKind kind, String partition, int vcpu,
                              String task, String name, long[] args, boolean rets, long status, long beginSeq,
                              long beginNanos, String detail, long opcode) {
        long kindBits = (long) kindCode(kind) << 32;
        long nanos = atNanos >= 0 ? atNanos : now();
        String p = partition == null ? "" : partition;
        String t = task == null ? "" : task;
        String d = detail == null ? "" : detail;
        int argc = args == null ? 0 : args.length;
        // Read after the seq is claimed: see clear().
        Names table = names;
        int pid = cachedId(table, p, 0);
        int tid = cachedId(table, t, 1);
        int nid = name == null ? ID_NULL : cachedId(table, name, 2 + ((int) (opcode >>> 2) & (ID_CACHE_NAMES - 1)));

        int flags = 0;
        int textLen = 0;
        Spill spill = null;
        if (pid == ID_NONE) {
            if (p.length() <= MAX_TEXT_CHARS) {
                flags |= F_TEXT_PARTITION;
                textLen += 1 + p.length();
            } else {
                spill = Spill.of(spill).partition(p);
            }
        }
        if (tid == ID_NONE) {
            if (t.length() <= MAX_TEXT_CHARS) {
                flags |= F_TEXT_TASK;
                textLen += 1 + t.length();
            } else {
                spill = Spill.of(spill).task(t);
            }
        }
        if (nid == ID_NONE) {
            if (name.length() <= MAX_TEXT_CHARS) {
                flags |= F_TEXT_NAME;
                textLen += 1 + name.length();
            } else {
                spill = Spill.of(spill).name(name);
            }
        }
        int optional = 0;
        if (status != 0) {
            flags |= F_STATUS;
            optional++;
        }
        if (beginSeq != 0) {
            flags |= F_BEGIN_SEQ;
            optional++;
        }
        if (beginNanos != 0) {
            flags |= F_BEGIN_NANOS;
            optional++;
        }
        if (rets && argc > 0) {
            if (optional + (textLen > 0 ? 1 : 0) + argc <= VAR_WORDS) {
                flags |= F_RETS;
            } else {
                // More return registers than the slot holds (only injected ReturnStatus rules can do that).
                d = retsDetail(args, argc);
                argc = 0;
            }
        }
        if (!d.isEmpty()) {
            if (d.length() <= MAX_TEXT_CHARS) {
                flags |= F_TEXT_DETAIL;
                textLen += 1 + d.length();
            } else {
                spill = Spill.of(spill).detail(d);
            }
        }
        if (textLen > 0) {
            flags |= F_TEXT;
            optional++;
        }
        if (argc > 0 && optional + argc > VAR_WORDS) {
            spill = Spill.of(spill).args(args.clone());
            argc = 0;
        }
        if (spill != null) {
            flags |= F_SPILL;
        }

        long textPos = 0;
        if (textLen > 0) {
            // Reserve and copy under one lock (text is rare): a writer stalled between the two could otherwise
            // write over a whole lap's newer text, which no reader check would notice.
            synchronized (textLock) {
                textPos = textCursor.getAndAdd(textLen);
                long at = textPos;
                if ((flags & F_TEXT_PARTITION) != 0) {
                    at = putText(at, p);
                }
                if ((flags & F_TEXT_TASK) != 0) {
                    at = putText(at, t);
                }
                if ((flags & F_TEXT_NAME) != 0) {
                    at = putText(at, name);
                }
                if ((flags & F_TEXT_DETAIL) != 0) {
                    putText(at, d);
                }
            }
        }

        int slot = (int) (seq % capacity);
        Segment seg = segment(slot >>> SEG_SHIFT);
        int i = slot & SEG_MASK;
        int base = i * STRIDE;
        long[] s = seg.words;
        if (lock(s, base, seq)) {
            s[base + W_NANOS] = nanos;
            s[base + W_OPCODE] = opcode;
            s[base + W_META] = (vcpu & 0xFFFF_FFFFL) | kindBits | ((long) argc << 36) | ((long) flags << 40);
            s[base + W_IDS] = pid | ((long) tid << 16) | ((long) nid << 32) | ((long) (table.epoch & 0xFFFF) << 48);
            int w = base + W_VAR;
            if ((flags & F_STATUS) != 0) {
                s[w++] = status;
            }
            if ((flags & F_BEGIN_SEQ) != 0) {
                s[w++] = beginSeq;
            }
            if ((flags & F_BEGIN_NANOS) != 0) {
                s[w++] = beginNanos;
            }
            if (textLen > 0) {
                s[w++] = ((textPos & TEXT_POS_MASK) << 16) | textLen;
            }
            for (int a = 0; a < argc; a++) {
                s[w++] = args[a];
            }
            // Only touch the reference array when a spill comes or goes (no card mark on the common path).
            if (spill != null || seg.spills[i] != null) {
                seg.spills[i] = spill;
            }
            LONGS.setRelease(s, base + W_STAMP, seq);
        }
        // No fence here (there was one per record, two per hcall). A waiter registered before this seq was
        // claimed is seen by this read; one registered after scans this record itself: see await().
        if (offer && !waiters.isEmpty()) {
            long[] a = rets || args == null ? NO_ARGS : args.clone();
            String det = rets && args != null && args.length > 0 ? retsDetail(args, args.length) : d;
            wake(new TraceRecord(seq, nanos, kind, p, vcpu, t, name, a, status, beginSeq, beginNanos, det, opcode));
        }
        return seq;
    }

    /**
     * Takes the slot at {@code base} of {@code s} for the writer of {@code seq}: false when a newer lap owns it
     * (the record is lost; readers count it as dropped).
     */
    @SuppressWarnings("ThreadPriorityCheck") // after 64 spins the writer ahead was descheduled: let it run
    private static boolean lock(long[] s, int base, long seq) {
        for (int spins = 0; ; spins++) {
            long cur = (long) LONGS.getVolatile(s, base + W_STAMP);
            if (cur >= 0) {
                if (cur >= seq) {
                    return false;
                }
                if (LONGS.compareAndSet(s, base + W_STAMP, cur, -seq)) {
                    return true;
                }
            } else if (-cur > seq) {
                return false;
            } else if (spins < 64) {
                // A writer one lap (or more) behind is still filling this slot: a few stores.
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }

    /** The segment of slots {@code si}, allocated by the first writer that needs it. */
    private Segment segment(int si) {
        Segment g = segments.get(si);
        if (g == null) {
            g = new Segment(Math.min(SEG_SLOTS, capacity - (si << SEG_SHIFT)));
            if (!segments.compareAndSet(si, null, g)) {
                g = segments.get(si);
            }
        }
        return g;
    }

    /** Writes {@code s}, preceded by its length, at text position {@code at}; under {@code textLock}. */
    private long putText(long at, String s) {
        int n = s.length();
        int idx = (int) (at % textCap);
        textChunk(idx >>> TEXT_CHUNK_SHIFT)[idx & (TEXT_CHUNK - 1)] = (char) n;
        at++;
        for (int done = 0; done < n; ) {
            idx = (int) ((at + done) % textCap);
            char[] chunk = textChunk(idx >>> TEXT_CHUNK_SHIFT);
            int off = idx & (TEXT_CHUNK - 1);
            int k = Math.min(n - done, chunk.length - off);
            s.getChars(done, done + k, chunk, off);
            done += k;
        }
        return at + n;
    }

    /** Under {@code textLock}. */
    private char[] textChunk(int c) {
        char[] chunk = textChunks[c];
        if (chunk == null) {
            chunk = new char[Math.min(TEXT_CHUNK, textCap - (c << TEXT_CHUNK_SHIFT))];
            textChunks[c] = chunk;
        }
        return chunk;
    }

    static String retsDetail(long[] rets, int n) {
        return n == 0 ? "" : "rets " + Arrays.toString(n == rets.length ? rets : Arrays.copyOf(rets, n));
    }

    // ---------------------------------------------------------------------------------------------
    // waiters

    private record Waiter(String partition, long sinceSeq, Predicate<TraceRecord> match,
                          CompletableFuture<TraceRecord> future) {
    }

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
     *
     * <p><b>No lost wake-up, and no fence on the writer's path.</b> The waiter registers, then reads
     * {@link #nextSeq} as {@code end}. A writer whose seq is {@code end} or later claimed it (a volatile
     * read-modify-write) after that read, so its read of the waiter list, which follows, sees this waiter: it offers
     * its record. Every record below {@code end} is looked at here: the scan goes on until it has passed
     * {@code end - 1}, waiting (spinning, then yielding) for a record that is claimed but not yet published, which is
     * a writer in the middle of a few stores. (The writer used to publish and then issue a full fence so that it
     * and the waiter could not both miss each other; the jcstress test {@code TraceAwaitTest} gates both designs.)
     */
    @SuppressWarnings("ThreadPriorityCheck") // a writer we wait for was descheduled mid-record: let it run
    public CompletableFuture<TraceRecord> await(String partition, long sinceSeq, Predicate<TraceRecord> match) {
        CompletableFuture<TraceRecord> f = new CompletableFuture<>();
        Waiter w = new Waiter(partition == null || partition.isEmpty() ? null : partition, sinceSeq, match, f);
        waiters.add(w);
        f.whenComplete((v, e) -> waiters.remove(w));
        // Writers of seq >= end see the waiter; the records below end are scanned here.
        long end = nextSeq.get();
        long from = sinceSeq;
        int stalls = 0;
        while (true) {
            // After a clear() nothing below the floor can be read: do not wait for it.
            from = Math.max(from, floorSeq - 1);
            if (from >= end - 1) {
                return f;
            }
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
                // Stopped at a record claimed before end and not yet published: its writer is a few stores away.
                if (stalls == 0) {
                    stalledScans.incrementAndGet();
                }
                if (++stalls < 64) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            } else {
                stalls = 0;
            }
            from = c.lastSeq();
        }
    }

    /** Scans by {@link #await} that waited for a record claimed before the waiter registered and not yet published. */
    long stalledScans() {
        return stalledScans.get();
    }

    /** Waiters currently registered (bounded by their timeouts). */
    public int waiterCount() {
        return waiters.size();
    }

    // ---------------------------------------------------------------------------------------------
    // reading

    /** A chunk read from the ring. */
    public record Chunk(List<TraceRecord> records, long lastSeq, long dropped) {
    }

    /**
     * Records with seq greater than {@code sinceSeq}, oldest first, at most {@code max}, optionally only one
     * partition's (null or empty = all). {@code dropped} counts records that were overwritten before this read.
     */
    @SuppressWarnings("ReferenceEquality") // LOST and SKIP are sentinels, compared by identity on purpose
    public Chunk read(long sinceSeq, int max, String partition) {
        long end = nextSeq.get();
        long first = Math.max(sinceSeq + 1, floorSeq);
        long dropped = 0;
        long last = sinceSeq;
        if (end - first > capacity) {
            dropped = end - first - capacity;
            first = end - capacity;
            // Counted here, so a caller resuming from lastSeq must not count them again, even when the read
            // stops at once on a record that is claimed but not yet published.
            last = first - 1;
        }
        String filter = partition == null || partition.isEmpty() ? null : partition;
        List<TraceRecord> out = new ArrayList<>();
        long[] words = new long[STRIDE];
        for (long s = first; s < end && out.size() < max; s++) {
            int slot = (int) (s % capacity);
            // No segment yet: nothing was ever published there.
            Segment seg = segments.get(slot >>> SEG_SHIFT);
            int i = slot & SEG_MASK;
            int base = i * STRIDE;
            long stamp = seg == null ? 0 : (long) LONGS.getAcquire(seg.words, base + W_STAMP);
            Object spill = null;
            if (stamp == s) {
                System.arraycopy(seg.words, base, words, 0, STRIDE);
                spill = seg.spills[i];
                VarHandle.acquireFence();
                stamp = (long) LONGS.getVolatile(seg.words, base + W_STAMP);
            }
            if (stamp != s) {
                if (Math.abs(stamp) > s) {
                    // Overwritten by a newer lap, before or during this read.
                    dropped++;
                    last = s;
                    continue;
                }
                // Claimed but not yet published (or cleared): stop here so the caller can resume from it.
                break;
            }
            last = s;
            TraceRecord r = decode(s, words, (Spill) spill, filter);
            if (r == LOST) {
                dropped++;
            } else if (r != SKIP) {
                out.add(r);
            }
        }
        return new Chunk(out, last, dropped);
    }

    private TraceRecord decode(long seq, long[] w, Spill spill, String filter) {
        long meta = w[W_META];
        long ids = w[W_IDS];
        Names table = names;
        if ((int) (ids >>> 48) != (table.epoch & 0xFFFF)) {
            // Written with the table of an earlier epoch: the record is from before a clear().
            return SKIP;
        }
        int flags = (int) (meta >>> 40);
        int argc = (int) (meta >>> 36) & 0xF;
        int v = W_VAR;
        long status = (flags & F_STATUS) != 0 ? w[v++] : 0;
        long beginSeq = (flags & F_BEGIN_SEQ) != 0 ? w[v++] : 0;
        long beginNanos = (flags & F_BEGIN_NANOS) != 0 ? w[v++] : 0;
        String partition;
        String task;
        String name;
        String detail = "";
        if ((flags & F_TEXT) != 0) {
            long ref = w[v++];
            int len = (int) (ref & 0xFFFF);
            // The slot keeps the low 48 bits of the position; the text is at most one text ring behind the
            // cursor (or lost), so the full position is the last one at or below the cursor with those bits.
            long cursor = textCursor.get();
            long pos = cursor - ((cursor - (ref >>> 16)) & TEXT_POS_MASK);
            if (cursor - pos > textCap) {
                return LOST;
            }
            char[] chars = new char[len];
            for (int done = 0; done < len; ) {
                int idx = (int) ((pos + done) % textCap);
                // Allocated before the text was written, which happened before the slot was published.
                char[] chunk = textChunks[idx >>> TEXT_CHUNK_SHIFT];
                int off = idx & (TEXT_CHUNK - 1);
                int k = Math.min(len - done, chunk.length - off);
                System.arraycopy(chunk, off, chars, done, k);
                done += k;
            }
            VarHandle.acquireFence();
            if (textCursor.get() - pos > textCap) {
                return LOST;
            }
            int[] at = {0};
            partition = (flags & F_TEXT_PARTITION) != 0 ? field(chars, at) : null;
            task = (flags & F_TEXT_TASK) != 0 ? field(chars, at) : null;
            name = (flags & F_TEXT_NAME) != 0 ? field(chars, at) : null;
            if ((flags & F_TEXT_DETAIL) != 0) {
                detail = field(chars, at);
            }
        } else {
            partition = null;
            task = null;
            name = null;
        }
        Spill sp = (flags & F_SPILL) != 0 ? spill : null;
        if (partition == null) {
            partition = sp != null && sp.partition != null ? sp.partition : table.name((int) ids & 0xFFFF);
        }
        if (filter != null && !filter.equals(partition)) {
            return SKIP;
        }
        if (task == null) {
            task = sp != null && sp.task != null ? sp.task : table.name((int) (ids >>> 16) & 0xFFFF);
        }
        if (name == null) {
            name = sp != null && sp.name != null ? sp.name : table.name((int) (ids >>> 32) & 0xFFFF);
        }
        if (sp != null && sp.detail != null) {
            detail = sp.detail;
        }
        long[] args;
        if (sp != null && sp.args != null) {
            args = sp.args.clone();
        } else if (argc == 0) {
            args = NO_ARGS;
        } else {
            args = Arrays.copyOfRange(w, v, v + argc);
        }
        if ((flags & F_RETS) != 0) {
            detail = retsDetail(args, args.length);
            args = NO_ARGS;
        }
        return new TraceRecord(seq, w[W_NANOS], KINDS[(int) (meta >>> 32) & 0xF], partition, (int) meta, task, name,
                args, status, beginSeq, beginNanos, detail, w[W_OPCODE]);
    }

    private static String field(char[] chars, int[] at) {
        int n = chars[at[0]];
        String s = new String(chars, at[0] + 1, n);
        at[0] += 1 + n;
        return s;
    }

    /** Forgets every record (Reset). Sequence numbers keep growing so readers never see a seq twice. */
    public synchronized void clear() {
        // The fresh intern table is published before the floor is read from nextSeq. A writer reads the table
        // after claiming its seq, so (volatile accesses being sequentially consistent) every record at or above
        // the new floor uses the new table; a reader rejects records written with an older one (decode).
        names = new Names(names.epoch + 1, nameLimit);
        long floor = nextSeq.get();
        floorSeq = floor;
        // Release the spilled references of cleared records; the primitive slots just stay below the floor.
        for (int si = 0; si < segments.length(); si++) {
            Segment seg = segments.get(si);
            if (seg == null) {
                continue;
            }
            for (int i = 0; i < seg.spills.length; i++) {
                if (seg.spills[i] != null) {
                    int base = i * STRIDE;
                    long cur = (long) LONGS.getVolatile(seg.words, base + W_STAMP);
                    if (cur > 0 && cur < floor && LONGS.compareAndSet(seg.words, base + W_STAMP, cur, -cur)) {
                        seg.spills[i] = null;
                        LONGS.setRelease(seg.words, base + W_STAMP, 0L);
                    }
                }
            }
        }
    }

    /** Claims a seq and never publishes it: a writer stalled between the two (tests). */
    long claimWithoutPublishing() {
        return nextSeq.getAndIncrement();
    }

    /**
     * Publishes a note at {@code seq}, claimed with {@link #claimWithoutPublishing}, without offering it to the waiters
     * (tests): the writer whose read of the waiter list missed a waiter that registered meanwhile, which is what a
     * store-buffering reordering does.
     */
    void publishClaimedUnoffered(long seq, TraceKind kind, String partition, String name) {
        writeClaimed(seq, false, -1, kind, partition, -1, "", name, null, false, 0, 0, 0, "", 0);
    }

    /** Moves the text cursor as if {@code chars} of text had been written (tests: positions past 2^48). */
    void skipText(long chars) {
        synchronized (textLock) {
            textCursor.addAndGet(chars);
        }
    }

    /** Names in the current intern table (tests). */
    int internedNames() {
        return names.size();
    }

    /** Slots holding a spill (tests). */
    int spilledSlots() {
        int n = 0;
        for (int si = 0; si < segments.length(); si++) {
            Segment seg = segments.get(si);
            for (int i = 0; seg != null && i < seg.spills.length; i++) {
                if (seg.spills[i] != null) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Bytes of slots and text allocated so far (tests; excludes spills and the intern table). */
    long allocatedBytes() {
        long b = 0;
        for (int si = 0; si < segments.length(); si++) {
            Segment seg = segments.get(si);
            if (seg != null) {
                b += 8L * seg.words.length + 4L * seg.spills.length;
            }
        }
        synchronized (textLock) {
            for (char[] c : textChunks) {
                b += c == null ? 0 : 2L * c.length;
            }
        }
        return b;
    }

    /** {@value #SEG_SLOTS} slots (the last segment may be shorter) and their spill references. */
    private static final class Segment {
        final long[] words;
        /** Per slot: null, or the {@link Spill} of a record with oversized parts. */
        final Object[] spills;

        Segment(int slots) {
            words = new long[slots * STRIDE];
            spills = new Object[slots];
        }
    }

    /** The parts of a record that do not fit its slot or the text ring, kept by reference (rare). */
    private static final class Spill {
        long[] args;
        String partition;
        String task;
        String name;
        String detail;

        static Spill of(Spill s) {
            return s != null ? s : new Spill();
        }

        Spill args(long[] a) {
            args = a;
            return this;
        }

        Spill partition(String s) {
            partition = s;
            return this;
        }

        Spill task(String s) {
            task = s;
            return this;
        }

        Spill name(String s) {
            name = s;
            return this;
        }

        Spill detail(String s) {
            detail = s;
            return this;
        }
    }

    /**
     * The intern table of one epoch: string to 16-bit id and back. Lookups are lock-free and allocation-free;
     * adding takes the table's lock. Bounded: when full, {@link #id} answers {@link #ID_NONE}.
     */
    private static final class Names {
        final int epoch;
        private final int limit;
        private final ConcurrentHashMap<String, Integer> ids = new ConcurrentHashMap<>();
        private final AtomicReferenceArray<String> byId;
        @GuardedBy("this")
        private int size;
        private volatile boolean full;

        Names(int epoch, int limit) {
            this.epoch = epoch;
            this.limit = limit;
            this.byId = new AtomicReferenceArray<>(limit);
            byId.set(ID_EMPTY, "");
            byId.set(ID_NULL, null);
            size = 2;
        }

        int id(String s) {
            if (s.isEmpty()) {
                return ID_EMPTY;
            }
            Integer id = ids.get(s);
            if (id != null) {
                return id;
            }
            if (full || s.length() > MAX_INTERNED_CHARS) {
                return ID_NONE;
            }
            return add(s);
        }

        private synchronized int add(String s) {
            Integer id = ids.get(s);
            if (id != null) {
                return id;
            }
            if (size >= limit) {
                full = true;
                return ID_NONE;
            }
            int i = size++;
            // Set before the id is published through the map: a reader that got the id from a record
            // (through the writer's release of the slot) sees the string.
            byId.set(i, s);
            ids.put(s, i);
            return i;
        }

        String name(int id) {
            return byId.get(id);
        }

        synchronized int size() {
            return size;
        }
    }
}
