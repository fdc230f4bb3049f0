package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The {@code done} flag of {@code do_join} (papr-notes 6.1), on the real {@link PseriesMobility#doJoin} and
 * {@link PseriesMobility.SuspendInfo} with two vCPUs against {@link InstantHcallPort}.
 *
 * <p>vCPU 0 is the last to join: its H_JOIN answers H_CONTINUE, it calls ibm,suspend-me (succeeds at once),
 * increments the counter first, sets {@code done} ({@code writeOnceDoneSmpMb}: WRITE_ONCE + smp_mb) and H_PRODs
 * vCPU 1. vCPU 1's H_JOIN answers H_SUCCESS; until vCPU 0 has prodded it, that is a stray wake-up, which it must
 * recognise by reading {@code done == false} ({@code smpMbReadOnceDone}: smp_mb + READ_ONCE) and join again.
 *
 * <p>A vCPU can only proceed after reading {@code done == true} (that is the code's structure), so the failure
 * the ordering has to prevent is the other one: vCPU 1 woken by the <em>real</em> prod but reading a stale
 * {@code done == false}, taking it for stray and going back into H_JOIN, where nobody will prod it again (the
 * partition hangs after resume). The stub answers that second H_JOIN with H_HARDWARE so the test records it as
 * {@code doJoin} returning -EIO instead of hanging.
 *
 * <p>Results: r1 = vCPU 0's doJoin, r2 = vCPU 1's doJoin, r3 = 1 if vCPU 1 took any stray wake-up first.
 */
@JCStressTest
@Description("do_join: done set with a full fence before H_PROD; a prodded vCPU always sees it")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "vCPU 1 returned from H_JOIN only on the real prod, saw done")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "vCPU 1 took stray wake-ups (done still false), joined again, then saw done")
@Outcome(id = "0, -5, .*", expect = FORBIDDEN, desc = "vCPU 1 consumed the real prod but read done == false and joined again: lost wake-up")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class DoJoinDoneTest {
    static final MobilityHooks NO_HOOKS = new MobilityHooks() {
        @Override
        public void migrationBegin() {
        }

        @Override
        public int migrationDevicetreeUpdate(int scope) {
            return 0;
        }

        @Override
        public void migrationEnd() {
        }
    };

    private static final ThreadMachine MACHINE = StubKernel.machine();

    final PseriesMobility mobility;
    final PseriesMobility.SuspendInfo info = new PseriesMobility.SuspendInfo();

    public DoJoinDoneTest() {
        KernelCalls calls = StubKernel.calls(new InstantHcallPort(), MACHINE);
        ErrorCounters errors = new ErrorCounters();
        PseriesVas vas = new PseriesVas(calls, VasPolicy.UPSTREAM, errors);
        mobility = new PseriesMobility(calls, vas, NO_HOOKS, errors);
    }

    /** Each actor is vCPU's stopper thread: bound to its vCPU, as stop_machine binds migration/N. */
    @Actor
    public void lastToJoin(III_Result r) {
        r.r1 = MACHINE.workOnCpu(0, () -> mobility.doJoin(0, info));
    }

    @Actor
    public void prodded(III_Result r) {
        r.r2 = MACHINE.workOnCpu(1, () -> mobility.doJoin(1, info));
    }

    @Arbiter
    public void strays(III_Result r) {
        r.r3 = mobility.strayProds() > 0 ? 1 : 0;
    }
}
