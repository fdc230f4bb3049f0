package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.lparemu.core.papr.Vas;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZI_Result;

/**
 * The store-buffering shape behind Nathan Lynch's review of the 2023 VAS fix (papr-notes 5.2, seed thread 004):
 * the open path <em>increments nr_open_wins_progress, then reads migration_in_progress</em>; the SUSPEND thread
 * <em>sets migration_in_progress, then reads nr_open_wins_progress</em>. The protocol is safe only if at least
 * one side sees the other's store; the bad outcome {@code (false, 0)} is an open that goes on because it saw no
 * migration while SUSPEND returns because it saw no open in progress, leaving a window allocated in the
 * hypervisor at suspend.
 *
 * <p>Release/acquire does not forbid it: a release store may still sit in the store buffer when the same
 * thread's later acquire load executes (acquire orders later accesses after the load, release orders earlier
 * accesses before the store; nothing orders a store before a later load). That is exactly the v1 patch
 * ({@code atomic_set}/{@code atomic_read}, which are not even release/acquire). A full fence between the store
 * and the load on both sides forbids it, and so does what upstream merged: the counter lives under
 * {@code vas_pseries_mutex} and the SUSPEND thread takes the mutex after its (lock-free) flag store.
 *
 * <p>All variants use the real {@link PseriesVas} flag accessors, the real {@code vasPseriesMutex} and the real
 * {@link PseriesVas#nrOpenWinsProgress} array. The lock-free variants reach that field through a VarHandle made
 * here, because the guest kernel (rightly) never accesses it without the mutex.
 */
public final class MigrationInProgressSbTest {
    /** An element of nr_open_wins_progress, for the lock-free variants only. */
    static final VarHandle NR_OPEN_WINS_PROGRESS = MethodHandles.arrayElementVarHandle(int[].class);

    /** The Default type's slot of the real nr_open_wins_progress. */
    private static final int DEFAULT = Vas.WIN_TYPE_DEFAULT;

    private MigrationInProgressSbTest() {
    }

    @JCStressTest
    @Description("increment in-progress (release) then read the flag (acquire) | set the flag (release) then read in-progress (acquire)")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other: open backs out, SUSPEND waits")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration and backs out")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress and waits for it")
    @Outcome(id = "false, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "store buffering: neither saw the other; the half-open window survives SUSPEND. Release/acquire allows it")
    @State
    @SuppressWarnings("GuardedBy") // lock-free on purpose: the shape under test, not the kernel's code
    public static class ReleaseAcquire {
        final PseriesVas vas = MigrationInProgressMpTest.flagOnlyVas();

        @Actor
        public void open(ZI_Result r) {
            NR_OPEN_WINS_PROGRESS.setRelease(vas.nrOpenWinsProgress, DEFAULT, 1);
            r.r1 = vas.migrationInProgressAcquire();
        }

        @Actor
        public void suspend(ZI_Result r) {
            vas.setMigrationInProgressRelease(true);
            r.r2 = (int) NR_OPEN_WINS_PROGRESS.getAcquire(vas.nrOpenWinsProgress, DEFAULT);
        }
    }

    /**
     * The open side increments with an atomic read-modify-write, as the v1 patch's {@code atomic_inc} did. On x86
     * a locked RMW is a full fence for <em>its</em> thread, yet the bad outcome still shows: the SUSPEND thread's
     * flag store can wait in its store buffer while its own counter load runs ahead. A barrier on one side is not
     * enough; both sides need one (or the mutex).
     */
    @JCStressTest
    @Description("the v1 patch's shape: atomic_inc of in-progress (an RMW, here getAndAddRelease) then read the flag")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress")
    @Outcome(id = "false, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "store buffering on the SUSPEND side: the RMW fences only the open side. Seen on x86 too")
    @State
    @SuppressWarnings("GuardedBy") // lock-free on purpose: the shape under test, not the kernel's code
    public static class RmwRelease {
        final PseriesVas vas = MigrationInProgressMpTest.flagOnlyVas();

        @Actor
        public void open(ZI_Result r) {
            NR_OPEN_WINS_PROGRESS.getAndAddRelease(vas.nrOpenWinsProgress, DEFAULT, 1);
            r.r1 = vas.migrationInProgressAcquire();
        }

        @Actor
        public void suspend(ZI_Result r) {
            vas.setMigrationInProgressRelease(true);
            r.r2 = (int) NR_OPEN_WINS_PROGRESS.getAcquire(vas.nrOpenWinsProgress, DEFAULT);
        }
    }

    @JCStressTest
    @Description("as ReleaseAcquire with VarHandle.fullFence() (smp_mb) between each side's store and load")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress")
    @Outcome(id = "false, 0", expect = FORBIDDEN, desc = "store buffering is impossible with a full fence on both sides")
    @State
    @SuppressWarnings("GuardedBy") // lock-free on purpose: the shape under test, not the kernel's code
    public static class FullFence {
        final PseriesVas vas = MigrationInProgressMpTest.flagOnlyVas();

        @Actor
        public void open(ZI_Result r) {
            NR_OPEN_WINS_PROGRESS.setRelease(vas.nrOpenWinsProgress, DEFAULT, 1);
            VarHandle.fullFence();
            r.r1 = vas.migrationInProgressAcquire();
        }

        @Actor
        public void suspend(ZI_Result r) {
            vas.setMigrationInProgressRelease(true);
            VarHandle.fullFence();
            r.r2 = (int) NR_OPEN_WINS_PROGRESS.getAcquire(vas.nrOpenWinsProgress, DEFAULT);
        }
    }

    /**
     * The protocol upstream merged (C-0cf72f, papr-notes 5.3), step for step: open section A (flag check and
     * {@code nr_open_wins_progress++} under the mutex), the mutex dropped for H_MODIFY, section B (flag check
     * under the mutex); SUSPEND stores the flag without the mutex, then reads the counter under it. The three
     * critical sections are totally ordered by the mutex, and the flag store precedes SUSPEND's lock in program
     * order, so whichever way they interleave one side sees the other.
     */
    @JCStressTest
    @Description("UPSTREAM: in-progress counted under vasPseriesMutex, flag stored lock-free before SUSPEND takes the mutex")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "open counted itself, then saw the flag in section B; SUSPEND waits for it")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the flag in section A and never counted itself")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "open finished both sections before SUSPEND's; SUSPEND saw it counted")
    @Outcome(id = "false, 0", expect = FORBIDDEN, desc = "open missed the flag and SUSPEND missed the open: the 2023 race")
    @State
    public static class VasMutex {
        final PseriesVas vas = MigrationInProgressMpTest.flagOnlyVas();

        @Actor
        public void open(ZI_Result r) {
            boolean busy;
            vas.vasPseriesMutex.lock();
            try {
                busy = vas.migrationInProgressPlain();
                if (!busy) {
                    vas.nrOpenWinsProgress[DEFAULT]++;
                }
            } finally {
                vas.vasPseriesMutex.unlock();
            }
            if (!busy) {
                // H_MODIFY_VAS_WINDOW runs here, without the mutex.
                vas.vasPseriesMutex.lock();
                try {
                    busy = vas.migrationInProgressPlain();
                } finally {
                    vas.vasPseriesMutex.unlock();
                }
            }
            r.r1 = busy;
        }

        @Actor
        public void suspend(ZI_Result r) {
            vas.setMigrationInProgressRelease(true);
            vas.vasPseriesMutex.lock();
            try {
                r.r2 = vas.nrOpenWinsProgress[DEFAULT];
            } finally {
                vas.vasPseriesMutex.unlock();
            }
        }
    }
}
