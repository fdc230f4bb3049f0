package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.Vas;

/**
 * One user window ({@code pseries_vas_window} with the common {@code vas_window} and its {@code task_ref}).
 *
 * <p>The window object outlives its hypervisor window: a window closed for lost credits or migration keeps its
 * object (and its place on the list) and gets a new hypervisor window, id and paste address when reopened.
 *
 * <p>Locking: {@link #winId}, {@link #pasteAddress}, {@link #status}, {@link #winType} and the IRQ numbers are
 * written with both {@code vasPseriesMutex} and {@link #mmapMutex} held, so either lock is enough to read them
 * in the kernel. Here the public reads and the writes take {@link #mmapMutex} (checked by Error Prone); the
 * mutators' callers hold the owning {@link PseriesVas#vasPseriesMutex} too, which the checker cannot see across
 * objects and the mutators' javadoc states. vas.c's own paths read under vasPseriesMutex alone, as the kernel
 * does ({@code ...UnderVasMutex()}). The paste path takes only {@link #mmapMutex} (as the kernel's fault handler takes
 * only {@code task_ref.mmap_mutex}); lock order is vasPseriesMutex before mmapMutex.
 */
public final class VasWindow {
    private static final AtomicLong SERIALS = new AtomicLong();

    // --- Immutable after construction.

    /** lparemu-only identity that survives reopening (the hypervisor window id does not). */
    private final long serial = SERIALS.incrementAndGet();
    /** SPRN_PID of the opener, given to H_MODIFY_VAS_WINDOW again on every reopen. */
    private final int pid;
    /** Name of the opening task (thread). */
    private final String task;
    /** {@code task_ref.mmap_mutex}: serialises the paste mapping against close/reopen. */
    final KernelMutex mmapMutex;
    /**
     * {@code pending_faults}: fault interrupts taken and not yet processed by the threaded handler (atomic, as in
     * the kernel: the hard-IRQ half increments it, the thread decrements it once per H_GET_NX_FAULT).
     */
    final AtomicInteger pendingFaults = new AtomicInteger();

    // --- Written under vasPseriesMutex + mmapMutex; read under either (here: always under mmapMutex).

    @GuardedBy("mmapMutex")
    private long winId;
    /** Paste address of the current hypervisor window; 0 before the first allocation. */
    @GuardedBy("mmapMutex")
    private long pasteAddress;
    /** Linux status bits: 0 active, {@link Vas#VAS_WIN_NO_CRED_CLOSE}, {@link Vas#VAS_WIN_MIGRATE_CLOSE}. */
    @GuardedBy("mmapMutex")
    private int status;
    @GuardedBy("mmapMutex")
    private int winType;
    @GuardedBy("mmapMutex")
    private long completeIrq;
    @GuardedBy("mmapMutex")
    private long faultIrq;

    VasWindow(int pid, String task, KernelMutex mmapMutex) {
        this.pid = pid;
        this.task = task;
        this.mmapMutex = mmapMutex;
    }

    public long serial() {
        return serial;
    }

    public int pid() {
        return pid;
    }

    public String task() {
        return task;
    }

    public long winId() {
        mmapMutex.lock();
        try {
            return winId;
        } finally {
            mmapMutex.unlock();
        }
    }

    public long pasteAddress() {
        mmapMutex.lock();
        try {
            return pasteAddress;
        } finally {
            mmapMutex.unlock();
        }
    }

    public int status() {
        mmapMutex.lock();
        try {
            return status;
        } finally {
            mmapMutex.unlock();
        }
    }

    public int winType() {
        mmapMutex.lock();
        try {
            return winType;
        } finally {
            mmapMutex.unlock();
        }
    }

    public long faultIrq() {
        mmapMutex.lock();
        try {
            return faultIrq;
        } finally {
            mmapMutex.unlock();
        }
    }

    /** Fault interrupts not yet processed by the threaded handler. */
    public int pendingFaults() {
        return pendingFaults.get();
    }

    /** Neither close bit set. */
    public boolean active() {
        return (status() & PseriesVas.CLOSED_MASK) == 0;
    }

    // --- Reads for a caller that already holds mmapMutex (a kernel mutex is not recursive).

    @GuardedBy("mmapMutex")
    long winIdLocked() {
        return winId;
    }

    @GuardedBy("mmapMutex")
    long pasteAddressLocked() {
        return pasteAddress;
    }

    @GuardedBy("mmapMutex")
    int statusLocked() {
        return status;
    }

    @GuardedBy("mmapMutex")
    int winTypeLocked() {
        return winType;
    }

    @GuardedBy("mmapMutex")
    boolean activeLocked() {
        return (status & PseriesVas.CLOSED_MASK) == 0;
    }

    // --- Reads for vas.c's own paths, without mmapMutex: as in the kernel, which reads these fields holding only
    // vas_pseries_mutex. The caller holds the owning PseriesVas's vasPseriesMutex, or is the opener of a window not
    // yet on a list (no other task can reach it). Every write is made holding vasPseriesMutex (and mmapMutex), so
    // such a caller reads a stable value. The checker cannot see a lock of another object: hence the suppressions.
    // (B3 opens and closes windows at millions of hcalls a second: nine mmap_mutex round trips per lifecycle that the
    // kernel does not make were a third of the guest model's cost.)

    /** {@link #winId()} for a caller holding vasPseriesMutex or opening this unlisted window. */
    @SuppressWarnings("GuardedBy") // every write holds vasPseriesMutex, which the caller holds (see above)
    long winIdUnderVasMutex() {
        return winId;
    }

    /** {@link #pasteAddress()} for a caller holding vasPseriesMutex or opening this unlisted window. */
    @SuppressWarnings("GuardedBy") // every write holds vasPseriesMutex, which the caller holds (see above)
    long pasteAddressUnderVasMutex() {
        return pasteAddress;
    }

    /** {@link #status()} for a caller holding vasPseriesMutex. */
    @SuppressWarnings("GuardedBy") // every write holds vasPseriesMutex, which the caller holds (see above)
    int statusUnderVasMutex() {
        return status;
    }

    /** {@link #winType()} for a caller holding vasPseriesMutex. */
    @SuppressWarnings("GuardedBy") // every write holds vasPseriesMutex, which the caller holds (see above)
    int winTypeUnderVasMutex() {
        return winType;
    }

    /** {@link #faultIrq()} for a caller holding vasPseriesMutex or opening this unlisted window. */
    @SuppressWarnings("GuardedBy") // every write holds vasPseriesMutex, which the caller holds (see above)
    long faultIrqUnderVasMutex() {
        return faultIrq;
    }

    // --- Mutators: callers hold the owning PseriesVas's vasPseriesMutex; these take mmapMutex themselves.

    /** Records a fresh hypervisor allocation's return values. Caller holds vasPseriesMutex. */
    void setAllocation(long winId, long pasteAddress, long completeIrq, long faultIrq) {
        mmapMutex.lock();
        try {
            this.winId = winId;
            this.pasteAddress = pasteAddress;
            this.completeIrq = completeIrq;
            this.faultIrq = faultIrq;
        } finally {
            mmapMutex.unlock();
        }
    }

    /** Caller holds vasPseriesMutex. */
    void setWinType(int winType) {
        mmapMutex.lock();
        try {
            this.winType = winType;
        } finally {
            mmapMutex.unlock();
        }
    }

    /**
     * ORs status bits in (closing), under the mmap mutex as the kernel does before zapping the paste page. Caller
     * holds vasPseriesMutex.
     */
    void addStatus(int bits) {
        mmapMutex.lock();
        try {
            status |= bits;
        } finally {
            mmapMutex.unlock();
        }
    }

    /** Clears status bits (reopening, or dropping one of two close reasons). Caller holds vasPseriesMutex. */
    void clearStatus(int bits) {
        mmapMutex.lock();
        try {
            status &= ~bits;
        } finally {
            mmapMutex.unlock();
        }
    }

    @Override
    public String toString() {
        mmapMutex.lock();
        try {
            return "VasWindow[#" + serial + " winid=" + winId + " type=" + winType + " status=" + status
                    + " paste=0x" + Long.toHexString(pasteAddress) + " irqs=" + completeIrq + "/" + faultIrq + " pid=" + pid
                    + " task=" + task + "]";
        } finally {
            mmapMutex.unlock();
        }
    }
}
