package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

/**
 * The user API of {@code /dev/crypto/nx-gzip} (vas-api.c): an open file handle can open one send window
 * ({@code VAS_TX_WIN_OPEN} ioctl), paste requests to it, and close it.
 *
 * <p>A paste is what the {@code paste} instruction on the mapped page does: when the window is closed (its
 * page was unmapped for lost credits or a migration), the kernel's fault handler emulates a failed paste and no
 * hypervisor is involved; when it is active, the emulator-private hcall H_LPAREMU_NX_PASTE hands the request to
 * the platform at the window's current paste address, and fails (H_CLOSED) when the platform no longer maps it.
 * The status check and the address read happen together under the window's mmap mutex, as the fault handler
 * does; the paste itself runs without a lock, so a paste racing a close fails at the platform.
 */
public final class NxGzipDevice {
    /** Base of the user addresses of the handles' CSBs (handle h: base + h x 128). */
    static final long CSB_BASE = 0x7fff00000000L;

    /** Result of {@link #open}: the handle, or {@code rc} (negative errno, or a raw PAPR status, see VasException). */
    public record OpenResult(long handle, int rc, String error) {
        public boolean ok() {
            return rc == 0;
        }
    }

    /** One open file of the device ({@code coproc_instance}). */
    private static final class Fd {
        final int pid;
        /** Serialises the window-open ioctl and close on this handle. */
        final KernelMutex lock;
        /** Where this process's CSB lives: the address its requests carry (lparemu: one per handle). */
        final long csbAddress;
        /** Written under {@link #lock} ({@link #setWindowLocked}); read without it by the paste path. */
        private volatile VasWindow window;
        /** The CSB as the kernel last wrote it for a faulted request, or null (the process polls it). */
        volatile Vas.Csb csb;

        Fd(int pid, KernelMutex lock, long csbAddress) {
            this.pid = pid;
            this.lock = lock;
            this.csbAddress = csbAddress;
        }

        /** Volatile read: the paste path's lock-free look at the handle's window. */
        VasWindow windowVolatile() {
            return window;
        }

        @GuardedBy("lock")
        void setWindowLocked(VasWindow w) {
            window = w;
        }
    }

    private final PseriesVas vas;
    private final KernelCalls calls;
    private final Machine machine;
    private final ErrorCounters errors;
    private final ConcurrentHashMap<Long, Fd> fds = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong();
    /** Process ids handed to openers (SPRN_PID in the kernel); each handle stands for one process. */
    private final AtomicInteger pids = new AtomicInteger(1000);

    private final AtomicLong pastesOk = new AtomicLong();
    private final AtomicLong pastesFailed = new AtomicLong();
    private final AtomicLong opensOk = new AtomicLong();
    private final AtomicLong opensFailed = new AtomicLong();

    private final AtomicLong sigsegvs = new AtomicLong();

    public NxGzipDevice(PseriesVas vas, KernelCalls calls, ErrorCounters errors) {
        this.vas = Objects.requireNonNull(vas, "vas");
        this.calls = Objects.requireNonNull(calls, "calls");
        this.machine = calls.machine();
        this.errors = Objects.requireNonNull(errors, "errors");
        vas.setCsbWriter(this::vasUpdateCsb);
    }

    /** The device exists only when VAS copy/paste is available. */
    public boolean available() {
        return vas.copypasteFeat();
    }

    /**
     * open(2) of the device: a handle with no window yet.
     *
     * @return a positive handle, or -ENODEV when the device does not exist
     */
    public long openHandle() {
        if (!available()) {
            return Errno.ENODEV.negative();
        }
        long h = handles.incrementAndGet();
        fds.put(h, new Fd(pids.incrementAndGet(), machine.mutex("coproc_mutex"), CSB_BASE + h * Vas.CRB_BYTES));
        return h;
    }

    /**
     * The {@code VAS_TX_WIN_OPEN} ioctl ({@code coproc_ioc_tx_win_open}): opens the handle's one window through
     * {@link PseriesVas#allocateWindow}.
     *
     * @return 0; -EEXIST when the handle already has a window; -EINVAL for an unknown handle; otherwise what
     *         allocateWindow failed with
     */
    public int txWinOpen(long handle, boolean qos, int vasId) {
        return machine.onCpu(() -> txWinOpenOnCpu(handle, qos, vasId));
    }

    private int txWinOpenOnCpu(long handle, boolean qos, int vasId) {
        Fd fd = fds.get(handle);
        if (fd == null) {
            return Errno.EINVAL.negative();
        }
        fd.lock.lock();
        try {
            if (fd.windowVolatile() != null) {
                return Errno.EEXIST.negative();
            }
            try {
                fd.setWindowLocked(vas.allocateWindow(vasId, qos ? PseriesVas.VAS_TX_WIN_FLAG_QOS_CREDIT : 0, fd.pid));
                opensOk.incrementAndGet();
                return 0;
            } catch (VasException e) {
                opensFailed.incrementAndGet();
                errors.count(e.errorName());
                return e.rc();
            }
        } finally {
            fd.lock.unlock();
        }
    }

    /**
     * open(2) and the window ioctl in one: what a compression library does.
     *
     * @return the handle, or the failure (the handle is closed again)
     */
    public OpenResult open(boolean qos, int vasId) {
        long h = openHandle();
        if (h < 0) {
            errors.errno((int) h);
            return new OpenResult(0, (int) h, Errno.of((int) h).name());
        }
        int rc = txWinOpen(h, qos, vasId);
        if (rc != 0) {
            fds.remove(h);
            // A raw PAPR status only comes from the H_HOME_NODE_ASSOCIATIVITY path; every other failure is an errno.
            return new OpenResult(0, rc, errorName(rc));
        }
        return new OpenResult(h, 0, null);
    }

    private static String errorName(int rc) {
        try {
            return Errno.of(rc).name();
        } catch (IllegalArgumentException notErrno) {
            return VasException.errorName(rc, true);
        }
    }

    /**
     * One paste of a request of {@code length} bytes.
     *
     * @return true when the platform accepted it; false for a failed paste (window closed, or no longer mapped
     *         by the platform)
     * @throws IllegalStateException when the handle is unknown or has no window (a paste to an unmapped page)
     */
    public boolean paste(long handle, int length) {
        return machine.onCpu(() -> pasteOnCpu(handle, length, 0, 0));
    }

    /**
     * One paste of a request whose buffer at {@code faultAddress} is not mapped: NX accepts it and cannot complete
     * it, so it is reported through the window's fault interrupt, and the kernel writes the handle's CSB
     * ({@link #csb}) with the fault address. The CSB address the request carries is the handle's.
     *
     * @return true when the platform accepted the paste
     */
    public boolean pasteFaulting(long handle, int length, long faultAddress) {
        Fd fd = fds.get(handle);
        return pasteFaulting(handle, length, faultAddress, fd == null ? 0 : fd.csbAddress);
    }

    /**
     * {@link #pasteFaulting(long, int, long)} with a request whose CRB carries {@code csbAddress} as its CSB
     * address: a process with a bad pointer there gets SIGSEGV when the kernel cannot write the CSB.
     */
    public boolean pasteFaulting(long handle, int length, long faultAddress, long csbAddress) {
        if (faultAddress == 0) {
            throw new IllegalArgumentException("a faulting request needs a nonzero fault address");
        }
        return machine.onCpu(() -> pasteOnCpu(handle, length, faultAddress, csbAddress));
    }

    /** The CSB the kernel last wrote for the handle's faulted request, or null. */
    public Vas.Csb csb(long handle) {
        Fd fd = fds.get(handle);
        return fd == null ? null : fd.csb;
    }

    /**
     * {@code vas_update_csb}: writes a translation-fault CSB (completion code CSB_CC_FAULT_ADDRESS, extension
     * termination, address = the fault address NX stamped) at the CSB address the request carried, in the
     * memory of the process that opened the window. An address that is not that process's CSB is a failed
     * copy_to_user: the kernel sends the process SIGSEGV instead (counted).
     *
     * @return false when the CSB could not be written
     */
    boolean vasUpdateCsb(VasWindow win, Vas.FaultCrb crb) {
        for (Fd fd : fds.values()) {
            if (fd.windowVolatile() == win) {
                if (crb.csbAddress() == 0 || crb.csbAddress() != fd.csbAddress) {
                    break;
                }
                fd.csb = new Vas.Csb(Vas.CSB_CC_FAULT_ADDRESS, Vas.CSB_CE_TERMINATION, crb.faultStorageAddress());
                return true;
            }
        }
        sigsegvs.incrementAndGet();
        return false;
    }

    /** Processes signalled because the CSB of their faulted request could not be written. */
    public long sigsegvs() {
        return sigsegvs.get();
    }

    private boolean pasteOnCpu(long handle, int length, long faultAddress, long csbAddress) {
        Fd fd = fds.get(handle);
        VasWindow w = fd == null ? null : fd.windowVolatile();
        if (w == null) {
            throw new IllegalStateException("handle " + handle + " has no window mapped");
        }
        long address;
        w.mmapMutex.lock();
        try {
            if (!w.activeLocked()) {
                pastesFailed.incrementAndGet();
                return false;
            }
            address = w.pasteAddressLocked();
        } finally {
            w.mmapMutex.unlock();
        }
        HcallResult r = faultAddress == 0 ? calls.hcall(Hcall.H_LPAREMU_NX_PASTE, address, length)
                : calls.hcall(Hcall.H_LPAREMU_NX_PASTE, address, length, faultAddress, csbAddress);
        if (r.ok()) {
            pastesOk.incrementAndGet();
            return true;
        }
        pastesFailed.incrementAndGet();
        return false;
    }

    /**
     * close(2) ({@code coproc_release}): deallocates the window, if any, and forgets the handle whatever the
     * result, as the kernel releases the file even when the deallocate failed.
     *
     * @return 0, -EINVAL for an unknown handle, or deallocateWindow's error
     */
    public int close(long handle) {
        return machine.onCpu(() -> closeOnCpu(handle));
    }

    private int closeOnCpu(long handle) {
        Fd fd = fds.remove(handle);
        if (fd == null) {
            return Errno.EINVAL.negative();
        }
        fd.lock.lock();
        try {
            VasWindow w = fd.windowVolatile();
            fd.setWindowLocked(null);
            if (w == null) {
                return 0;
            }
            int rc = vas.deallocateWindow(w);
            if (rc != 0) {
                errors.errno(rc);
            }
            return rc;
        } finally {
            fd.lock.unlock();
        }
    }

    /** The window of a handle, or null. */
    public VasWindow window(long handle) {
        Fd fd = fds.get(handle);
        return fd == null ? null : fd.windowVolatile();
    }

    /** The windows currently held by handles. */
    public List<VasWindow> windows() {
        List<VasWindow> out = new ArrayList<>();
        for (Fd fd : fds.values()) {
            VasWindow w = fd.windowVolatile();
            if (w != null) {
                out.add(w);
            }
        }
        return out;
    }

    public int openHandles() {
        return fds.size();
    }

    public long pastesOk() {
        return pastesOk.get();
    }

    public long pastesFailed() {
        return pastesFailed.get();
    }

    public long opensOk() {
        return opensOk.get();
    }

    public long opensFailed() {
        return opensFailed.get();
    }
}
