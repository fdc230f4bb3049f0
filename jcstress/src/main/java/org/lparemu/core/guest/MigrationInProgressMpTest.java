package org.lparemu.core.guest;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
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
 * <p>The SUSPEND thread writes something (here {@code data}) and then sets the flag; a lock-free observer reads
 * the flag and then the data. {@link PseriesVas#setMigrationInProgressRelease} with
 * {@link PseriesVas#migrationInProgressAcquire} is the kernel's {@code smp_store_release} /
 * {@code smp_load_acquire} pair: seeing the flag set guarantees seeing the data. With opaque accesses
 * ({@code WRITE_ONCE} / {@code READ_ONCE}, or the plain {@code bool} the kernel actually has) nothing is
 * promised. The kernel's open path does not depend on either: it reads the flag under {@code vas_pseries_mutex},
 * and the SUSPEND thread takes that mutex right after its store, so the mutex orders the two (see
 * {@link MigrationInProgressSbTest.VasMutex}).
 */
public final class MigrationInProgressMpTest {
    private static final ThreadMachine MACHINE = StubKernel.machine();

    private MigrationInProgressMpTest() {
    }

    /** A PseriesVas that never calls its port: only the flag accessors and the mutex are used. */
    static PseriesVas flagOnlyVas() {
        return new PseriesVas(StubKernel.calls(new InstantHcallPort(), MACHINE), VasPolicy.UPSTREAM,
                new ErrorCounters());
    }

    @JCStressTest
    @Description("setMigrationInProgressRelease / migrationInProgressAcquire: the flag publishes what was written before it")
    @Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "observer ran before the SUSPEND thread")
    @Outcome(id = "false, 42", expect = ACCEPTABLE, desc = "data visible, flag not yet: allowed (the data is not the flag)")
    @Outcome(id = "true, 42", expect = ACCEPTABLE, desc = "flag and data both visible")
    @Outcome(id = "true, 0", expect = FORBIDDEN, desc = "flag seen with acquire but the data written before the release store is stale")
    @State
    public static class ReleaseAcquire {
        final PseriesVas vas = flagOnlyVas();
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

    @JCStressTest
    @Description("setMigrationInProgressOpaque / migrationInProgressOpaque: no ordering, the flag may overtake the data")
    @Outcome(id = "false, 0", expect = ACCEPTABLE, desc = "observer ran before the SUSPEND thread")
    @Outcome(id = "false, 42", expect = ACCEPTABLE, desc = "data visible, flag not yet")
    @Outcome(id = "true, 42", expect = ACCEPTABLE, desc = "flag and data both visible")
    @Outcome(id = "true, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "flag seen, data stale: opaque (WRITE_ONCE/READ_ONCE, or a plain bool) orders nothing; allowed by the JMM "
                    + "and by POWER, rarely or never seen on x86 (TSO)")
    @State
    public static class Opaque {
        final PseriesVas vas = flagOnlyVas();
        int data;

        @Actor
        public void suspend() {
            data = 42;
            vas.setMigrationInProgressOpaque(true);
        }

        @Actor
        public void observer(ZI_Result r) {
            r.r1 = vas.migrationInProgressOpaque();
            r.r2 = data;
        }
    }
}
