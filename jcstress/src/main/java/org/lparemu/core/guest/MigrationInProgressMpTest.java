package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.ZI_Result;

/**
 * Message passing through {@code migration_in_progress}, on the real {@link PseriesVas} accessors.
 *
 * <p>The SUSPEND thread writes something (here {@code data}) and then sets the flag with
 * {@link PseriesVas#setMigrationInProgressRelease} (the UPSTREAM handler's store); a lock-free observer reads the
 * flag with {@link PseriesVas#migrationInProgressAcquire} and then the data. That pair is the kernel's
 * {@code smp_store_release} / {@code smp_load_acquire}: seeing the flag set guarantees seeing the data. The
 * FORBIDDEN outcome is what either accessor weakened to an opaque or plain access would allow (on POWER or Arm;
 * x86 keeps stores in order). The kernel's open path does not depend on this pair: it reads the flag under
 * {@code vas_pseries_mutex}, and the SUSPEND thread takes that mutex right after its store
 * ({@link VasSuspendRaceTest.Upstream} runs that protocol). The opaque pair, which promises nothing, is a shape
 * demo: {@code org.lparemu.jcstress.MigrationInProgressShapeDemo.MpOpaque}.
 */
@JCStressTest
@Description("setMigrationInProgressRelease / migrationInProgressAcquire: the flag publishes what was written before it")
@Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "observer ran before the SUSPEND thread")
@Outcome(id = "false, 42", expect = ACCEPTABLE, desc = "data visible, flag not yet: allowed (the data is not the flag)")
@Outcome(id = "true, 42", expect = ACCEPTABLE, desc = "flag and data both visible")
@Outcome(id = "true, 0", expect = FORBIDDEN, desc = "flag seen with acquire but the data written before the release store is stale")
@State
public class MigrationInProgressMpTest {
    private static final ThreadMachine MACHINE = StubKernel.machine();

    /** A PseriesVas that never calls its port: only the flag accessors are used. */
    final PseriesVas vas = new PseriesVas(StubKernel.calls(new InstantHcallPort(), MACHINE), VasPolicy.UPSTREAM,
            new ErrorCounters());
    int data;

    @Actor
    public void suspend() {
        data = 42;
        vas.setMigrationInProgressRelease(true);
    }

    @Actor
    public void observer(ZI_Result r) {
        r.r1 = vas.migrationInProgressAcquire();
        r.r2 = data;
    }
}
