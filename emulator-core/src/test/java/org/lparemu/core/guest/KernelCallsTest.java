package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.ScriptedHcallPort;

/** {@link KernelCalls}: how a kernel call reaches the hypervisor from the task's vCPU. */
@Timeout(20)
class KernelCallsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /**
     * The hcall's issue point is a preemption point: a task can leave it on another vCPU (a stop_machine took its
     * own, or, here, a breakpoint let another task have it). The call must name the vCPU the task runs on when it
     * makes the call, not the one it ran on before the point. Naming the old one is a call from a vCPU the task
     * does not hold: the hypervisor refuses it VCPU_BUSY while the new owner is inside a call of its own (found by
     * B6's stress, with migrations' stop_machine moving tasks between vCPUs).
     */
    @Test
    void anHcallNamesTheVcpuItsTaskRunsOnAfterTheIssuePointMovedIt() throws Exception {
        ThreadMachine m = new ThreadMachine(List.of(0, 1), new VirtualGuestClock(), (cpu, name, detail) -> { });
        try {
            ScriptedHcallPort port = new ScriptedHcallPort(FakePlatform.bootInfo(2, true));
            List<int[]> namedAndHeld = new CopyOnWriteArrayList<>();
            port.on(Hcall.H_MODIFY_VAS_WINDOW, call -> {
                namedAndHeld.add(new int[] {call.vcpu(), m.currentCpu()});
                return HcallResult.success();
            });
            port.on(Hcall.H_DEALLOCATE_VAS_WINDOW, call -> HcallResult.success());
            ScriptedHcallPort.Block parked = port.block(Hcall.H_DEALLOCATE_VAS_WINDOW, "b");
            KernelCalls calls = new KernelCalls(port, m);

            Machine.Breakpoint atIssue = m.breakAt("a", "hcall H_MODIFY_VAS_WINDOW");
            CompletableFuture<Integer> aStartedOn = new CompletableFuture<>();
            Thread a = new Thread(() -> m.onCpu(() -> {
                aStartedOn.complete(m.smpProcessorId());
                return calls.hcall(Hcall.H_MODIFY_VAS_WINDOW, 1, 1000, 0, 0, 0);
            }), "a");
            a.start();
            assertTrue(atIssue.awaitHit(WAIT), "a never reached the issue point");
            int first = aStartedOn.get(10, TimeUnit.SECONDS);
            // a is stopped off its vCPU: b takes that vCPU (the lowest free one) and stays in a call on it.
            Thread b = new Thread(() -> m.workOnCpu(first, () -> calls.hcall(Hcall.H_DEALLOCATE_VAS_WINDOW, 7)), "b");
            b.start();
            assertTrue(parked.awaitEntered(WAIT), "b never entered its call");
            atIssue.release();
            a.join(WAIT.toMillis());
            assertEquals(1, namedAndHeld.size(), "a made its call");
            int[] call = namedAndHeld.get(0);
            assertEquals(1 - first, call[1], "a resumed on the other vCPU");
            assertEquals(call[1], call[0], "the call names the vCPU a holds, not the one it left");
            parked.release();
            b.join(WAIT.toMillis());
        } finally {
            m.close();
        }
    }
}
