package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.ScriptedHcallPort.Ack;
import org.lparemu.core.port.ScriptedHcallPort.Call;

/** Task threads on the device, and migrations under load. */
class WorkloadTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final FakePlatform platform = new FakePlatform();
    private final VirtualGuestClock clock = new VirtualGuestClock();
    private GuestKernel kernel;
    private Workload workload;

    private GuestKernel boot(VasPolicy p) {
        kernel = GuestKernel.boot(platform.port, new GuestConfig(p, PrrnPolicy.IGNORE, clock, "wl"));
        return kernel;
    }

    @AfterEach
    void tearDown() throws Exception {
        if (workload != null) {
            workload.stop(WAIT);
        }
        if (kernel != null) {
            kernel.close();
        }
    }

    private static void await(CountDownLatch l) throws InterruptedException {
        assertTrue(l.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "timed out waiting for activity");
    }

    /** Waits (bounded, yielding) until the tasks report {@code n} windows held: an open is done only after section B. */
    @SuppressWarnings("ThreadPriorityCheck") // polls a count the workload's tasks change
    private void awaitHeld(int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (workload.summary().windowsHeld() != n) {
            assertTrue(System.nanoTime() < deadline, "tasks never held " + n + " windows: " + workload.summary());
            Thread.yield();
        }
    }

    @Test
    void churnOpensPastesAndClosesFromNamedTasksOnOnlineVcpus() throws Exception {
        boot(VasPolicy.UPSTREAM);
        CountDownLatch pastes = platform.latchPastes(60);
        workload = new Workload(kernel, Workload.Spec.churn(3, 1000, 42));
        assertTrue(workload.toString().contains("seed=42"), workload.toString());

        workload.start();
        await(pastes);
        assertTrue(workload.stop(WAIT));

        Workload.Summary s = workload.summary();
        assertTrue(s.pastesOk() >= 60, s.toString());
        assertTrue(s.opensOk() > 0);
        assertEquals(s.opensOk(), s.closes(), "every window opened was closed");
        assertEquals(0, s.windowsHeld());
        assertEquals(0, s.closeFailures());
        assertEquals(42, s.seed());
        Set<String> tasks = new HashSet<>();
        for (Call c : platform.port.calls(Hcall.H_ALLOCATE_VAS_WINDOW)) {
            tasks.add(c.thread());
            assertTrue(c.vcpu() >= 0 && c.vcpu() < platform.vcpus, "a task calls from the vCPU it was scheduled on: " + c);
        }
        assertTrue(Set.of("task-0", "task-1", "task-2").containsAll(tasks) && !tasks.isEmpty(), tasks.toString());
        assertEquals(0, platform.windowsOpen());
        assertEquals(0, kernel.vas().snapshot(Vas.WIN_TYPE_DEFAULT).creditsUsed());
        assertEquals(List.of(), kernel.checkInvariants());
        assertTrue(clock.sleepsOf("task-0").stream().allMatch(d -> d.compareTo(Duration.ofMillis(10)) <= 0),
                "pacing sleeps in short slices so stop() is prompt");
    }

    @Test
    void keepOpenHoldsKWindowsAndClosesThemOnStop() throws Exception {
        boot(VasPolicy.UPSTREAM);
        workload = new Workload(kernel, Workload.Spec.keepOpen(2, 5, 100, 7));
        workload.start();
        awaitHeld(5);
        await(platform.latchPastes(20));

        assertEquals(5, workload.summary().windowsHeld());
        assertEquals(5, kernel.vas().snapshot(Vas.WIN_TYPE_DEFAULT).windowsOpen());
        assertEquals(List.of(), kernel.checkInvariants());

        assertTrue(workload.stop(WAIT));
        assertEquals(0, workload.summary().windowsHeld());
        assertEquals(0, platform.windowsOpen());
        assertEquals(5, workload.summary().opensOk());
    }

    @Test
    void keptWindowsSurviveAMigrationAndPastesResumeAtTheNewAddresses() throws Exception {
        boot(VasPolicy.UPSTREAM);
        workload = new Workload(kernel, Workload.Spec.keepOpen(2, 4, 200, 9));
        workload.start();
        awaitHeld(4);

        platform.port.deliver(new PlatformEvent.MigrationRequest(1, FakePlatform.STREAM));
        Ack a = platform.port.awaitAck(1, WAIT);
        assertEquals(0, a.status(), a.detail());
        assertEquals(1, platform.migrations.get());

        CountDownLatch pastes = platform.latchPastes(20);
        await(pastes);
        awaitHeld(4);
        for (PseriesVas.WindowSnapshot w : kernel.vas().snapshot(Vas.WIN_TYPE_DEFAULT).windows()) {
            assertTrue(w.active());
            assertTrue(w.pasteAddress() >= 0x7000_0000_0000L, "reopened on the destination: " + Long.toHexString(w.pasteAddress()));
        }
        assertEquals(4, kernel.vas().snapshot(Vas.WIN_TYPE_DEFAULT).windowsOpen());
        assertEquals(List.of(), kernel.checkInvariants());
    }

    @ParameterizedTest
    @EnumSource(value = VasPolicy.class, names = {"UPSTREAM", "V1_PATCH", "HOLD_MUTEX"})
    void fixedPoliciesNeverLeaveAWindowOpenAtSuspendUnderChurn(VasPolicy policy) throws Exception {
        boot(policy);
        workload = new Workload(kernel, Workload.Spec.churn(4, 0, 1234));
        workload.start();
        for (int m = 1; m <= 3; m++) {
            await(platform.latchAllocations(10));
            platform.vasiStates(VasiState.SUSPENDING);
            platform.port.deliver(new PlatformEvent.MigrationRequest(m, FakePlatform.STREAM));
            Ack a = platform.port.awaitAck(m, WAIT);
            assertEquals(0, a.status(), policy + " migration " + m + ": " + a.detail());
        }
        assertTrue(workload.stop(WAIT));
        assertEquals(3, platform.migrations.get());
        assertEquals(3, platform.port.rtasCalls(RtasService.SUSPEND_ME).size(), "suspend-me never refused");
        assertEquals(List.of(), kernel.checkInvariants());
        assertEquals(0, platform.windowsOpen());
    }

    @Test
    void specValidationAndDoubleStart() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> Workload.Spec.churn(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Workload.Spec.keepOpen(1, -1, 1, 1));
        boot(VasPolicy.UPSTREAM);
        workload = new Workload(kernel, Workload.Spec.churn(1, 10, 1).withQos(true));
        workload.start();
        assertThrows(IllegalStateException.class, workload::start);
        await(platform.latchAllocations(1));
        assertTrue(workload.stop(WAIT));
        assertEquals(Vas.WIN_TYPE_QOS, platform.port.calls(Hcall.H_ALLOCATE_VAS_WINDOW).get(0).arg(0));
    }
}
