package org.lparemu.core.hypervisor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.lparemu.core.port.CallRefusal;

/**
 * The partition's virtual processors as the hypervisor sees them (papr-notes 6.2): which exist, which run, and the
 * call each one is in. A processor executes one instruction stream: it makes at most one hcall or RTAS call at a
 * time, one parked in H_JOIN or inside ibm,suspend-me makes no other, and one that called stop-self runs nothing
 * until another processor starts it with start-cpu. The OS serializes RTAS (Linux's {@code rtas_lock}): one RTAS
 * call of the partition is in flight at a time, stop-self excepted (the kernel calls it unlocked; it never
 * returns). A call that breaks these rules is refused ({@link CallRefusal}) before it does anything.
 *
 * <p>Threads: vCPU {@code v} belongs to core {@code v / threadsPerCore}. The vCPUs of the cores a partition is
 * created with are running; a core added by DLPAR brings its vCPUs stopped, to be started by the OS; a core
 * removed by DLPAR leaves its vCPUs running until the OS stops them (dlpar_cpu_remove offlines the threads, each
 * calling stop-self), so until then they still count for H_JOIN.
 *
 * <p>Concurrency: admission is lock-free (one CAS on the vCPU's call slot, one on the RTAS slot), on the hot path
 * of every call. The slot array only grows, under the partition lock, and is published by a volatile write;
 * {@link Slot#running} is written under the partition lock and read without it.
 */
final class VcpuTable {
    /** One virtual processor. */
    static final class Slot {
        final int id;
        /** The call this vCPU is in ("H_JOIN"), or null: claimed by a CAS from null, cleared when it is answered. */
        final AtomicReference<String> call = new AtomicReference<>();
        /**
         * The first argument register of {@link #call}: written right after the call is admitted, so a reader that
         * sees a call may, for an instant, see the previous call's argument.
         */
        volatile long firstArg;
        /** Runs instructions: false after stop-self, and for a DLPAR-added vCPU until start-cpu. */
        volatile boolean running;

        private static final VarHandle FIRST_ARG;

        static {
            try {
                FIRST_ARG = MethodHandles.lookup().findVarHandle(Slot.class, "firstArg", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        Slot(int id, boolean running) {
            this.id = id;
            this.running = running;
        }
    }

    /** The RTAS call in flight. */
    record RtasCall(int vcpu, String service) {
    }

    private final int threadsPerCore;
    private final AtomicReference<RtasCall> rtas = new AtomicReference<>();
    private volatile Slot[] slots;

    /** {@code cores} cores of {@code threadsPerCore} running vCPUs each. */
    VcpuTable(int cores, int threadsPerCore) {
        this.threadsPerCore = threadsPerCore;
        Slot[] s = new Slot[cores * threadsPerCore];
        for (int i = 0; i < s.length; i++) {
            s[i] = new Slot(i, true);
        }
        this.slots = s;
    }

    int threadsPerCore() {
        return threadsPerCore;
    }

    /** vCPU ids that exist (0 .. count-1): every thread of every core the partition has had. */
    int count() {
        return slots.length;
    }

    boolean exists(long vcpu) {
        return vcpu >= 0 && vcpu < slots.length;
    }

    /** Whether the vCPU exists and runs (not stopped). */
    boolean running(long vcpu) {
        Slot[] s = slots;
        return vcpu >= 0 && vcpu < s.length && s[(int) vcpu].running;
    }

    /** Running vCPUs: those H_JOIN waits for. */
    int runningCount() {
        int n = 0;
        for (Slot s : slots) {
            if (s.running) {
                n++;
            }
        }
        return n;
    }

    /**
     * Claims the vCPU for one call, or says why a real processor could not make it. A vCPU the partition does
     * not have is admitted here and answered by the handler (H_PARAMETER, RTAS parameter error).
     *
     * @param rtasLocked an RTAS call the OS makes under rtas_lock (every one but stop-self)
     * @return null when admitted (then {@link #release} exactly once), else the refusal
     */
    CallRefusal admit(int vcpu, String name, boolean rtasLocked) {
        Slot[] s = slots;
        if (vcpu < 0 || vcpu >= s.length) {
            return null;
        }
        Slot slot = s[vcpu];
        if (!slot.running) {
            return new CallRefusal(CallRefusal.Reason.VCPU_STOPPED, vcpu, "", -1,
                    "vCPU " + vcpu + " is stopped and cannot make " + name);
        }
        String busy = slot.call.compareAndExchange(null, name);
        if (busy != null) {
            return new CallRefusal(CallRefusal.Reason.VCPU_BUSY, vcpu, busy, vcpu,
                    "vCPU " + vcpu + " is inside " + busy + " and cannot make " + name);
        }
        if (rtasLocked) {
            RtasCall other = rtas.compareAndExchange(null, new RtasCall(vcpu, name));
            if (other != null) {
                slot.call.set(null);
                return new CallRefusal(CallRefusal.Reason.RTAS_BUSY, vcpu, other.service(), other.vcpu(),
                        "RTAS " + other.service() + " from vCPU " + other.vcpu() + " is in flight; " + name
                                + " from vCPU " + vcpu + " would enter RTAS concurrently");
            }
        }
        return null;
    }

    /** Records the first argument of the call just admitted on {@code vcpu} (see {@link Slot#firstArg}). */
    void noteFirstArg(int vcpu, long[] args) {
        Slot[] s = slots;
        if (vcpu >= 0 && vcpu < s.length) {
            // A release store (no StoreLoad fence on every call): readers already accept a stale value for an instant.
            Slot.FIRST_ARG.setRelease(s[vcpu], args != null && args.length > 0 ? args[0] : 0L);
        }
    }

    /** Whether some vCPU is inside call {@code name} with first argument {@code firstArg} (admitted, not answered). */
    boolean inCall(String name, long firstArg) {
        for (Slot s : slots) {
            if (name.equals(s.call.get()) && s.firstArg == firstArg) {
                return true;
            }
        }
        return false;
    }

    /** The admitted call on {@code vcpu} is answered. */
    void release(int vcpu, boolean rtasLocked) {
        Slot[] s = slots;
        if (vcpu < 0 || vcpu >= s.length) {
            return;
        }
        if (rtasLocked) {
            RtasCall mine = rtas.get();
            if (mine != null && mine.vcpu() == vcpu) {
                rtas.compareAndSet(mine, null);
            }
        }
        // A release store, as a lock's unlock: the next admit's CAS sees it; nothing on the call path needs a fence.
        s[vcpu].call.lazySet(null);
    }

    /** stop-self: the vCPU stops. Caller holds the partition lock. */
    void stopLocked(int vcpu) {
        slots[vcpu].running = false;
    }

    /** start-cpu: a stopped vCPU runs again. Caller holds the partition lock. */
    void startLocked(int vcpu) {
        slots[vcpu].running = true;
    }

    /** DLPAR added {@code core}: its vCPUs exist from now on, stopped until the OS starts them. Under the lock. */
    void addCoreLocked(int core) {
        int first = core * threadsPerCore;
        int last = first + threadsPerCore;
        Slot[] s = slots;
        if (last <= s.length) {
            return;
        }
        Slot[] grown = Arrays.copyOf(s, last);
        for (int i = s.length; i < last; i++) {
            grown[i] = new Slot(i, false);
        }
        slots = grown;
    }

    /** The vCPUs of one core. */
    int[] threadsOf(int core) {
        int[] out = new int[threadsPerCore];
        for (int t = 0; t < threadsPerCore; t++) {
            out[t] = core * threadsPerCore + t;
        }
        return out;
    }

    /** Every vCPU with its state and call, for GetState. */
    List<PartitionView.VcpuView> views() {
        List<PartitionView.VcpuView> out = new ArrayList<>();
        RtasCall r = rtas.get();
        for (Slot s : slots) {
            String call = s.call.get();
            out.add(new PartitionView.VcpuView(s.id, s.running, call == null ? "" : call,
                    r != null && r.vcpu() == s.id));
        }
        return out;
    }
}
