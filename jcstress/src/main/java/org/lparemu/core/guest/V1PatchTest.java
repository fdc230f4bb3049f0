package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.lparemu.core.papr.Vas;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Nathan Lynch's question about the v1 patch (seed thread 004): with {@code migration_in_progress} an
 * {@code atomic_t} touched only by {@code atomic_set} / {@code atomic_read} (unordered) and an unordered
 * {@code atomic_inc} of nr_open_wins_progress, can an open and SUSPEND miss each other? On the real
 * {@link PseriesVas} under {@link VasPolicy#V1_PATCH}, with the weakest access modes ({@link AtomicT}: opaque reads
 * and stores, a plain-CAS increment), step for step: the open's section A (flag check, atomic_inc, under the mutex),
 * H_MODIFY without the mutex, section B (flag check under the mutex; list the window and atomic_dec, or back out);
 * SUSPEND's atomic_set with no lock, its close of the listed windows under the mutex, then its atomic_read of the
 * counter (the wait's condition).
 *
 * <p>The answer is no, and not because of {@code atomic_t}: every read of the flag that decides anything is inside
 * vas_pseries_mutex, and SUSPEND's store precedes its own lock of that mutex in program order, so the mutex's
 * release/acquire chain carries the store to any critical section that follows SUSPEND's. The two bad outcomes, a
 * window listed after SUSPEND closed the list, and a counted open that SUSPEND neither closed nor waited for, are
 * forbidden. (r1: the open's end, 0 EBUSY in section A, 1 listed, 2 backed out in section B; r2: what SUSPEND's
 * critical section and wait saw, bit 0 the window listed (closed by SUSPEND), bit 1 an open in progress.)
 */
@JCStressTest
@Description("V1_PATCH on the real PseriesVas: atomic_set / atomic_read flag, atomic_inc / atomic_dec counter, mutex sections")
@Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "SUSPEND first: the open saw the flag in section A")
@Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the open listed its window before SUSPEND, which closed it")
@Outcome(id = "2, 2", expect = ACCEPTABLE, desc = "open counted in A; SUSPEND saw it in progress and waits; B backs out")
@Outcome(id = "2, 0", expect = ACCEPTABLE, desc = "open backed out in B (flag seen) before SUSPEND read the counter")
@Outcome(id = "1, 0", expect = FORBIDDEN, desc = "listed after SUSPEND closed the list: the window survives the SUSPEND")
@Outcome(id = "1, 2", expect = FORBIDDEN, desc = "listed after SUSPEND closed the list (SUSPEND saw it in progress)")
@Outcome(id = "1, 3", expect = FORBIDDEN, desc = "listed and still counted: the counter was not dropped with the list add")
@Outcome(id = "0, 1", expect = FORBIDDEN, desc = "SUSPEND closed a window the open never allocated")
@Outcome(id = "0, 2", expect = FORBIDDEN, desc = "SUSPEND saw an open in progress that never counted itself")
@Outcome(id = "2, 1", expect = FORBIDDEN, desc = "a window both listed and backed out")
@State
public class V1PatchTest {
    private static final ThreadMachine MACHINE = StubKernel.machine();
    private static final int DEFAULT = Vas.WIN_TYPE_DEFAULT;
    private static final int EBUSY_A = 0;
    private static final int LISTED = 1;
    private static final int BACKED_OUT_B = 2;

    final PseriesVas vas = new PseriesVas(StubKernel.calls(new InstantHcallPort(), MACHINE),
            VasPolicy.V1_PATCH, new ErrorCounters());
    /** The one window's place on the Default list; guarded by the mutex, as caps->list is. */
    private boolean listed;

    @Actor
    public void open(II_Result r) {
        AtomicT progress = vas.v1OpenWinsProgress[DEFAULT];
        vas.vasPseriesMutex.lock();
        try {
            if (vas.migrationInProgressOpaque()) {
                r.r1 = EBUSY_A;
                return;
            }
            progress.inc();
        } finally {
            vas.vasPseriesMutex.unlock();
        }
        // H_MODIFY_VAS_WINDOW runs here, without the mutex.
        vas.vasPseriesMutex.lock();
        try {
            if (!vas.migrationInProgressOpaque()) {
                listed = true;
                progress.dec();
                r.r1 = LISTED;
                return;
            }
        } finally {
            vas.vasPseriesMutex.unlock();
        }
        // out_free: H_DEALLOCATE_VAS_WINDOW, then atomic_dec and wake_up, without the mutex.
        progress.dec();
        r.r1 = BACKED_OUT_B;
    }

    @Actor
    public void suspend(II_Result r) {
        vas.setMigrationInProgressOpaque(true);
        int saw = 0;
        vas.vasPseriesMutex.lock();
        try {
            if (listed) {
                saw |= 1; // reconfig_close_windows closes it
            }
        } finally {
            vas.vasPseriesMutex.unlock();
        }
        if (vas.v1OpenWinsProgress[DEFAULT].read() != 0) {
            saw |= 2; // wait_event_interruptible would sleep until the open backs out
        }
        r.r2 = saw;
    }
}
