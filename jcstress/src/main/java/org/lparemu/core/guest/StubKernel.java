package org.lparemu.core.guest;

import java.util.List;
import org.lparemu.core.port.HcallPort;

/**
 * The kernel side of a jcstress test: the real {@link KernelCalls} over a {@link ThreadMachine} with two vCPUs (as
 * many as {@link InstantHcallPort} has), so every hcall a test's actors make is made from a vCPU the actor holds,
 * as on hardware. One machine per test class: the machine is idle between calls, and a machine per jcstress state
 * (millions per run) would only add allocation.
 */
final class StubKernel {
    private StubKernel() {
    }

    /** A machine with vCPUs 0 and 1 online, sleeping through {@link SpinClock}, with tracepoints dropped. */
    static ThreadMachine machine() {
        return new ThreadMachine(List.of(0, 1), SpinClock.INSTANCE, (cpu, name, detail) -> {
        });
    }

    static KernelCalls calls(HcallPort port, Machine machine) {
        return new KernelCalls(port, machine);
    }
}
