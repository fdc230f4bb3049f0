package org.lparemu.core.guest;

import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;

/**
 * How the guest kernel's code reaches the hypervisor: every hcall and RTAS call goes through here, on the calling
 * task's vCPU, so that the processor rules hold by construction:
 * <ul>
 *   <li>the call is made from the vCPU the task runs on ({@code smp_processor_id()}) when it makes the call, read
 *       after the call's issue point (a preemption point that may move the task), entering the kernel first if
 *       the task is not in it (a test calling a kernel function directly);</li>
 *   <li>the task keeps its vCPU until the hypervisor answers ({@link Machine#awaitInCall}), and a preemption point
 *       follows the answer;</li>
 *   <li>an hcall carries MSR[EE]: off inside stop_machine (H_JOIN requires it), on everywhere else;</li>
 *   <li>RTAS calls are serialized by {@code rtas_lock}, a spinlock: a task waiting for it, or holding it, keeps its
 *       vCPU and cannot be preempted; {@code stop-self} is made without it, as the kernel makes it.</li>
 * </ul>
 */
public final class KernelCalls {
    /** rtas_busy_delay's clamp on an extended-delay hint: one second. */
    static final long MAX_BUSY_DELAY_MS = 1000;

    /** Named opcodes, ascending, and the two scheduling points of each one's hcall, built once (not per call). */
    private static final long[] POINT_CODES = Hcall.names().keySet().stream().mapToLong(Long::longValue).toArray();
    private static final String[] ISSUE_POINTS = Hcall.names().values().stream().map(n -> "hcall " + n)
            .toArray(String[]::new);
    private static final String[] RETURN_POINTS = Hcall.names().values().stream().map(n -> "hcall " + n + " returned")
            .toArray(String[]::new);

    private final HcallPort port;
    private final Machine machine;
    /** rtas_lock: a spinlock, so waiting for it keeps the vCPU (see {@link #rtas}). */
    private final KernelMutex rtasLock;

    public KernelCalls(HcallPort port, Machine machine) {
        this.port = Objects.requireNonNull(port, "port");
        this.machine = Objects.requireNonNull(machine, "machine");
        this.rtasLock = machine.spinlock("rtas_lock");
    }

    /**
     * Calls over {@code port} on a fresh {@link ThreadMachine} whose vCPUs are the port's partition's (for code
     * and tests that use a kernel component without a whole {@link GuestKernel}).
     */
    public static KernelCalls threaded(HcallPort port, GuestClock clock) {
        return new KernelCalls(port, new ThreadMachine(CpuTopology.onlineCpus(port.bootInfo()), clock,
                port::tracepoint));
    }

    public HcallPort port() {
        return port;
    }

    public Machine machine() {
        return machine;
    }

    /** One hcall from the current task's vCPU. */
    public HcallResult hcall(long opcode, long... args) {
        return hcallWithBuffer(opcode, args, null);
    }

    /** One hcall with a guest buffer. */
    public HcallResult hcallWithBuffer(long opcode, long[] args, byte[] buffer) {
        return machine.onCpu(() -> {
            int i = Arrays.binarySearch(POINT_CODES, opcode);
            machine.point(i >= 0 ? ISSUE_POINTS[i] : "hcall " + Hcall.name(opcode));
            // After the point, which may have moved the task to another vCPU: the call is made from this one.
            int cpu = machine.smpProcessorId();
            HcallResult r = machine.awaitInCall(port.hcallAsync(cpu, opcode, args, buffer, machine.interruptsDisabled()));
            machine.point(i >= 0 ? RETURN_POINTS[i] : "hcall " + Hcall.name(opcode) + " returned");
            return r;
        });
    }

    /**
     * {@code rtas_call}: one RTAS call under rtas_lock from the current task's vCPU. The lock is a spinlock with
     * interrupts saved: the caller spins on its vCPU while another task's call is in flight, and nothing preempts
     * it until the call has returned.
     */
    public RtasResult rtas(String service, long[] args, byte[] workArea) {
        if (RtasService.unlocked(service)) {
            return rtasUnlocked(service, args, workArea);
        }
        return machine.onCpu(() -> {
            rtasLock.lock();
            try {
                return rtasUnlocked(service, args, workArea);
            } finally {
                rtasLock.unlock();
            }
        });
    }

    /** {@code rtas_call_unlocked}: stop-self, whose caller never comes back to release the lock. */
    public RtasResult rtasUnlocked(String service, long[] args, byte[] workArea) {
        return machine.onCpu(() -> {
            machine.point("rtas " + service);
            int cpu = machine.smpProcessorId(); // after the point, as for an hcall
            RtasResult r = machine.awaitInCall(port.rtasAsync(cpu, service, args, workArea));
            machine.point("rtas " + service + " returned");
            return r;
        });
    }

    /**
     * {@code rtas_busy_delay} (kernel/rtas.c): consumes a busy or extended-delay status after the call returned
     * (rtas_lock is not held). RTAS_BUSY (-2): yield ({@code cond_resched}) and call again at once; 990x: sleep the
     * hinted 10^x ms, clamped to 1 s (the kernel takes the hint as an order of magnitude and never waits longer),
     * and call again. Any other status: false, the caller handles it.
     *
     * @return true when the caller must repeat the call
     */
    public boolean rtasBusyDelay(int status) {
        if (status == RtasStatus.BUSY) {
            machine.condResched();
            return true;
        }
        if (RtasStatus.isExtendedDelay(status)) {
            long ms = 1;
            for (int i = RtasStatus.EXTENDED_DELAY_MIN; i < status; i++) {
                ms *= 10;
            }
            machine.msleep(Duration.ofMillis(Math.min(ms, MAX_BUSY_DELAY_MS)));
            return true;
        }
        return false;
    }

    /** A kernel tracepoint on the hypervisor's timeline (fire and forget; no vCPU needed). */
    public void tracepoint(String name, String detail) {
        port.tracepoint(machine.currentCpu(), name, detail);
    }
}
