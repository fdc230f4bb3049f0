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
 * {@link DoJoinDoneTest} with a doorbell that orders nothing ({@link InstantHcallPort.Doorbell#ORDERS_NOTHING}):
 * H_PROD is an opaque store and H_JOIN an opaque load, so the only thing that makes a prodded vCPU see
 * {@code done == true} is the kernel's own pair of barriers in {@link PseriesMobility#doJoin}
 * ({@code writeOnceDoneSmpMb} before the prod, {@code smpMbReadOnceDone} after the join returns). In
 * {@link DoJoinDoneTest} the stub's synchronising doorbell would hide their removal; here the JMM allows the lost
 * wake-up as soon as either fence goes (or {@code done} is made plain), and a weakly ordered machine (POWER, Arm)
 * shows it. On x86 the stores stay in order and the consuming CAS is a locked instruction, so the weakened variant
 * passes there too: this test is the guard for the ports that run on POWER, and the FORBIDDEN outcome is the
 * regression's.
 *
 * <p>Results as in {@link DoJoinDoneTest}: r1 = vCPU 0's doJoin, r2 = vCPU 1's doJoin, r3 = 1 if vCPU 1 took a
 * stray wake-up first.
 */
@JCStressTest
@Description("do_join with a doorbell that orders nothing: done is ordered before H_PROD by doJoin's own fences")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "vCPU 1 returned from H_JOIN only on the real prod, saw done")
@Outcome(id = "0, 0, 1", expect = ACCEPTABLE, desc = "vCPU 1 took stray wake-ups (done still false), joined again, then saw done")
@Outcome(id = "0, -5, .*", expect = FORBIDDEN, desc = "the prod arrived before done: lost wake-up (a fence in doJoin was weakened)")
@Outcome(expect = FORBIDDEN, desc = "anything else")
@State
public class DoJoinDoorbellTest {
    private static final ThreadMachine MACHINE = StubKernel.machine();

    final PseriesMobility mobility;
    final PseriesMobility.SuspendInfo info = new PseriesMobility.SuspendInfo();

    public DoJoinDoorbellTest() {
        KernelCalls calls = StubKernel.calls(new InstantHcallPort(InstantHcallPort.Doorbell.ORDERS_NOTHING), MACHINE);
        ErrorCounters errors = new ErrorCounters();
        mobility = new PseriesMobility(calls, new PseriesVas(calls, VasPolicy.UPSTREAM, errors), DoJoinDoneTest.NO_HOOKS,
                errors);
    }

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
