package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * End to end on the real {@link PseriesVas}: one task opens a window ({@code allocateWindow}) while the
 * migration thread runs {@code migrationHandler(SUSPEND)}, against {@link InstantHcallPort}, a hypervisor stub
 * that answers at once. This is the whole open path (credit check, section A, H_ALLOCATE, H_MODIFY without the
 * mutex, section B, out_free) and the whole handler (flag, per-type query, close the list, wait for
 * nr_open_wins_progress with the mutex dropped), not a model of them.
 *
 * <p>Results: r1 = the open's result (1 opened, or the negative errno: -16 EBUSY); r2 = windows the hypervisor
 * still has allocated at the moment SUSPEND returns (it refuses to suspend unless this is 0, papr-notes 6.5);
 * r3 = violations of {@link PseriesVas#checkInvariants()} once both are done (an active listed window after
 * SUSPEND returned counts). The guest's SUSPEND poll sleeps through {@link SpinClock}, which only yields.
 */
public final class VasSuspendRaceTest {
    private VasSuspendRaceTest() {
    }

    /**
     * One booted guest VAS with its own stub hypervisor. The jcstress processor looks for actors on the test
     * class itself, so each test below has three one-line actors that call these.
     */
    static final class Guest {
        private static final ThreadMachine MACHINE = StubKernel.machine();

        final InstantHcallPort port = new InstantHcallPort();
        final PseriesVas vas;

        Guest(VasPolicy policy) {
            vas = new PseriesVas(StubKernel.calls(port, MACHINE), policy, new ErrorCounters());
            if (vas.pseriesVasInit() != 0) {
                throw new IllegalStateException("stub init failed");
            }
        }

        /** A task opens a Default window: 1, or the negative errno. */
        int open() {
            try {
                vas.allocateWindow(0, 0, 1000);
                return 1;
            } catch (VasException e) {
                return e.rc();
            }
        }

        /** vas_migration_handler(VAS_SUSPEND), then what the hypervisor still has allocated. */
        int suspend() {
            vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
            return port.windowsLive();
        }

        int invariantViolations() {
            return vas.checkInvariants().size();
        }
    }

    @JCStressTest
    @Description("UPSTREAM (the 2023 fix): SUSPEND never returns while an open has a window allocated")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "opened first; SUSPEND closed it (MIGRATE_CLOSE)")
    @Outcome(id = "-16, 0, 0", expect = ACCEPTABLE,
            desc = "EBUSY: the open saw migration_in_progress in section A, or in section B and deallocated while SUSPEND waited")
    @Outcome(expect = FORBIDDEN, desc = "a window allocated in the hypervisor when SUSPEND returned, or an invariant broken")
    @State
    public static class Upstream {
        final Guest g = new Guest(VasPolicy.UPSTREAM);

        @Actor
        public void open(III_Result r) {
            r.r1 = g.open();
        }

        @Actor
        public void suspend(III_Result r) {
            r.r2 = g.suspend();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = g.invariantViolations();
        }
    }

    @JCStressTest
    @Description("HOLD_MUTEX (Nathan's suggestion): the whole open under the mutex; SUSPEND cannot fall into it")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "opened first; SUSPEND closed it")
    @Outcome(id = "-16, 0, 0", expect = ACCEPTABLE, desc = "EBUSY: the open saw migration_in_progress")
    @Outcome(expect = FORBIDDEN, desc = "a window allocated in the hypervisor when SUSPEND returned, or an invariant broken")
    @State
    public static class HoldMutex {
        final Guest g = new Guest(VasPolicy.HOLD_MUTEX);

        @Actor
        public void open(III_Result r) {
            r.r1 = g.open();
        }

        @Actor
        public void suspend(III_Result r) {
            r.r2 = g.suspend();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = g.invariantViolations();
        }
    }

    /**
     * The v1 patch as posted for review (Nathan Lynch's question, seed thread 004), on the real code:
     * {@code migration_in_progress} stored by an unordered {@code atomic_set} with no lock and read by
     * {@code atomic_read} under the mutex in sections A and B, {@code nr_open_wins_progress} bumped and dropped by
     * unordered {@code atomic_inc} / {@code atomic_dec}, SUSPEND sleeping on open_win_progress_wq until the counter
     * reads 0 (see {@link VasPolicy#V1_PATCH}). The mutex carries the flag to every section that follows SUSPEND's
     * own, so the same endings are forbidden as for UPSTREAM: a section B that stopped re-checking the flag, or a
     * SUSPEND that stopped waiting, leaves the window allocated when SUSPEND returns.
     */
    @JCStressTest
    @Description("V1_PATCH (atomic_t flag and counter, wait queue): SUSPEND never returns while an open has a window allocated")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "opened first; SUSPEND closed it")
    @Outcome(id = "-16, 0, 0", expect = ACCEPTABLE,
            desc = "EBUSY: the open saw migration_in_progress in section A, or in section B and backed out while SUSPEND waited")
    @Outcome(expect = FORBIDDEN, desc = "a window allocated in the hypervisor when SUSPEND returned, or an invariant broken")
    @State
    public static class V1Patch {
        final Guest g = new Guest(VasPolicy.V1_PATCH);

        @Actor
        public void open(III_Result r) {
            r.r1 = g.open();
        }

        @Actor
        public void suspend(III_Result r) {
            r.r2 = g.suspend();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = g.invariantViolations();
        }
    }

    /**
     * The kernel before the fix (v5.18 to v6.6): SUSPEND closes only listed windows, and section B tests only
     * nr_close_wins. An open between sections A and B is missed, then listed active after SUSPEND returned. The
     * outcome is ACCEPTABLE_INTERESTING, not FORBIDDEN, so the build stays green: it is the bug this policy
     * exists to reproduce, and seeing it here shows the harness can catch the race the other two forbid.
     */
    @JCStressTest
    @Description("PRE_FIX: the 2023 race; a half-open window survives SUSPEND")
    @Outcome(id = "1, 0, 0", expect = ACCEPTABLE, desc = "opened first; SUSPEND closed it")
    @Outcome(id = "-16, 0, 0", expect = ACCEPTABLE, desc = "EBUSY: the open saw migration_in_progress in section A")
    @Outcome(id = "1, 1, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "the 2023 bug: SUSPEND returned with the half-open window allocated, which was then listed active")
    @Outcome(expect = FORBIDDEN, desc = "not a known PRE_FIX outcome")
    @State
    public static class PreFix {
        final Guest g = new Guest(VasPolicy.PRE_FIX);

        @Actor
        public void open(III_Result r) {
            r.r1 = g.open();
        }

        @Actor
        public void suspend(III_Result r) {
            r.r2 = g.suspend();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = g.invariantViolations();
        }
    }
}
