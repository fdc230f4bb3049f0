package org.lparemu.core.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.guest.KernelMutex;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.Hcall;

/** A run that cannot end ends anyway, with a typed verdict: deadlock, livelock, a task that threw, an oracle. */
@Timeout(60)
class SimVerdictTest {
    private static final Explorer EXPLORER = new Explorer(2_000);

    @AfterAll
    static void close() {
        EXPLORER.close();
    }

    private static RunResult run(SimScenario s) {
        return EXPLORER.run(s, VasPolicy.UPSTREAM, PrrnPolicy.DRAIN_BEFORE_SUSPEND, new Strategies.Guided(Map.of()), -1);
    }

    @Test
    void aTaskWaitingForeverIsADeadlock() {
        RunResult r = run(SimScenario.named("stuck").guestTask("waiter", w -> w.await(new CompletableFuture<>()))
                .build());
        assertEquals(SimScheduler.Verdict.DEADLOCK, r.verdict(), r.detail());
        assertEquals("deadlock", r.failureName());
        assertTrue(r.detail().contains("waiter"), r.detail());
    }

    @Test
    void twoTasksTakingTwoMutexesInOppositeOrderDeadlockUnderSomeSchedule() {
        SimScenario abba = SimScenario.named("abba")
                .guestTask("t1", w -> lockBoth(w, "a", "b"))
                .guestTask("t2", w -> lockBoth(w, "b", "a"))
                .build();
        Explorer.Report rep = EXPLORER.explore(Explorer.Campaign.of(abba, VasPolicy.UPSTREAM,
                PrrnPolicy.DRAIN_BEFORE_SUSPEND, "random", 50, 1), x -> { });
        assertEquals(Set.of("deadlock"), rep.failuresByName().keySet(), rep.outcomes().toString());
        assertTrue(rep.failures() < rep.runs(), "some schedules take the locks one after the other");
    }

    private static void lockBoth(SimWorld w, String first, String second) {
        Mutexes m = w.local(Mutexes.class, () -> new Mutexes(w));
        KernelMutex a = m.get(first);
        KernelMutex b = m.get(second);
        w.kernel().machine().onCpu(() -> {
            a.lock();
            try {
                b.lock();
                try {
                    w.scheduler().point("both held");
                } finally {
                    b.unlock();
                }
            } finally {
                a.unlock();
            }
            return 0;
        });
    }

    private static final class Mutexes {
        private final KernelMutex a;
        private final KernelMutex b;

        Mutexes(SimWorld w) {
            a = w.kernel().machine().mutex("a");
            b = w.kernel().machine().mutex("b");
        }

        KernelMutex get(String name) {
            return name.equals("a") ? a : b;
        }
    }

    @Test
    void aTaskThatNeverBlocksIsALivelockAtTheStepBound() {
        RunResult r = run(SimScenario.named("spin").guestTask("spinner", w -> {
            while (true) {
                w.scheduler().point("spin");
            }
        }).build());
        assertEquals(SimScheduler.Verdict.LIVELOCK, r.verdict(), r.detail());
        assertEquals("livelock", r.failureName());
        assertTrue(r.steps() >= 2_000, "steps " + r.steps());
        assertTrue(InterleavingDiagram.render(r).contains("spin"), "a livelock has its diagram too");
    }

    @Test
    void aTaskThatThrowsFailsTheRun() {
        RunResult r = run(SimScenario.named("throws").guestTask("thrower", w -> {
            throw new IllegalStateException("boom");
        }).build());
        assertEquals(SimScheduler.Verdict.TASK_FAILED, r.verdict(), r.detail());
        assertEquals("task-failed", r.failureName());
        assertTrue(r.detail().contains("boom") || String.valueOf(r.failure()).contains("boom"), r.detail());
    }

    @Test
    void aScenarioOracleNamesTheFailure() {
        SimOracle openSucceeded = new SimOracle() {
            @Override
            public String name() {
                return "no-window-please";
            }

            @Override
            public boolean live() {
                return false;
            }

            @Override
            public List<Finding> check(SimWorld w) {
                return w.state().windows().isEmpty() ? List.of() : List.of(new Finding(name(), "lpar1", "a window"));
            }
        };
        RunResult r = run(SimScenario.named("open").guestTask("opener", w -> w.nx().open(false, 0))
                .oracle(openSucceeded).build());
        assertEquals("no-window-please", r.failureName());
        assertEquals(SimScheduler.Verdict.COMPLETED, r.verdict());
    }

    @Test
    void aLiveOracleStopsTheRunAtTheStepItFires() {
        SimOracle anyAllocation = new SimOracle() {
            @Override
            public String name() {
                return "allocated";
            }

            @Override
            public boolean live() {
                return true;
            }

            @Override
            public List<Finding> check(SimWorld w) {
                return w.liveState().windows().isEmpty() ? List.of() : List.of(new Finding(name(), "lpar1", "now"));
            }
        };
        RunResult r = run(SimScenario.named("open2").guestTask("opener", w -> {
            w.nx().open(false, 0);
            w.nx().open(false, 0);
        }).oracle(anyAllocation).build());
        assertEquals(SimScheduler.Verdict.STOPPED, r.verdict(), r.detail());
        assertEquals("allocated", r.failureName());
        assertEquals("", r.outcome(), "a stopped run never reaches quiescence");
    }

    @Test
    void aCallFromAStoppedVcpuFiresTheVcpuRulesOracle() {
        // A rogue actor drives the port directly: vCPU 3 stops itself, then makes an hcall, which no CPU can do.
        RunResult r = run(SimScenario.named("rogue").operator("rogue", w -> {
            w.await(w.kernel().port().rtasAsync(3, "stop-self", new long[0], null));
            try {
                w.await(w.kernel().port().hcallAsync(3, Hcall.H_QUERY_VAS_CAPABILITIES, new long[] {0, 0, 0}, null));
            } catch (RuntimeException refused) {
                w.scheduler().point("refused: " + refused.getMessage());
            }
        }).build());
        assertEquals("vcpu-rules", r.failureName(), r.failureDetail());
        assertTrue(r.failureDetail().contains("1 call(s) refused"), r.failureDetail());
    }
}
