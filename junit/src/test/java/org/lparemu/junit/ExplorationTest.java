package org.lparemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.sim.Explorer;
import org.lparemu.core.sim.SimScenarios;

/** The exploration runner as a test parameter: a clean search passes, a search that finds the race fails the test. */
@LparemuTest(transport = LparemuTest.Transport.IN_PROCESS)
@Timeout(120)
class ExplorationTest {
    static final PrrnPolicy DRAIN = PrrnPolicy.DRAIN_BEFORE_SUSPEND;

    /** The pre-fix kernel loses the 2023 race; a test that asserts it is clean must fail. */
    @LparemuTest(transport = LparemuTest.Transport.IN_PROCESS)
    static class ExploresThePreFixKernel {
        @Test
        void preFixSurvivesOpenVsSuspend(Exploration explore) {
            explore.assertClean(SimScenarios.vasOpenVsSuspend(), VasPolicy.PRE_FIX, DRAIN, 60);
        }
    }

    @Test
    void theFixedKernelIsCleanAcrossTheSearchedSchedules(Exploration explore) {
        Explorer.Report r = explore.assertClean(SimScenarios.vasOpenVsMigration(), VasPolicy.UPSTREAM, DRAIN, 100);
        assertEquals(100, r.runs());
        assertTrue(r.outcomes().size() > 1, "distinct interleavings were reached: " + r.outcomes());
    }

    @Test
    void aFoundRaceFailsTheTestWithItsSeedShrunkScheduleAndTraceFiles() throws IOException {
        Throwable t = ExtensionBehaviourTest.onlyFailure(ExtensionBehaviourTest.run(ExploresThePreFixKernel.class));
        String m = t.getMessage();
        assertTrue(m.contains("window-after-vas-suspend") && m.contains("seed ") && m.contains("shrunk schedule"), m);
        assertTrue(m.contains("ExploresThePreFixKernel.preFixSurvivesOpenVsSuspend-"), m);
        ExtensionBehaviourTest.assertTraceFiles(m, "H_ALLOCATE_VAS_WINDOW");
    }
}
