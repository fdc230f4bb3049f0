package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's VAS (NX-GZIP user window) support: Linux {@code arch/powerpc/platforms/pseries/vas.c}, re-done in
 * Java with the kernel's names, talking to the platform only through {@link HcallPort}.
 *
 * <h2>Design</h2>
 * Two credit types ({@link VasCaps}, index 0 QoS and 1 Default) each keep a list of opened windows, newest first,
 * and three counters: windows on the list, windows on the list that are closed in the hypervisor, and (UPSTREAM
 * only) windows allocated in the hypervisor but not yet listed. A window can be closed behind its user's back
 * for two reasons, recorded as status bits: lost credits ({@code NO_CRED_CLOSE}, DLPAR core removal or a lower
 * QoS total) and migration ({@code MIGRATE_CLOSE}); both can be set at once and each event clears only its own
 * bit. A closed window keeps its object and list position and gets a new hypervisor window when reopened.
 *
 * <p>Opening is the one path that does not finish under the mutex: the kernel drops {@code vas_pseries_mutex}
 * around H_MODIFY_VAS_WINDOW, and a migration SUSPEND in that gap cannot see the half-open window on the list.
 * {@link VasPolicy} selects how that gap is handled (see there); everything else is the same for all policies.
 *
 * <h2>Locking</h2>
 * <ul>
 *   <li>{@link #vasPseriesMutex} ({@code vas_pseries_mutex}, a {@link Machine} mutex: a waiter gives its vCPU up,
 *       contention is traced) guards every list, the window counters, the window fields and all
 *       allocate/deallocate hcalls of the open, close and reconfig paths (except the error-path deallocate of an
 *       open under PRE_FIX and UPSTREAM, which the kernel makes without it). The lists and counters are fields of
 *       this class, one slot per credit type, so that Error Prone's {@code @GuardedBy} checker verifies every
 *       access; the kernel keeps them in {@code struct vas_caps}.</li>
 *   <li>Each window's {@link VasWindow#mmapMutex} ({@code task_ref.mmap_mutex}) guards what a paste sees:
 *       status and paste address.</li>
 *   <li><b>Lock order: vasPseriesMutex before a window's mmapMutex.</b> Never the reverse: the paste path takes
 *       only the mmapMutex. The guest's device-tree lock ({@link GuestDeviceTree}) is independent and never
 *       held together with the VAS mutex: device-tree reconfig notifiers, which may reach
 *       {@link #reconfigCapabilities}, run after the tree lock is released.</li>
 *   <li>Methods whose name ends in {@code Locked} must be called with vasPseriesMutex held.</li>
 *   <li>{@code nr_total_credits} and {@code nr_used_credits} are atomics as in the kernel: used is incremented
 *       without the lock before an open asks the hypervisor.</li>
 *   <li>{@code migration_in_progress} is a plain field behind mode-named VarHandle accessors, written without
 *       the mutex by the UPSTREAM handler and under it by the PRE_FIX one, and read under the mutex by the open
 *       path. See {@link #migrationInProgressPlain()}.</li>
 * </ul>
 * Every hcall goes through {@link KernelCalls}: the calling task keeps its vCPU until the hypervisor answers, as a
 * processor is busy during an hcall; H_BUSY and long-busy answers to allocate, modify and deallocate are retried
 * without limit ({@link #hcallReturnBusyCheck}). The memory-ordering accessors are scheduling points
 * ({@link Machine#point}).
 */
public final class PseriesVas {
    private static final Logger LOG = LoggerFactory.getLogger(PseriesVas.class);

    /** vas_tx_win_open_attr flag asking for a QoS credit (VAS_TX_WIN_FLAG_QOS_CREDIT). */
    public static final long VAS_TX_WIN_FLAG_QOS_CREDIT = 0x1;
    /** H_HOME_NODE_ASSOCIATIVITY flags: the argument is a vCPU id (VPHN_FLAG_VCPU). */
    public static final long VPHN_FLAG_VCPU = 1;
    /** Both close bits. */
    static final int CLOSED_MASK = Vas.VAS_WIN_NO_CRED_CLOSE | Vas.VAS_WIN_MIGRATE_CLOSE;
    /**
     * Fake guest-physical addresses of the two capability pages (the kernel's hv_caps and static hv_cop_caps):
     * nonzero and 4 KiB aligned, as PAPR requires; the contents travel in the hcall's buffer.
     */
    public static final long HV_CAPS_PA = 0x10000000L;
    public static final long HV_COP_CAPS_PA = 0x10001000L;
    /** Fake guest-physical address of the fault thread's CRB buffer (128-byte aligned). */
    public static final long CRB_PA = 0x10003000L;
    /** How often an UPSTREAM SUSPEND re-checks nr_open_wins_progress (msleep(10)). */
    static final Duration SUSPEND_PROGRESS_POLL = Duration.ofMillis(10);

    /** The two migration events (VAS_SUSPEND, VAS_RESUME). */
    public enum MigrationAction {
        /** Before the partition suspends: close every window. */
        SUSPEND,
        /** After resume (or a failed migration): reopen what SUSPEND closed. */
        RESUME
    }

    /** One listed window, as seen under the mutex. */
    public record WindowSnapshot(long serial, long winId, int winType, int status, long pasteAddress, int pid, String task) {
        public boolean active() {
            return (status & CLOSED_MASK) == 0;
        }
    }

    /** One credit type, as seen under the mutex. {@code windowsInProgress} is nr_open_wins_progress. */
    public record CapsSnapshot(int type, boolean enabled, int winType, int creditsTotal, int creditsUsed, int windowsOpen,
                               int windowsClosed, int windowsInProgress, List<WindowSnapshot> windows) {
        public CapsSnapshot {
            windows = List.copyOf(windows);
        }

        public int windowsActive() {
            return windowsOpen - windowsClosed;
        }
    }

    private static final VarHandle MIGRATION_IN_PROGRESS;

    static {
        try {
            MIGRATION_IN_PROGRESS = MethodHandles.lookup().findVarHandle(PseriesVas.class, "migrationInProgress", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // --- Immutable after construction.

    private final KernelCalls calls;
    /**
     * Entries into and exits from the VAS paths (open, close, migration handler, DLPAR reconfiguration): not kernel
     * state but lparemu's instrumentation, which tells a report taken while a task is inside one (when the counters
     * legitimately disagree with the lists) from a quiescent one.
     */
    private final AtomicLong pathEntries = new AtomicLong();
    private final AtomicLong pathExits = new AtomicLong();
    private final Machine machine;
    private final VasPolicy policy;
    /** Shared-processor partitions get credits from entitlement; the DLPAR notifier ignores them. */
    private final boolean sharedProcessor;
    private final ErrorCounters errors;
    /** vas_pseries_mutex. */
    final KernelMutex vasPseriesMutex;
    /** vascaps[]: index 0 QoS, 1 Default. */
    private final VasCaps[] vascaps = {new VasCaps(Vas.WIN_TYPE_QOS), new VasCaps(Vas.WIN_TYPE_DEFAULT)};

    // --- The vas_caps lists and counters, one slot per credit type (index VasCaps.type: 0 QoS, 1 Default).

    /** {@code caps->list}: windows that finished opening, newest first ({@code list_add} at the head). */
    @GuardedBy("vasPseriesMutex")
    private final List<ArrayDeque<VasWindow>> lists = List.of(new ArrayDeque<>(), new ArrayDeque<>());
    /** {@code caps->nr_open_windows}: windows on the list. */
    @GuardedBy("vasPseriesMutex")
    private final int[] nrOpenWindows = new int[Vas.WIN_TYPES];
    /** {@code caps->nr_close_wins}: listed windows closed in the hypervisor (lost credits and/or migration). */
    @GuardedBy("vasPseriesMutex")
    private final int[] nrCloseWins = new int[Vas.WIN_TYPES];
    /** UPSTREAM only: {@code caps->nr_open_wins_progress}, windows allocated but not yet listed (0cf72f7f14d1). */
    @GuardedBy("vasPseriesMutex")
    private final int[] nrOpenWinsProgress = new int[Vas.WIN_TYPES];

    /** V1_PATCH only: {@code caps->nr_open_wins_progress} as the v1 patch declared it. */
    private final AtomicT[] v1OpenWinsProgress = new AtomicT[Vas.WIN_TYPES];
    /** V1_PATCH only: {@code open_win_progress_wq}, where SUSPEND waits for opens in progress. */
    private final WaitQueue openWinProgressWq;

    // --- Written once by pseriesVasInit; volatile so that the write of copypasteFeat publishes the caps.

    /** copypaste_feat: user-mode COPY/PASTE is usable, the nx-gzip device exists. */
    private volatile boolean copypasteFeat;
    private volatile Vas.AllCaps capsAll;

    // --- migration_in_progress: accessed only through the accessors below.

    @SuppressWarnings("unused") // through MIGRATION_IN_PROGRESS
    private boolean migrationInProgress;

    // --- lparemu bookkeeping for checkInvariants, not in the kernel.

    /** A SUSPEND has returned and no RESUME has started. */
    private volatile boolean suspendComplete;

    // --- Fault interrupts (request_threaded_irq / free_irq of allocate_setup_window and its undo).

    /** Installed fault interrupts, by IRQ number: the window each one belongs to. */
    private final ConcurrentHashMap<Long, VasWindow> faultIrqs = new ConcurrentHashMap<>();
    /** {@code vas_update_csb}: the user API's half of the fault path (set by {@link NxGzipDevice}). */
    private volatile CsbWriter csbWriter = (win, crb) -> false;
    private final AtomicLong faultsHandled = new AtomicLong();

    /** Writes the CSB of a faulted request into the opener's memory ({@code vas_update_csb}). */
    @FunctionalInterface
    public interface CsbWriter {
        /** Writes the CSB; returns false when its address is not writable (the kernel then signals the task). */
        boolean vasUpdateCsb(VasWindow win, Vas.FaultCrb crb);
    }

    public PseriesVas(KernelCalls calls, VasPolicy policy, ErrorCounters errors) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.machine = calls.machine();
        this.policy = Objects.requireNonNull(policy, "policy");
        this.errors = Objects.requireNonNull(errors, "errors");
        this.sharedProcessor = calls.port().bootInfo().sharedProcessor();
        this.vasPseriesMutex = machine.mutex("vas_pseries_mutex");
        for (int t = 0; t < Vas.WIN_TYPES; t++) {
            v1OpenWinsProgress[t] = new AtomicT(machine, "nr_open_wins_progress");
        }
        this.openWinProgressWq = machine.waitQueue("open_win_progress_wq");
    }

    // ------------------------------------------------------------------------------------------------------------
    // migration_in_progress accessors

    /**
     * Plain read of {@code migration_in_progress}: the kernel's plain load inside {@code vas_pseries_mutex} in
     * {@code vas_allocate_window} (section A, and UPSTREAM's section B). It pairs with either setter through the
     * mutex: the SUSPEND thread stores the flag and then takes the mutex, so any critical section that begins
     * after the SUSPEND thread's critical section sees the store. Call only with the mutex held.
     */
    @GuardedBy("vasPseriesMutex")
    boolean migrationInProgressPlain() {
        machine.point("migration_in_progress plain load");
        return (boolean) MIGRATION_IN_PROGRESS.get(this);
    }

    /**
     * The open path's read of the flag, under the mutex: a plain load for PRE_FIX, UPSTREAM and HOLD_MUTEX (a
     * bool), {@code atomic_read} (opaque) for V1_PATCH.
     */
    @GuardedBy("vasPseriesMutex")
    private boolean migrationInProgressLocked() {
        return policy == VasPolicy.V1_PATCH ? migrationInProgressOpaque() : migrationInProgressPlain();
    }

    /**
     * Opaque read (READ_ONCE): for lock-free observers such as reports, which may see a stale value but never a
     * torn or invented one. Orders nothing.
     */
    public boolean migrationInProgressOpaque() {
        machine.point("migration_in_progress READ_ONCE");
        return (boolean) MIGRATION_IN_PROGRESS.getOpaque(this);
    }

    /**
     * Acquire read (smp_load_acquire): pairs with {@link #setMigrationInProgressRelease}; a lock-free reader that
     * sees {@code true} also sees everything the writer did before setting it. Note that this does not order the
     * reader's earlier stores before the load (the store-buffering shape "bump a counter, then read the flag"
     * against "set the flag, then read the counter" needs the mutex or a full fence), which is why the open path
     * reads the flag under the mutex instead.
     */
    public boolean migrationInProgressAcquire() {
        machine.point("migration_in_progress smp_load_acquire");
        return (boolean) MIGRATION_IN_PROGRESS.getAcquire(this);
    }

    /**
     * Plain store: the PRE_FIX handler's {@code migration_in_progress = ...}, made with {@code vas_pseries_mutex}
     * held (v5.18 to v6.6), so the mutex orders it against the open path. Call only with the mutex held.
     */
    @GuardedBy("vasPseriesMutex")
    void setMigrationInProgressPlain(boolean value) {
        machine.point("migration_in_progress plain store");
        MIGRATION_IN_PROGRESS.set(this, value);
    }

    /**
     * Release store: the UPSTREAM handler's {@code migration_in_progress = ...}, made with no lock. The kernel
     * uses a plain bool store; the open path does not rely on the release (it reads under the mutex, and the
     * writer takes the mutex right after the store), but release lets {@link #migrationInProgressAcquire()}
     * readers pair with it.
     */
    void setMigrationInProgressRelease(boolean value) {
        machine.point("migration_in_progress smp_store_release");
        MIGRATION_IN_PROGRESS.setRelease(this, value);
    }

    /** Opaque store (WRITE_ONCE): the V1_PATCH handler's {@code atomic_set}, made with no lock and no ordering. */
    void setMigrationInProgressOpaque(boolean value) {
        machine.point("migration_in_progress WRITE_ONCE");
        MIGRATION_IN_PROGRESS.setOpaque(this, value);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Init

    /**
     * {@code pseries_vas_init}: reads the overall capabilities and each offered feature's capabilities, and turns
     * copy/paste on when they pass the kernel's checks. H_FUNCTION from the hypervisor means "no VAS" and is not
     * logged. Call once, before any other method.
     *
     * @return 0, or the negative errno of the failing step (copy/paste then stays off)
     */
    public int pseriesVasInit() {
        return machine.onCpu(this::pseriesVasInitOnCpu);
    }

    private int pseriesVasInitOnCpu() {
        vasPseriesMutex.lock();
        try {
            byte[] page = new byte[Vas.CAPS_BUFFER_SIZE];
            int rc = hQueryVasCapabilities(Vas.QUERY_OVERALL, HV_CAPS_PA, page);
            if (rc != 0) {
                return rc;
            }
            Vas.AllCaps all = Vas.AllCaps.decode(page);
            capsAll = all;
            boolean available = false;
            if ((all.featType() & Vas.FEAT_GZIP_QOS) != 0) {
                rc = getVasCapabilitiesLocked(Vas.QUERY_GZIP_QOS, Vas.WIN_TYPE_QOS);
                if (rc != 0) {
                    return rc;
                }
                available = true;
            }
            if ((all.featType() & Vas.FEAT_GZIP_DEFAULT) != 0) {
                rc = getVasCapabilitiesLocked(Vas.QUERY_GZIP_DEFAULT, Vas.WIN_TYPE_DEFAULT);
                available |= rc == 0;
            }
            if (rc == 0 && available) {
                LOG.info("GZIP feature is available");
                copypasteFeat = true;
            } else {
                // Only reached when the Default query failed after QoS succeeded: no copy/paste at all.
                copypasteFeat = false;
            }
            return rc;
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    /** {@code get_vas_capabilities}: one feature's caps into vascaps[type], with the kernel's checks. */
    @GuardedBy("vasPseriesMutex")
    private int getVasCapabilitiesLocked(int feat, int type) {
        VasCaps vcaps = vascaps[type];
        vcaps.feat = feat;
        byte[] page = new byte[Vas.CAPS_BUFFER_SIZE];
        int rc = hQueryVasCapabilities(feat, HV_COP_CAPS_PA, page);
        if (rc != 0) {
            return rc;
        }
        Vas.CopFeatCaps caps = Vas.CopFeatCaps.decode(page);
        vcaps.userMode = caps.userMode();
        if ((caps.userMode() & Vas.USER_MODE_COPY_PASTE) == 0) {
            LOG.error("User space COPY/PASTE is not supported (feature {})", feat);
            return Errno.ENOTSUPP.negative();
        }
        vcaps.descriptor = caps.descriptor();
        vcaps.winType = caps.winType();
        if (caps.winType() >= Vas.WIN_TYPES) {
            LOG.error("Unsupported window type {}", caps.winType());
            return Errno.EINVAL.negative();
        }
        vcaps.maxLparCreds = caps.maxLparCreds();
        vcaps.maxWinCreds = caps.maxWinCreds();
        vcaps.nrTotalCredits.set(caps.targetLparCreds());
        if (feat == Vas.QUERY_GZIP_DEFAULT) {
            vcaps.defLparCreds = caps.defLparCreds();
            if (caps.maxWinCreds() < Vas.DEF_WIN_CREDS) {
                LOG.error("Window creds({}) > max allowed window creds({})", Vas.DEF_WIN_CREDS, caps.maxWinCreds());
                return Errno.EINVAL.negative();
            }
        }
        vcaps.enabled = true;
        return 0;
    }

    /**
     * {@code h_query_vas_capabilities}: one query, not retried; the returned bytes are copied over {@code page}.
     *
     * @return 0, or -EIO (logged unless the hypervisor answered H_FUNCTION, which means VAS is not offered)
     */
    int hQueryVasCapabilities(int queryType, long bufferAddress, byte[] page) {
        HcallResult r = calls.hcallWithBuffer(Hcall.H_QUERY_VAS_CAPABILITIES, new long[] {queryType, bufferAddress}, null);
        if (r.ok()) {
            byte[] b = r.buffer();
            System.arraycopy(b, 0, page, 0, Math.min(b.length, page.length));
            return 0;
        }
        if (r.status() != HStatus.H_FUNCTION) {
            LOG.error("H_QUERY_VAS_CAPABILITIES({}) error: {}", queryType, HStatus.name(r.status()));
        }
        return Errno.EIO.negative();
    }

    // ------------------------------------------------------------------------------------------------------------
    // hcall wrappers

    /**
     * {@code hcall_return_busy_check}: a long-busy status sleeps the hinted time (1 ms .. 100 s) and becomes
     * H_BUSY; H_BUSY yields the processor (cond_resched). The caller loops while H_BUSY comes back, with no retry
     * cap. The sleep is not interruptible, like msleep.
     */
    long hcallReturnBusyCheck(long rc) {
        if (HStatus.isLongBusy(rc)) {
            machine.msleep(Duration.ofMillis(HStatus.longBusyMillis(rc)));
            return HStatus.H_BUSY;
        }
        if (rc == HStatus.H_BUSY) {
            machine.condResched();
        }
        return rc;
    }

    /** One hcall retried through {@link #hcallReturnBusyCheck} until it is neither busy nor long-busy. */
    private HcallResult hcallBusyRetry(long opcode, long... args) {
        while (true) {
            HcallResult r = calls.hcall(opcode, args);
            if (hcallReturnBusyCheck(r.status()) != HStatus.H_BUSY) {
                return r;
            }
        }
    }

    /**
     * {@code h_allocate_vas_window}: asks for a window of {@code winType} with one credit in {@code domain}.
     * Reproduces the kernel's quirk: the invalid-paste-address test looks at the window's previous address
     * (0 for a new window, the old one on reopen) before the new one is stored, so it never rejects a fresh
     * window and it rejects a reopen only when the previous allocation had returned the invalid address; in that
     * case the hypervisor's new window is left allocated and unrecorded, as in the kernel.
     *
     * @return 0, -ENOTSUPP (quirk above) or -EIO
     */
    @GuardedBy("vasPseriesMutex")
    int hAllocateVasWindowLocked(VasWindow win, long[] domain, int winType) {
        long[] args = new long[2 + domain.length];
        args[0] = winType;
        args[1] = Vas.DEF_WIN_CREDS;
        System.arraycopy(domain, 0, args, 2, domain.length);
        HcallResult r = hcallBusyRetry(Hcall.H_ALLOCATE_VAS_WINDOW, args);
        if (r.ok()) {
            if (win.pasteAddressUnderVasMutex() == Vas.INVALID_WIN_ADDRESS) {
                LOG.error("H_ALLOCATE_VAS_WINDOW: COPY/PASTE is not supported");
                return Errno.ENOTSUPP.negative();
            }
            win.setAllocation(r.ret(0), r.ret(1), r.ret(2), r.ret(3));
            return 0;
        }
        LOG.error("H_ALLOCATE_VAS_WINDOW error: {}, winType: {}, credits: {}", HStatus.name(r.status()), winType,
                Vas.DEF_WIN_CREDS);
        return Errno.EIO.negative();
    }

    /**
     * {@code allocate_setup_window}: allocate, then set up the fault interrupt. The interrupt is not modelled
     * (its number is only recorded), so this is the allocation.
     */
    @GuardedBy("vasPseriesMutex")
    private int allocateSetupWindowLocked(VasWindow win, long[] domain, int winType) {
        int rc = hAllocateVasWindowLocked(win, domain, winType);
        if (rc == 0) {
            requestFaultIrq(win);
        }
        return rc;
    }

    /** {@code request_threaded_irq} of the window's fault interrupt: faults on it now reach this window. */
    private void requestFaultIrq(VasWindow win) {
        faultIrqs.put(win.faultIrqUnderVasMutex(), win);
    }

    /**
     * {@code free_irq}: the fault interrupt is no longer the window's. Caller holds vasPseriesMutex or is the opener
     * of the unlisted window (out_free).
     */
    private void freeFaultIrq(VasWindow win) {
        faultIrqs.remove(win.faultIrqUnderVasMutex(), win);
    }

    /** Sets the user API's CSB writer ({@link NxGzipDevice} at its construction). */
    void setCsbWriter(CsbWriter writer) {
        this.csbWriter = Objects.requireNonNull(writer, "writer");
    }

    /**
     * {@code pseries_vas_irq_handler}, the hard-IRQ half of a fault interrupt: counts the fault on the window that
     * installed the IRQ and asks for the thread. Never blocks.
     *
     * @return the window to run {@link #pseriesVasFaultThreadFn} for, or null when no window has this IRQ
     */
    public VasWindow pseriesVasIrqHandler(long irq) {
        VasWindow win = faultIrqs.get(irq);
        if (win != null) {
            win.pendingFaults.incrementAndGet();
        }
        return win;
    }

    /**
     * {@code pseries_vas_fault_thread_fn}: while the window has pending faults, fetch one faulted request with
     * H_GET_NX_FAULT and have the user API write its CSB; every fault interrupt is consumed, whatever the hcall
     * answered (an error is logged, as {@code h_get_nx_fault} does). A wake-up that finds nothing pending (an
     * earlier run took its fault) does nothing.
     *
     * @return the faults processed
     */
    public int pseriesVasFaultThreadFn(VasWindow win) {
        return machine.onCpu(() -> {
            int n = 0;
            while (win.pendingFaults.get() > 0) {
                long winId = win.winId();
                HcallResult r = calls.hcall(Hcall.H_GET_NX_FAULT, winId, CRB_PA);
                if (r.ok()) {
                    Vas.FaultCrb crb = Vas.FaultCrb.decode(r.buffer());
                    LOG.debug("fault CRB of window {}: csb 0x{} fault address 0x{}", winId,
                            Long.toHexString(crb.csbAddress()), Long.toHexString(crb.faultStorageAddress()));
                    if (!csbWriter.vasUpdateCsb(win, crb)) {
                        LOG.warn("window {}: invalid CSB address 0x{}, SIGSEGV to {}", winId,
                                Long.toHexString(crb.csbAddress()), win.task());
                    }
                    faultsHandled.incrementAndGet();
                    n++;
                } else {
                    LOG.error("H_GET_NX_FAULT error: {}, winid {}, buffer 0x{}", HStatus.name(r.status()), winId,
                            Long.toHexString(CRB_PA));
                }
                win.pendingFaults.decrementAndGet();
            }
            return n;
        });
    }

    /** Faulted requests fetched with H_GET_NX_FAULT, over the guest's life. */
    public long faultsHandled() {
        return faultsHandled.get();
    }

    /**
     * {@code h_modify_vas_window}: makes the window usable by the opener's process (pid), with the flags Linux
     * always passes.
     *
     * @return 0 or -EIO
     */
    int hModifyVasWindow(VasWindow win) {
        // Read under the window's mmap_mutex, although the kernel reads it holding nothing (the opener alone knows the
        // window here). The acquisition is a scheduling point in the stretch where a SUSPEND lands, and the explorer
        // finds the 2023 race sooner with it: B7's POS median is 3.0 executions with it and 3.5 without (target 3).
        // A preemptible kernel can be preempted anywhere in that stretch, so the point is not one the kernel lacks.
        long winId = win.winId();
        HcallResult r = hcallBusyRetry(Hcall.H_MODIFY_VAS_WINDOW, winId, win.pid(), 0, Vas.MOD_WIN_FLAGS, 0);
        if (r.ok()) {
            return 0;
        }
        LOG.error("H_MODIFY_VAS_WINDOW error: {}, winid {} lpid {}", HStatus.name(r.status()), winId, win.pid());
        return Errno.EIO.negative();
    }

    /**
     * {@code h_deallocate_vas_window}.
     *
     * @return 0 or -EIO
     */
    int hDeallocateVasWindow(long winId) {
        HcallResult r = hcallBusyRetry(Hcall.H_DEALLOCATE_VAS_WINDOW, winId);
        if (r.ok()) {
            return 0;
        }
        LOG.error("H_DEALLOCATE_VAS_WINDOW error: {}, winid: {}", HStatus.name(r.status()), winId);
        return Errno.EIO.negative();
    }

    /**
     * {@code deallocate_free_window}: deallocate first, then free the fault interrupt, and only when the deallocate
     * succeeded: the hypervisor returns a faulted request's credit only after the OS fetched it, so the interrupt
     * must stay installed until the window is gone.
     */
    @GuardedBy("vasPseriesMutex")
    private int deallocateFreeWindowLocked(VasWindow win) {
        int rc = hDeallocateVasWindow(win.winIdUnderVasMutex());
        if (rc == 0) {
            freeFaultIrq(win);
        }
        return rc;
    }

    private static long[] defaultDomain() {
        // The kernel passes a 9-word domain with only word 0 set to all-ones ("hypervisor chooses").
        return new long[] {Vas.DEFAULT_DOMAIN_ID, 0, 0, 0, 0, 0};
    }

    // ------------------------------------------------------------------------------------------------------------
    // Open and close

    /**
     * {@code vas_allocate_window}: opens one window for the calling task (papr-notes 4.3), following
     * {@link #policy()} across the H_MODIFY_VAS_WINDOW stretch.
     *
     * @param vasId -1 to place the window near the calling vCPU (H_HOME_NODE_ASSOCIATIVITY); anything else lets
     *              the hypervisor choose
     * @param flags {@link #VAS_TX_WIN_FLAG_QOS_CREDIT} for a QoS credit, else Default
     * @param pid   the opener's SPRN_PID, kept for reopening
     * @throws VasException -EINVAL when no credit is left; -EBUSY during a migration or while any window of the
     *                      type is closed; -EIO when an hcall fails; -ENOTSUPP on the paste-address quirk; the raw
     *                      PAPR status when H_HOME_NODE_ASSOCIATIVITY fails
     */
    public VasWindow allocateWindow(int vasId, long flags, int pid) throws VasException {
        VasException[] failed = new VasException[1];
        VasWindow w = inPath(() -> machine.onCpu(() -> {
            try {
                return allocateWindowOnCpu(vasId, flags, pid);
            } catch (VasException e) {
                failed[0] = e;
                return null;
            }
        }));
        if (failed[0] != null) {
            throw failed[0];
        }
        return w;
    }

    private VasWindow allocateWindowOnCpu(int vasId, long flags, int pid) throws VasException {
        VasCaps caps = vascaps[(flags & VAS_TX_WIN_FLAG_QOS_CREDIT) != 0 ? Vas.WIN_TYPE_QOS : Vas.WIN_TYPE_DEFAULT];
        // One credit per window; taken before asking the hypervisor, without the mutex, as the kernel does.
        int newCreds = caps.nrUsedCredits.incrementAndGet();
        caps.allocationsInFlight.incrementAndGet();
        boolean listed = false;
        try {
            if (newCreds > caps.nrTotalCredits.get()) {
                LOG.warn("Credits are not available to allocate window");
                throw VasException.errno(Errno.EINVAL.negative(), "no credits");
            }
            long[] domain = defaultDomain();
            if (vasId == -1) {
                int cpu = machine.smpProcessorId();
                HcallResult r = calls.hcall(Hcall.H_HOME_NODE_ASSOCIATIVITY, VPHN_FLAG_VCPU, cpu);
                if (!r.ok()) {
                    LOG.error("H_HOME_NODE_ASSOCIATIVITY error: {}, cpu: {}", HStatus.name(r.status()), cpu);
                    throw VasException.papr(r.status(), "H_HOME_NODE_ASSOCIATIVITY failed");
                }
                for (int i = 0; i < domain.length; i++) {
                    domain[i] = r.ret(i);
                }
            }
            VasWindow win = new VasWindow(pid, machine.currentTask(), machine.mutex("mmap_mutex"));
            VasWindow opened = policy == VasPolicy.HOLD_MUTEX ? openHoldingMutex(caps, win, domain)
                    : openDroppingMutex(caps, win, domain);
            listed = true;
            return opened;
        } finally {
            if (!listed) {
                // The "out" label: give the credit back.
                caps.nrUsedCredits.decrementAndGet();
                caps.allocationsInFlight.decrementAndGet();
            }
        }
    }

    /** PRE_FIX and UPSTREAM: sections A and B with the mutex dropped for H_MODIFY_VAS_WINDOW in between. */
    private VasWindow openDroppingMutex(VasCaps caps, VasWindow win, long[] domain) throws VasException {
        int rc;
        // Section A.
        vasPseriesMutex.lock();
        try {
            if (migrationInProgressLocked()) {
                rc = Errno.EBUSY.negative();
            } else {
                rc = allocateSetupWindowLocked(win, domain, caps.winType);
                if (rc == 0) {
                    caps.windowsHalfOpen.incrementAndGet();
                    if (policy == VasPolicy.UPSTREAM) {
                        nrOpenWinsProgress[caps.type]++;
                    } else if (policy == VasPolicy.V1_PATCH) {
                        v1OpenWinsProgress[caps.type].inc();
                    }
                }
            }
        } finally {
            vasPseriesMutex.unlock();
        }
        if (rc != 0) {
            throw VasException.errno(rc, rc == Errno.EBUSY.negative() ? "migration in progress" : "allocate failed");
        }

        // Outside the mutex: the stretch a SUSPEND can fall into.
        try {
            rc = hModifyVasWindow(win);
        } catch (RuntimeException portGone) {
            abandon(caps);
            throw portGone;
        }
        if (rc != 0) {
            outFree(caps, win);
            throw VasException.errno(rc, "modify failed");
        }

        // Section B.
        boolean admitted;
        vasPseriesMutex.lock();
        try {
            win.setWinType(caps.winType);
            // PRE_FIX looks only for closed windows; UPSTREAM and V1_PATCH also refuse when a migration started.
            admitted = nrCloseWins[caps.type] == 0 && (policy == VasPolicy.PRE_FIX || !migrationInProgressLocked());
            if (admitted) {
                listAddLocked(caps, win);
                if (policy == VasPolicy.UPSTREAM) {
                    nrOpenWinsProgress[caps.type]--;
                } else if (policy == VasPolicy.V1_PATCH) {
                    v1OpenWinsProgress[caps.type].dec(); // the v1 patch wakes nobody here
                }
            }
        } finally {
            vasPseriesMutex.unlock();
        }
        if (admitted) {
            return win;
        }
        LOG.warn("No credit is available to allocate window");
        outFree(caps, win);
        throw VasException.errno(Errno.EBUSY.negative(), "windows closed or migration in progress");
    }

    /** HOLD_MUTEX: the whole open (allocate, modify, list add) in one critical section. */
    private VasWindow openHoldingMutex(VasCaps caps, VasWindow win, long[] domain) throws VasException {
        vasPseriesMutex.lock();
        try {
            if (migrationInProgressPlain()) {
                throw VasException.errno(Errno.EBUSY.negative(), "migration in progress");
            }
            int rc = allocateSetupWindowLocked(win, domain, caps.winType);
            if (rc != 0) {
                throw VasException.errno(rc, "allocate failed");
            }
            caps.windowsHalfOpen.incrementAndGet();
            try {
                rc = hModifyVasWindow(win);
            } catch (RuntimeException portGone) {
                abandon(caps);
                throw portGone;
            }
            if (rc != 0) {
                outFree(caps, win);
                throw VasException.errno(rc, "modify failed");
            }
            win.setWinType(caps.winType);
            if (nrCloseWins[caps.type] == 0) {
                listAddLocked(caps, win);
                return win;
            }
            LOG.warn("No credit is available to allocate window");
            outFree(caps, win);
            throw VasException.errno(Errno.EBUSY.negative(), "windows closed");
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    @GuardedBy("vasPseriesMutex")
    private void listAddLocked(VasCaps caps, VasWindow win) {
        lists.get(caps.type).addFirst(win);
        nrOpenWindows[caps.type]++;
        caps.windowsHalfOpen.decrementAndGet();
        caps.allocationsInFlight.decrementAndGet();
    }

    /**
     * The "out_free" path of an open: deallocate the hypervisor window (without the mutex under PRE_FIX and
     * UPSTREAM; its result is ignored, as in the kernel), then, UPSTREAM only, drop nr_open_wins_progress under
     * the mutex, which is what lets a waiting SUSPEND go on.
     */
    private void outFree(VasCaps caps, VasWindow win) {
        try {
            freeFaultIrq(win); // the kernel frees the interrupt first "so that do not have to hold mutex"
            hDeallocateVasWindow(win.winIdUnderVasMutex());
        } finally {
            abandon(caps);
        }
    }

    /**
     * Ends a half-open window's bookkeeping: after out_free's deallocate, or when the port failed in the middle
     * of an open (the platform is gone; a real CPU never sees this), so a SUSPEND does not wait for a window
     * nobody will finish.
     */
    private void abandon(VasCaps caps) {
        caps.windowsHalfOpen.decrementAndGet();
        if (policy == VasPolicy.V1_PATCH) {
            // After the deallocate, without the mutex: atomic_dec, then wake_up(&open_win_progress_wq).
            v1OpenWinsProgress[caps.type].dec();
            openWinProgressWq.wakeUp();
        } else if (policy == VasPolicy.UPSTREAM) {
            vasPseriesMutex.lock();
            try {
                nrOpenWinsProgress[caps.type]--;
            } finally {
                vasPseriesMutex.unlock();
            }
        }
    }

    /**
     * {@code vas_deallocate_window} (papr-notes 4.4): a window that is active in the hypervisor is deallocated
     * there; one closed for credits or migration only leaves the closed count. Then it leaves the list and gives
     * its credit back. The credit type is found by the window's win_type, as the kernel indexes vascaps[].
     *
     * @return 0, or -EIO when the deallocate hcall failed (the window then stays listed, as in the kernel)
     */
    public int deallocateWindow(VasWindow win) {
        return inPath(() -> machine.onCpu(() -> deallocateWindowOnCpu(win)));
    }

    private int deallocateWindowOnCpu(VasWindow win) {
        vasPseriesMutex.lock();
        try {
            // The kernel reads win_type before taking the mutex; it never changes once the window is open, so reading
            // it under the mutex is the same value without a separate mmap_mutex round trip.
            VasCaps caps = vascaps[win.winTypeUnderVasMutex()];
            if ((win.statusUnderVasMutex() & CLOSED_MASK) == 0) {
                int rc = deallocateFreeWindowLocked(win);
                if (rc != 0) {
                    return rc;
                }
            } else {
                nrCloseWins[caps.type]--;
            }
            lists.get(caps.type).remove(win);
            caps.nrUsedCredits.decrementAndGet();
            nrOpenWindows[caps.type]--;
            return 0;
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reconfiguration (DLPAR, QoS, migration)

    /**
     * {@code reconfig_close_windows} (papr-notes 4.5): closes active windows from the newest (LIFO), marking
     * them with NO_CRED_CLOSE, or MIGRATE_CLOSE when {@code migrate}. Windows already closed for the other reason
     * get the bit too and do not count. Without {@code migrate} it stops after {@code excess} windows and returns
     * the first hcall error (leaving that window's bit set but not counted, as the kernel does); for a migration
     * it closes every active window and ignores errors ("no way to stop migration").
     */
    @GuardedBy("vasPseriesMutex")
    int reconfigCloseWindowsLocked(VasCaps vcaps, int excess, boolean migrate) {
        int flag = migrate ? Vas.VAS_WIN_MIGRATE_CLOSE : Vas.VAS_WIN_NO_CRED_CLOSE;
        for (VasWindow win : lists.get(vcaps.type)) {
            if ((win.statusUnderVasMutex() & CLOSED_MASK) != 0) {
                win.addStatus(flag);
                continue;
            }
            // Under the mmap mutex, as the kernel does before zapping the paste page: the next paste sees the
            // window closed (a failed paste) instead of reaching the old hypervisor window.
            win.addStatus(flag);
            int rc = deallocateFreeWindowLocked(win);
            if (rc != 0 && !migrate) {
                return rc;
            }
            nrCloseWins[vcaps.type]++;
            if (!migrate && --excess == 0) {
                break;
            }
        }
        return 0;
    }

    /**
     * {@code reconfig_open_windows} (papr-notes 4.6): reopens windows closed for {@code migrate}'s reason. For
     * DLPAR, with more windows closed than {@code creds}, the newest closed ones are skipped so that the oldest
     * reopen first. A window closed for both reasons only loses this reason's bit and stays closed (the other
     * event reopens it). Reopened windows get a new hypervisor window in the default domain, the same pid, and
     * are active again (the next paste uses the new address).
     *
     * @return 0, or the first allocate/modify error (that window stays closed)
     */
    @GuardedBy("vasPseriesMutex")
    int reconfigOpenWindowsLocked(VasCaps vcaps, int creds, boolean migrate) {
        if (nrCloseWins[vcaps.type] == 0) {
            return 0;
        }
        int skip = !migrate && nrCloseWins[vcaps.type] > creds ? nrCloseWins[vcaps.type] - creds : 0;
        Iterator<VasWindow> it = lists.get(vcaps.type).iterator();
        for (int i = 0; i < skip && it.hasNext(); i++) {
            it.next();
        }
        int flag = migrate ? Vas.VAS_WIN_MIGRATE_CLOSE : Vas.VAS_WIN_NO_CRED_CLOSE;
        while (it.hasNext()) {
            VasWindow win = it.next();
            int status = win.statusUnderVasMutex();
            if ((status & CLOSED_MASK) == CLOSED_MASK) {
                win.clearStatus(flag);
                continue;
            }
            if ((status & flag) == 0) {
                continue;
            }
            int rc = allocateSetupWindowLocked(win, defaultDomain(), vcaps.winType);
            if (rc != 0) {
                return rc;
            }
            rc = hModifyVasWindow(win);
            if (rc != 0) {
                freeFaultIrq(win);
                hDeallocateVasWindow(win.winIdUnderVasMutex());
                return rc;
            }
            win.clearStatus(flag);
            win.setWinType(vcaps.winType);
            if (--nrCloseWins[vcaps.type] == 0) {
                break;
            }
        }
        return 0;
    }

    /**
     * {@code vas_reconfig_capabilties} (sic: the kernel's function name is misspelt) (papr-notes 4.7): sets the
     * type's total credits to {@code newCreds}, reopening windows closed for lost credits when it grew, closing
     * the newest active windows beyond it when it shrank. Does not look at migration_in_progress: a DLPAR during
     * a migration is handled by the two status bits.
     *
     * @return 0, -EINVAL for an unknown type, or the reconfig error
     */
    public int reconfigCapabilities(int type, int newCreds) {
        return inPath(() -> machine.onCpu(() -> reconfigCapabilitiesOnCpu(type, newCreds)));
    }

    private int reconfigCapabilitiesOnCpu(int type, int newCreds) {
        if (type != Vas.WIN_TYPE_QOS && type != Vas.WIN_TYPE_DEFAULT) {
            return Errno.EINVAL.negative();
        }
        VasCaps vcaps = vascaps[type];
        vasPseriesMutex.lock();
        try {
            int old = vcaps.nrTotalCredits.get();
            vcaps.nrTotalCredits.set(newCreds);
            if (old < newCreds) {
                return reconfigOpenWindowsLocked(vcaps, newCreds - old, false);
            }
            int active = nrOpenWindows[vcaps.type] - nrCloseWins[vcaps.type];
            if (active > newCreds) {
                return reconfigCloseWindowsLocked(vcaps, active - newCreds, false);
            }
            return 0;
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    /**
     * {@code pseries_vas_dlpar_cpu}: after a processor node came or went, read the Default type's new target
     * from the hypervisor and reconfigure to it. Nothing to do without copy/paste.
     */
    public int pseriesVasDlparCpu() {
        return inPath(() -> machine.onCpu(() -> pseriesVasDlparCpuOnCpu()));
    }

    private int pseriesVasDlparCpuOnCpu() {
        if (!copypasteFeat) {
            return 0;
        }
        byte[] page = new byte[Vas.CAPS_BUFFER_SIZE];
        int rc = hQueryVasCapabilities(vascaps[Vas.WIN_TYPE_DEFAULT].feat, HV_COP_CAPS_PA, page);
        if (rc == 0) {
            rc = reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, Vas.CopFeatCaps.decode(page).targetLparCreds());
        }
        if (rc != 0) {
            LOG.error("Failed reconfig VAS capabilities with DLPAR: {}", rc);
            errors.errno(rc);
        }
        return rc;
    }

    /**
     * {@code pseries_vas_notifier}: the device-tree reconfig notifier. A processor node (one with
     * {@code ibm,ppc-interrupt-server#s}) attached or detached on a dedicated-processor partition triggers
     * {@link #pseriesVasDlparCpu()}; shared-processor partitions are ignored (their credits follow entitlement
     * and are updated from lparcfg). Registered only when copy/paste is available.
     */
    public void pseriesVasNotifier(GuestDeviceTree.ReconfigAction action, String path, Map<String, byte[]> properties) {
        if (sharedProcessor) {
            return;
        }
        if ((action == GuestDeviceTree.ReconfigAction.ATTACH_NODE || action == GuestDeviceTree.ReconfigAction.DETACH_NODE)
                && properties.containsKey("ibm,ppc-interrupt-server#s")) {
            LOG.info("processor node {} {}: reconfiguring VAS credits", path, action);
            pseriesVasDlparCpu();
        }
    }

    /**
     * {@code vas_migration_handler} (papr-notes 4.8): SUSPEND closes every window before the partition
     * suspends, RESUME reopens them (on the destination, or on the source after a failed migration) against the
     * hypervisor's current target. The query is made for both types, even one never initialised (its query type
     * is then 0, the overall query, as in the kernel). Errors during SUSPEND are ignored; a RESUME error stops it
     * and is returned, leaving the remaining windows closed.
     *
     * <p>UPSTREAM: the flag is set without the mutex; per type, SUSPEND closes the listed windows and then waits,
     * polling every 10 ms with the mutex dropped, until no open is half-way. PRE_FIX and HOLD_MUTEX: the whole
     * handler, flag included, runs under the mutex, and SUSPEND waits for nothing.
     */
    public int migrationHandler(MigrationAction action) {
        return inPath(() -> machine.onCpu(() -> migrationHandlerOnCpu(action)));
    }

    private int migrationHandlerOnCpu(MigrationAction action) {
        LOG.info("VAS migration event {}", action);
        if (!copypasteFeat) {
            return 0;
        }
        calls.tracepoint("vas_migration_begin", action.name());
        int rc = switch (policy) {
            case UPSTREAM -> migrationHandlerUpstream(action);
            case V1_PATCH -> migrationHandlerV1(action);
            case PRE_FIX, HOLD_MUTEX -> migrationHandlerPreFix(action);
        };
        if (action == MigrationAction.SUSPEND) {
            suspendComplete = true;
        }
        calls.tracepoint("vas_migration_done", action.name() + " rc " + rc);
        return rc;
    }

    /** Tracepoint after SUSPEND closed the listed windows of one type. */
    @GuardedBy("vasPseriesMutex")
    private void tracepointClosedLocked(VasCaps vcaps, int closedBefore) {
        String type = vcaps.type == Vas.WIN_TYPE_QOS ? "qos" : "default";
        calls.tracepoint("vas_migration_closed[" + type + "]", String.format(
                "%d listed, %d closed by this pass, %d half-open", nrOpenWindows[vcaps.type],
                nrCloseWins[vcaps.type] - closedBefore, vcaps.windowsHalfOpen.get()));
    }

    private int migrationHandlerUpstream(MigrationAction action) {
        if (action == MigrationAction.RESUME) {
            suspendComplete = false;
        }
        setMigrationInProgressRelease(action == MigrationAction.SUSPEND);
        int rc = 0;
        for (VasCaps vcaps : vascaps) {
            int[] newCreds = new int[1];
            int qrc = queryTargetForMigration(vcaps, action, newCreds);
            if (qrc != 0 && action == MigrationAction.RESUME) {
                return qrc;
            }
            vasPseriesMutex.lock();
            try {
                if (action == MigrationAction.SUSPEND) {
                    int closedBefore = nrCloseWins[vcaps.type];
                    rc = reconfigCloseWindowsLocked(vcaps, nrOpenWindows[vcaps.type], true);
                    tracepointClosedLocked(vcaps, closedBefore);
                    if (nrOpenWinsProgress[vcaps.type] != 0) {
                        calls.tracepoint("vas_migration_wait_opens",
                                nrOpenWinsProgress[vcaps.type] + " open(s) in progress");
                    }
                    // Windows join the list only after a successful open: wait for opens that are half-way. They
                    // see migration_in_progress in section B and deallocate.
                    while (nrOpenWinsProgress[vcaps.type] != 0) {
                        vasPseriesMutex.unlock();
                        try {
                            machine.msleep(SUSPEND_PROGRESS_POLL);
                        } finally {
                            vasPseriesMutex.lock();
                        }
                    }
                } else {
                    vcaps.nrTotalCredits.set(newCreds[0]);
                    rc = reconfigOpenWindowsLocked(vcaps, newCreds[0], true);
                }
            } finally {
                vasPseriesMutex.unlock();
            }
            if (rc != 0 && action == MigrationAction.RESUME) {
                return rc;
            }
        }
        LOG.info("VAS migration event ({}) successful", action);
        return rc;
    }

    /**
     * V1_PATCH: the flag by {@code atomic_set} with no lock; per credit type, the capability query without the
     * mutex, then SUSPEND closes the listed windows under the mutex and sleeps on open_win_progress_wq until
     * {@code atomic_read(nr_open_wins_progress)} is 0 (a signal would end the wait early: its result becomes the
     * handler's rc), and RESUME reopens under the mutex.
     */
    private int migrationHandlerV1(MigrationAction action) {
        if (action == MigrationAction.RESUME) {
            suspendComplete = false;
        }
        setMigrationInProgressOpaque(action == MigrationAction.SUSPEND);
        int rc = 0;
        for (VasCaps vcaps : vascaps) {
            int[] newCreds = new int[1];
            int qrc = queryTargetForMigration(vcaps, action, newCreds);
            if (qrc != 0 && action == MigrationAction.RESUME) {
                return qrc;
            }
            if (action == MigrationAction.SUSPEND) {
                vasPseriesMutex.lock();
                try {
                    int closedBefore = nrCloseWins[vcaps.type];
                    rc = reconfigCloseWindowsLocked(vcaps, nrOpenWindows[vcaps.type], true);
                    tracepointClosedLocked(vcaps, closedBefore);
                } finally {
                    vasPseriesMutex.unlock();
                }
                AtomicT progress = v1OpenWinsProgress[vcaps.type];
                if (progress.peek() != 0) {
                    calls.tracepoint("vas_migration_wait_opens", progress.peek() + " open(s) in progress");
                }
                rc = openWinProgressWq.waitEventInterruptible(() -> progress.read() == 0) ? 0 : Errno.ERESTARTSYS.negative();
            } else {
                vasPseriesMutex.lock();
                try {
                    vcaps.nrTotalCredits.set(newCreds[0]);
                    rc = reconfigOpenWindowsLocked(vcaps, newCreds[0], true);
                } finally {
                    vasPseriesMutex.unlock();
                }
                if (rc != 0) {
                    return rc;
                }
            }
        }
        LOG.info("VAS migration event ({}) successful", action);
        return rc;
    }

    private int migrationHandlerPreFix(MigrationAction action) {
        vasPseriesMutex.lock();
        try {
            if (action == MigrationAction.RESUME) {
                suspendComplete = false;
            }
            setMigrationInProgressPlain(action == MigrationAction.SUSPEND);
            int rc = 0;
            for (VasCaps vcaps : vascaps) {
                int[] newCreds = new int[1];
                int qrc = queryTargetForMigration(vcaps, action, newCreds);
                if (qrc != 0 && action == MigrationAction.RESUME) {
                    return qrc;
                }
                if (action == MigrationAction.SUSPEND) {
                    int closedBefore = nrCloseWins[vcaps.type];
                    rc = reconfigCloseWindowsLocked(vcaps, nrOpenWindows[vcaps.type], true);
                    tracepointClosedLocked(vcaps, closedBefore);
                } else {
                    vcaps.nrTotalCredits.set(newCreds[0]);
                    rc = reconfigOpenWindowsLocked(vcaps, newCreds[0], true);
                }
                if (rc != 0 && action == MigrationAction.RESUME) {
                    return rc;
                }
            }
            LOG.info("VAS migration event ({}) successful", action);
            return rc;
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    /** The per-type capability query of the migration handler; a changed target is only logged. */
    private int queryTargetForMigration(VasCaps vcaps, MigrationAction action, int[] newCreds) {
        int old = vcaps.nrTotalCredits.get();
        byte[] page = new byte[Vas.CAPS_BUFFER_SIZE];
        int rc = hQueryVasCapabilities(vcaps.feat, HV_COP_CAPS_PA, page);
        if (rc == 0) {
            newCreds[0] = Vas.CopFeatCaps.decode(page).targetLparCreds();
            if (old != newCreds[0]) {
                LOG.error("Target credits mismatch with the hypervisor: state({}) lpar creds {} HV lpar creds {}; used {}",
                        action, old, newCreds[0], vcaps.nrUsedCredits.get());
            }
        } else {
            LOG.error("state({}): Get VAS capabilities failed with {}", action, rc);
        }
        return rc;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Views

    private <T> T inPath(Supplier<T> body) {
        pathEntries.incrementAndGet();
        try {
            return body.get();
        } finally {
            pathExits.incrementAndGet();
        }
    }

    /** Tasks that entered a VAS path so far (see {@link #pathExits}). */
    public long pathEntries() {
        return pathEntries.get();
    }

    /** Tasks that left a VAS path so far: read before {@link #pathEntries}, equal means none was inside. */
    public long pathExits() {
        return pathExits.get();
    }

    public VasPolicy policy() {
        return policy;
    }

    /** How this code reaches the hypervisor (and the machine it runs on). */
    public KernelCalls calls() {
        return calls;
    }

    /** copypaste_feat. */
    public boolean copypasteFeat() {
        return copypasteFeat;
    }

    /** The overall capabilities read at init, or null when the query failed. */
    public Vas.AllCaps capsAll() {
        return capsAll;
    }

    /** One credit type's counters and listed windows, read under the mutex. */
    public CapsSnapshot snapshot(int type) {
        VasCaps c = vascaps[type];
        vasPseriesMutex.lock();
        try {
            List<WindowSnapshot> ws = new ArrayList<>(lists.get(c.type).size());
            for (VasWindow w : lists.get(c.type)) {
                w.mmapMutex.lock();
                try {
                    ws.add(new WindowSnapshot(w.serial(), w.winIdLocked(), w.winTypeLocked(), w.statusLocked(),
                            w.pasteAddressLocked(), w.pid(), w.task()));
                } finally {
                    w.mmapMutex.unlock();
                }
            }
            return new CapsSnapshot(type, c.enabled, c.winType, c.nrTotalCredits.get(), c.nrUsedCredits.get(),
                    nrOpenWindows[c.type], nrCloseWins[c.type], policy == VasPolicy.V1_PATCH
                    ? v1OpenWinsProgress[c.type].peek() : nrOpenWinsProgress[c.type], ws);
        } finally {
            vasPseriesMutex.unlock();
        }
    }

    /** Both types, QoS first. */
    public List<CapsSnapshot> snapshots() {
        return List.of(snapshot(Vas.WIN_TYPE_QOS), snapshot(Vas.WIN_TYPE_DEFAULT));
    }

    /**
     * Windows of this type that an unfinished open has allocated in the hypervisor and not yet listed or
     * deallocated (lparemu bookkeeping, for every policy; the kernel counts only UPSTREAM's opens, as
     * nr_open_wins_progress).
     */
    public int windowsHalfOpen(int type) {
        return vascaps[type].windowsHalfOpen.get();
    }

    /** Tasks waiting for the VAS mutex (tests use it to see a SUSPEND blocked behind an open). */
    int vasMutexWaiters() {
        return vasPseriesMutex.waiters();
    }

    /**
     * The VAS invariants of papr-notes 4.10, checked under the mutex. Meant for quiescent moments: an open or
     * close running concurrently can make the lock-free credit counters disagree for an instant.
     *
     * @return one line per violation; empty when all hold
     */
    public List<String> checkInvariants() {
        List<String> v = new ArrayList<>();
        vasPseriesMutex.lock();
        try {
            for (VasCaps c : vascaps) {
                String t = c.type == Vas.WIN_TYPE_QOS ? "QoS" : "Default";
                int used = c.nrUsedCredits.get();
                int inFlight = c.allocationsInFlight.get();
                if (used != nrOpenWindows[c.type] + inFlight) {
                    v.add(t + ": nr_used_credits " + used + " != listed windows " + nrOpenWindows[c.type]
                            + " + opens in flight " + inFlight);
                }
                if (nrOpenWindows[c.type] != lists.get(c.type).size()) {
                    v.add(t + ": nr_open_windows " + nrOpenWindows[c.type] + " != list size " + lists.get(c.type).size());
                }
                if (nrCloseWins[c.type] < 0 || nrCloseWins[c.type] > nrOpenWindows[c.type]) {
                    v.add(t + ": nr_close_wins " + nrCloseWins[c.type] + " outside 0.." + nrOpenWindows[c.type]);
                }
                int closed = 0;
                for (VasWindow w : lists.get(c.type)) {
                    int s = w.status();
                    if ((s & ~CLOSED_MASK) != 0) {
                        v.add(t + ": window " + w + " has unknown status bits");
                    }
                    if ((s & CLOSED_MASK) != 0) {
                        closed++;
                    } else if (w.pasteAddress() == 0) {
                        v.add(t + ": active window " + w + " has no paste address");
                    }
                    if (suspendComplete && (s & Vas.VAS_WIN_MIGRATE_CLOSE) == 0) {
                        v.add(t + ": window " + w + " is not closed for migration although SUSPEND has returned");
                    }
                }
                if (closed != nrCloseWins[c.type]) {
                    v.add(t + ": nr_close_wins " + nrCloseWins[c.type] + " but " + closed + " listed windows carry a close bit");
                }
                if (nrOpenWinsProgress[c.type] < 0 || (policy != VasPolicy.UPSTREAM && nrOpenWinsProgress[c.type] != 0)) {
                    v.add(t + ": nr_open_wins_progress " + nrOpenWinsProgress[c.type] + " invalid for " + policy);
                }
                int v1 = v1OpenWinsProgress[c.type].peek();
                if (v1 < 0 || (policy != VasPolicy.V1_PATCH && v1 != 0)) {
                    v.add(t + ": v1 nr_open_wins_progress " + v1 + " invalid for " + policy);
                }
                if (used < 0 || inFlight < 0 || c.windowsHalfOpen.get() < 0) {
                    v.add(t + ": negative counter (used " + used + ", in flight " + inFlight + ", half-open "
                            + c.windowsHalfOpen.get() + ")");
                }
                if (suspendComplete && c.windowsHalfOpen.get() != 0) {
                    v.add(t + ": " + c.windowsHalfOpen.get()
                            + " window(s) allocated in the hypervisor by an unfinished open although SUSPEND has returned");
                }
            }
        } finally {
            vasPseriesMutex.unlock();
        }
        return v;
    }

    @Override
    public String toString() {
        return "PseriesVas[" + policy + ", copypaste=" + copypasteFeat + "]";
    }
}
