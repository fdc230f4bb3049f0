package org.lparemu.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZI_Result;

/**
 * Shape demos, not tests of lparemu: the memory-model shapes behind Nathan Lynch's review of the 2023 VAS fix
 * (papr-notes 5.2, seed thread 004), written on two fields of their own, {@code migrationInProgress} and
 * {@code nrOpenWinsProgress}. No product class is involved (this package cannot even see the guest kernel's
 * package-private members), so no regression of lparemu can change what they show, and the shapes that allow
 * their bad outcome have no FORBIDDEN one. The gate ({@link JcstressGate} {@code --shape-demos}) runs them but does
 * not count them as tests; TidyTest exempts a {@code *ShapeDemo} file from the FORBIDDEN rule and forbids it to
 * import product code. The protocols the kernel actually runs are tested on the real classes in
 * {@code org.lparemu.core.guest} ({@code VasSuspendRaceTest.Upstream} and {@code .V1Patch}).
 *
 * <p>Store buffering: the open path <em>increments nr_open_wins_progress, then reads migration_in_progress</em>;
 * the SUSPEND thread <em>sets migration_in_progress, then reads nr_open_wins_progress</em>. The bad outcome
 * {@code (false, 0)} is an open that goes on because it saw no migration while SUSPEND returns because it saw no
 * open in progress. Release/acquire does not forbid it (nothing orders a store before the same thread's later
 * load), nor does an atomic RMW on one side only; a full fence on both sides does, and so does the mutex the
 * kernel uses. {@link SbReleaseAcquire} and {@link SbRmwRelease} are the gate's sensitivity probes: x86 shows their
 * interesting outcome in every quick run, so a run that never shows it could not have shown a store-buffering
 * regression in a real test (TraceAwaitTest is one) either.
 *
 * <p>Message passing: {@link MpOpaque} shows that opaque accesses ({@code WRITE_ONCE} / {@code READ_ONCE}) publish
 * nothing. Its interesting outcome needs a weakly ordered machine, so the gate's default filter leaves it out.
 */
public final class MigrationInProgressShapeDemo {
    private static final VarHandle FLAG;
    private static final VarHandle COUNT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FLAG = l.findVarHandle(Shared.class, "migrationInProgress", boolean.class);
            COUNT = l.findVarHandle(Shared.class, "nrOpenWinsProgress", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private MigrationInProgressShapeDemo() {
    }

    /** The two variables of the shape; each demo picks its access modes through {@link #FLAG} and {@link #COUNT}. */
    public static class Shared {
        boolean migrationInProgress;
        int nrOpenWinsProgress;
    }

    @JCStressTest
    @Description("shape demo: increment in-progress (release) then read the flag (acquire) | set the flag (release) then read in-progress")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other: open backs out, SUSPEND waits")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration and backs out")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress and waits for it")
    @Outcome(id = "false, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "store buffering: neither saw the other; the half-open window survives SUSPEND. Release/acquire allows it")
    @State
    public static class SbReleaseAcquire extends Shared {
        @Actor
        public void open(ZI_Result r) {
            COUNT.setRelease(this, 1);
            r.r1 = (boolean) FLAG.getAcquire(this);
        }

        @Actor
        public void suspend(ZI_Result r) {
            FLAG.setRelease(this, true);
            r.r2 = (int) COUNT.getAcquire(this);
        }
    }

    /**
     * The v1 patch's {@code atomic_inc} as an RMW on the open side. On x86 a locked RMW is a full fence for its own
     * thread, yet the bad outcome still shows: the SUSPEND thread's flag store can wait in its store buffer while its
     * counter load runs ahead. (The v1 patch itself is safe: it reads the flag under the mutex, see
     * {@code VasSuspendRaceTest.V1Patch}.)
     */
    @JCStressTest
    @Description("shape demo: atomic_inc of in-progress (an RMW, here getAndAddRelease) then read the flag")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress")
    @Outcome(id = "false, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "store buffering on the SUSPEND side: the RMW fences only the open side. Seen on x86 too")
    @State
    public static class SbRmwRelease extends Shared {
        @Actor
        public void open(ZI_Result r) {
            COUNT.getAndAddRelease(this, 1);
            r.r1 = (boolean) FLAG.getAcquire(this);
        }

        @Actor
        public void suspend(ZI_Result r) {
            FLAG.setRelease(this, true);
            r.r2 = (int) COUNT.getAcquire(this);
        }
    }

    /** With {@code smp_mb} between each side's store and load. Its FORBIDDEN outcome would be a JVM bug. */
    @JCStressTest
    @Description("shape demo: SbReleaseAcquire with VarHandle.fullFence() (smp_mb) between each side's store and load")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "both saw each other")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the migration")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "SUSPEND saw the open in progress")
    @Outcome(id = "false, 0", expect = FORBIDDEN, desc = "store buffering is impossible with a full fence on both sides")
    @State
    public static class SbFullFence extends Shared {
        @Actor
        public void open(ZI_Result r) {
            COUNT.setRelease(this, 1);
            VarHandle.fullFence();
            r.r1 = (boolean) FLAG.getAcquire(this);
        }

        @Actor
        public void suspend(ZI_Result r) {
            FLAG.setRelease(this, true);
            VarHandle.fullFence();
            r.r2 = (int) COUNT.getAcquire(this);
        }
    }

    /**
     * The shape of what upstream merged (0cf72f7f14d1): the counter only under a mutex, the flag stored lock-free
     * before SUSPEND takes the mutex, the open checking the flag in two critical sections. The critical sections are
     * totally ordered and the flag store precedes SUSPEND's lock in program order, so one side sees the other; its
     * FORBIDDEN outcome would be a broken lock. The real protocol, with lparemu's own mutex, is
     * {@code VasSuspendRaceTest.Upstream}.
     */
    @JCStressTest
    @Description("shape demo: in-progress counted under a mutex, flag stored lock-free before SUSPEND takes the mutex")
    @Outcome(id = "true, 1", expect = ACCEPTABLE, desc = "open counted itself, then saw the flag in section B; SUSPEND waits for it")
    @Outcome(id = "true, 0", expect = ACCEPTABLE, desc = "open saw the flag in section A and never counted itself")
    @Outcome(id = "false, 1", expect = ACCEPTABLE, desc = "open finished both sections before SUSPEND's; SUSPEND saw it counted")
    @Outcome(id = "false, 0", expect = FORBIDDEN, desc = "open missed the flag and SUSPEND missed the open")
    @State
    public static class SbMutex extends Shared {
        final ReentrantLock mutex = new ReentrantLock();

        @Actor
        public void open(ZI_Result r) {
            boolean busy;
            mutex.lock();
            try {
                busy = migrationInProgress;
                if (!busy) {
                    nrOpenWinsProgress++;
                }
            } finally {
                mutex.unlock();
            }
            if (!busy) {
                mutex.lock();
                try {
                    busy = migrationInProgress;
                } finally {
                    mutex.unlock();
                }
            }
            r.r1 = busy;
        }

        @Actor
        public void suspend(ZI_Result r) {
            FLAG.setOpaque(this, true);
            mutex.lock();
            try {
                r.r2 = nrOpenWinsProgress;
            } finally {
                mutex.unlock();
            }
        }
    }

    @JCStressTest
    @Description("shape demo: opaque store and load of the flag (WRITE_ONCE / READ_ONCE): the flag may overtake the data")
    @Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "observer ran before the SUSPEND thread")
    @Outcome(id = "false, 42", expect = ACCEPTABLE, desc = "data visible, flag not yet")
    @Outcome(id = "true, 42", expect = ACCEPTABLE, desc = "flag and data both visible")
    @Outcome(id = "true, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "flag seen, data stale: opaque orders nothing; allowed by the JMM and by POWER, not seen on x86 (TSO)")
    @State
    public static class MpOpaque extends Shared {
        int data;

        @Actor
        public void suspend() {
            data = 42;
            FLAG.setOpaque(this, true);
        }

        @Actor
        public void observer(ZI_Result r) {
            r.r1 = (boolean) FLAG.getOpaque(this);
            r.r2 = data;
        }
    }
}
