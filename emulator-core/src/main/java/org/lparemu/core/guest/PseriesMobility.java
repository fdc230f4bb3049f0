package org.lparemu.core.guest;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live Partition Mobility on the guest side: {@code pseries_migrate_partition} and its helpers from
 * {@code arch/powerpc/platforms/pseries/mobility.c} (papr-notes 6.1).
 *
 * <p>A migration closes every VAS window first, waits for the VASI stream to reach Suspending, then suspends
 * the partition under {@link Machine#stopMachine}: every online vCPU runs {@code do_join} at once with interrupts
 * disabled while no other task runs, and calls H_JOIN; the one the hypervisor answers H_CONTINUE is the last and
 * calls {@code ibm,suspend-me}, which returns only after the partition has resumed (on the destination) or
 * failed. The first vCPU to come back sets {@code done} and prods the others out of H_JOIN. Up to five attempts,
 * with 1/10/100/1000 ms back-off while the stream stays Suspending. After success: firmware activation, the
 * device-tree update (scope 1) and a wait for the stream to complete; after failure: H_VASI_SIGNAL(CANCEL).
 * Windows are always reopened at the end.
 *
 * <p>Not reentrant: one migration at a time (the GuestKernel runs them on one worker). Statistics are atomics.
 */
public final class PseriesMobility {
    private static final Logger LOG = LoggerFactory.getLogger(PseriesMobility.class);

    static final int MAX_SUSPEND_ATTEMPTS = 5;
    static final Duration VASI_SUSPENDING_POLL = Duration.ofSeconds(1);
    static final Duration VASI_COMPLETED_POLL = Duration.ofMillis(500);

    /** Result of one H_VASI_STATE poll ({@code poll_vasi_state}): rc 0 with a state, or a negative errno. */
    record VasiPoll(int rc, long state) {
    }

    /**
     * The shared state of one suspend attempt ({@code pseries_suspend_info}): a counter of vCPUs that came back
     * and the {@code done} flag that tells a vCPU woken by H_PROD whether the wake-up was the real one.
     */
    static final class SuspendInfo {
        private static final VarHandle DONE;

        static {
            try {
                DONE = MethodHandles.lookup().findVarHandle(SuspendInfo.class, "done", boolean.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final AtomicInteger counter = new AtomicInteger();
        /** vCPU whose H_JOIN returned H_CONTINUE in this attempt, or -1. */
        final AtomicInteger suspender = new AtomicInteger(-1);
        @SuppressWarnings("unused") // through DONE
        private boolean done;

        /**
         * The kernel's {@code smp_mb(); READ_ONCE(info->done)} after H_JOIN returned H_SUCCESS, one for one: a full
         * fence, then an opaque load. Pairs with {@link #writeOnceDoneSmpMb}: a vCPU prodded after the store sees
         * it.
         */
        boolean smpMbReadOnceDone() {
            VarHandle.fullFence();
            return (boolean) DONE.getOpaque(this);
        }

        /**
         * The kernel's {@code WRITE_ONCE(info->done, true); smp_mb()} before the H_PRODs, one for one: an opaque
         * store, then a full fence (not a volatile store that happens to fence on HotSpot), so no prodded vCPU can
         * miss it (the prod itself travels through the hypervisor).
         */
        void writeOnceDoneSmpMb(boolean value) {
            DONE.setOpaque(this, value);
            VarHandle.fullFence();
        }
    }

    /**
     * Where numa.c's topology update switch is flipped during a migration; the kernel eras differ only in which of
     * these places call {@code stop_topology_update} / {@code start_topology_update} ({@link NumaTopology}).
     */
    public interface TopologyHooks {
        /** No topology updates (v5.9+). */
        TopologyHooks NONE = new TopologyHooks() {
        };

        /** First thing in the migration ({@code migration_store} before its suspend loop). */
        default void migrationStart() {
        }

        /** Before each join attempt ({@code rtas_ibm_suspend_me} before its join). */
        default void joinStart() {
        }

        /** After each join attempt, whatever its result. */
        default void joinEnd() {
        }

        /** After the suspend attempts, with their result, before anything else looks at it. */
        default void suspendDone(int rc) {
        }

        /** After {@code post_mobility_fixup} (a successful migration only). */
        default void fixupDone() {
        }
    }

    // --- Immutable after construction.

    private final KernelCalls calls;
    private final Machine machine;
    private final PseriesVas vas;
    private final MobilityHooks hooks;
    private final TopologyHooks topology;
    private final ErrorCounters errors;
    /** Migrations under way (0 or 1): the guest is not quiescent while one runs. */
    private final AtomicInteger inProgress = new AtomicInteger();

    // --- Statistics.

    private final AtomicLong migrationsOk = new AtomicLong();
    private final AtomicLong migrationsFailed = new AtomicLong();
    private final AtomicLong suspendAttempts = new AtomicLong();
    private final AtomicLong strayProds = new AtomicLong();

    public PseriesMobility(KernelCalls calls, PseriesVas vas, MobilityHooks hooks, ErrorCounters errors) {
        this(calls, vas, hooks, TopologyHooks.NONE, errors);
    }

    public PseriesMobility(KernelCalls calls, PseriesVas vas, MobilityHooks hooks, TopologyHooks topology,
                           ErrorCounters errors) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.machine = calls.machine();
        this.vas = Objects.requireNonNull(vas, "vas");
        this.hooks = Objects.requireNonNull(hooks, "hooks");
        this.topology = Objects.requireNonNull(topology, "topology");
        this.errors = Objects.requireNonNull(errors, "errors");
    }

    /**
     * {@code pseries_migrate_partition}: the whole migration for VASI stream {@code handle}, as drmgr starts it
     * by writing the stream id to {@code /sys/kernel/mobility/migration}.
     *
     * @return 0, or the negative errno of the step that failed
     */
    public int migratePartition(long handle) {
        inProgress.incrementAndGet();
        try {
            return machine.onCpu(() -> migratePartitionOnCpu(handle));
        } finally {
            inProgress.decrementAndGet();
        }
    }

    /** Migrations under way now (0 or 1). */
    public int inProgress() {
        return inProgress.get();
    }

    private int migratePartitionOnCpu(long handle) {
        int ret = Errno.EIO.negative();
        boolean hooksEnded = false;
        calls.tracepoint("mobility_begin", "stream " + handle);
        hooks.migrationBegin();
        topology.migrationStart();
        try {
            // Close windows before anything else: the hypervisor has already changed the VAS mappings and NX
            // faults continuously until the windows are closed.
            vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
            ret = waitForVasiSessionSuspending(handle);
            if (ret == 0) {
                ret = pseriesSuspend(handle);
                topology.suspendDone(ret);
                if (ret == 0) {
                    postMobilityFixup();
                    topology.fixupDone();
                    hooks.migrationEnd();
                    hooksEnded = true;
                    waitForVasiSessionCompleted(handle);
                } else {
                    pseriesCancelMigration(handle, ret);
                }
            }
        } finally {
            try {
                if (!hooksEnded) {
                    hooks.migrationEnd();
                }
            } finally {
                // On success this reopens windows on the destination, on failure on the source.
                vas.migrationHandler(PseriesVas.MigrationAction.RESUME);
                if (ret == 0) {
                    migrationsOk.incrementAndGet();
                } else {
                    migrationsFailed.incrementAndGet();
                }
                calls.tracepoint("mobility_end", "stream " + handle + " rc " + ret);
            }
        }
        // Only a migration that ended normally counts its errno here; an exception is counted by whoever catches it.
        errors.errno(ret);
        return ret;
    }

    /**
     * {@code poll_vasi_state}: H_VASI_STATE(handle); H_PARAMETER becomes -EINVAL, H_FUNCTION -EOPNOTSUPP, other
     * failures -EIO.
     */
    VasiPoll pollVasiState(long handle) {
        HcallResult r = calls.hcall(Hcall.H_VASI_STATE, handle);
        long st = r.status();
        if (st == HStatus.H_SUCCESS) {
            return new VasiPoll(0, r.ret(0));
        }
        if (st == HStatus.H_PARAMETER) {
            return new VasiPoll(Errno.EINVAL.negative(), 0);
        }
        if (st == HStatus.H_FUNCTION) {
            return new VasiPoll(Errno.EOPNOTSUPP.negative(), 0);
        }
        return new VasiPoll(Errno.EIO.negative(), 0);
    }

    /**
     * {@code wait_for_vasi_session_suspending}: polls every second while the stream is Enabled. Suspending →
     * 0; any other state → -EIO; a missing H_VASI_STATE (H_FUNCTION) counts as success so that platforms without
     * it (QEMU) still try the suspend.
     */
    int waitForVasiSessionSuspending(long handle) {
        int ret;
        while (true) {
            VasiPoll p = pollVasiState(handle);
            if (p.rc() != 0 || p.state() == VasiState.SUSPENDING.code) {
                ret = p.rc();
                break;
            }
            if (p.state() == VasiState.ENABLED.code) {
                machine.msleep(VASI_SUSPENDING_POLL);
            } else {
                LOG.error("unexpected H_VASI_STATE result {}", p.state());
                ret = Errno.EIO.negative();
                break;
            }
        }
        return ret == Errno.EOPNOTSUPP.negative() ? 0 : ret;
    }

    /**
     * {@code pseries_suspend}: up to five join-and-suspend attempts. After a failed attempt the stream is
     * polled: while it is still Suspending (or the poll is unsupported) the next attempt follows a sleep of 1, 10,
     * 100, then 1000 ms; any other state or poll error gives up.
     *
     * @return 0, or the last attempt's error
     */
    int pseriesSuspend(long handle) {
        long retryMs = 1;
        for (int attempt = 1; ; attempt++) {
            topology.joinStart();
            int ret;
            try {
                ret = joinAll();
            } finally {
                topology.joinEnd();
            }
            suspendAttempts.incrementAndGet();
            if (ret == 0) {
                return 0;
            }
            LOG.info("Partition suspend attempt {} of {} error: {}", attempt, MAX_SUSPEND_ATTEMPTS, ret);
            if (attempt == MAX_SUSPEND_ATTEMPTS) {
                return ret;
            }
            VasiPoll p = pollVasiState(handle);
            if (p.rc() == 0) {
                if (p.state() != VasiState.SUSPENDING.code) {
                    LOG.info("VASI state {} after failed suspend", p.state());
                    return ret;
                }
            } else if (p.rc() != Errno.EOPNOTSUPP.negative()) {
                LOG.error("VASI state poll error: {}", p.rc());
                return ret;
            }
            LOG.info("Will retry partition suspend after {} ms", retryMs);
            machine.msleep(Duration.ofMillis(retryMs));
            retryMs *= 10;
        }
    }

    /**
     * {@code stop_machine(do_join, ...)}: every online vCPU runs {@link #doJoin} at once, interrupts disabled, while
     * nothing else runs. A failing attempt reports the suspending vCPU's error if it had one, else the first vCPU
     * error (the kernel keeps whichever error was stored last).
     */
    int joinAll() {
        SuspendInfo info = new SuspendInfo();
        SortedMap<Integer, Integer> results = machine.stopMachine(cpu -> doJoin(cpu, info));
        int suspender = info.suspender.get();
        Integer theirs = results.get(suspender);
        if (theirs != null && theirs != 0) {
            return theirs;
        }
        for (int r : results.values()) {
            if (r != 0) {
                return r;
            }
        }
        return 0;
    }

    /**
     * {@code do_join}: one vCPU's part of an attempt. H_CONTINUE → this vCPU is the last to join and suspends
     * the partition; H_SUCCESS → woken by H_PROD, and if {@code done} is not yet set the prod was stray, so join
     * again; anything else → -EIO. The first vCPU to get here sets {@code done} and prods every other vCPU.
     */
    int doJoin(int cpu, SuspendInfo info) {
        int ret;
        try {
            while (true) {
                HcallResult r = calls.hcall(Hcall.H_JOIN);
                long st = r.status();
                if (st == HStatus.H_CONTINUE) {
                    info.suspender.set(cpu);
                    ret = doSuspend(cpu);
                    break;
                }
                if (st == HStatus.H_SUCCESS) {
                    if (!info.smpMbReadOnceDone()) {
                        strayProds.incrementAndGet();
                        LOG.info("premature return from H_JOIN on CPU {}, retrying", cpu);
                        continue;
                    }
                    ret = 0;
                    break;
                }
                LOG.error("H_JOIN error {} on CPU {}", HStatus.name(st), cpu);
                ret = Errno.EIO.negative();
                break;
            }
        } catch (PortException e) {
            LOG.error("CPU {}: port failed during the join: {}", cpu, e.getMessage());
            ret = Errno.EIO.negative();
        }
        if (info.counter.incrementAndGet() == 1) {
            LOG.info("CPU {} waking all threads", cpu);
            info.writeOnceDoneSmpMb(true);
            prodOthers(cpu);
        }
        return ret;
    }

    /** {@code prod_others}: H_PROD every online vCPU but this one. */
    private void prodOthers(int cpu) {
        for (int other : machine.onlineCpus()) {
            if (other == cpu) {
                continue;
            }
            try {
                HcallResult r = calls.hcall(Hcall.H_PROD, other);
                if (!r.ok()) {
                    LOG.error("H_PROD of CPU {} failed: {}", other, HStatus.name(r.status()));
                }
            } catch (PortException e) {
                LOG.error("H_PROD of CPU {}: port failed: {}", other, e.getMessage());
            }
        }
    }

    /**
     * {@code do_suspend} / {@code rtas_ibm_suspend_me}: RTAS ibm,suspend-me with no arguments, mapped as
     * papr-notes 2.4: 0 → 0, 9000 (aborted) → -ECANCELED, -9005 (threads active) → -EAGAIN, -9004 and -9006
     * → -EBUSY, anything else → -EIO.
     */
    int doSuspend(int cpu) {
        LOG.info("calling ibm,suspend-me on CPU {}", cpu);
        int fwrc = calls.rtas(RtasService.SUSPEND_ME, new long[0], null).status();
        int ret = switch (fwrc) {
            case RtasStatus.SUCCESS -> 0;
            case RtasStatus.SUSPEND_ABORTED -> Errno.ECANCELED.negative();
            case RtasStatus.THREADS_ACTIVE -> Errno.EAGAIN.negative();
            case RtasStatus.NOT_SUSPENDABLE, RtasStatus.OUTSTANDING_COPROC -> Errno.EBUSY.negative();
            default -> Errno.EIO.negative();
        };
        if (ret != 0) {
            LOG.error("ibm,suspend-me error: {} ({})", fwrc, RtasStatus.name(fwrc));
        }
        return ret;
    }

    /**
     * {@code post_mobility_fixup}: activate the new firmware, then update the device tree with the migration
     * scope (through the hooks, so the PRRN policy can order it).
     */
    void postMobilityFixup() {
        rtasActivateFirmware();
        int rc = hooks.migrationDevicetreeUpdate(RtasService.MIGRATION_SCOPE);
        if (rc != 0) {
            LOG.error("Post-mobility device tree update failed: {}", rc);
        }
    }

    /** {@code rtas_activate_firmware}: ibm,activate-firmware, repeated while busy or asking for a delay. */
    int rtasActivateFirmware() {
        int fwrc;
        do {
            fwrc = calls.rtas(RtasService.ACTIVATE_FIRMWARE, new long[0], null).status();
        } while (calls.rtasBusyDelay(fwrc));
        if (fwrc != 0) {
            LOG.error("ibm,activate-firmware failed ({})", fwrc);
        }
        return fwrc;
    }

    /**
     * {@code wait_for_vasi_session_completed}: after resume, poll every 500 ms while the stream is Resumed, until
     * Completed or H_PARAMETER (the hypervisor already cleaned the stream up); anything else is logged and ends
     * the wait.
     */
    void waitForVasiSessionCompleted(long handle) {
        LOG.info("waiting for memory transfer to complete...");
        while (true) {
            VasiPoll p = pollVasiState(handle);
            if (p.rc() == Errno.EINVAL.negative() || (p.rc() == 0 && p.state() == VasiState.COMPLETED.code)) {
                LOG.info("memory transfer completed.");
                return;
            }
            if (p.rc() != 0) {
                LOG.error("H_VASI_STATE return error ({})", p.rc());
                return;
            }
            if (p.state() != VasiState.RESUMED.code) {
                LOG.error("unexpected H_VASI_STATE result {}", p.state());
                return;
            }
            machine.msleep(VASI_COMPLETED_POLL);
        }
    }

    /**
     * {@code pseries_cancel_migration}: H_VASI_SIGNAL(CANCEL) with reason (MIGRATING_PARTITION &lt;&lt; 24) |
     * |errno|, so the orchestrator cleans up at once instead of timing out.
     */
    void pseriesCancelMigration(long handle, int err) {
        long reason = VasiSignal.cancelReason(VasiSignal.ENTITY_MIGRATING_PARTITION, err);
        HcallResult r = calls.hcall(Hcall.H_VASI_SIGNAL, handle, VasiSignal.CANCEL, reason);
        if (!r.ok()) {
            LOG.error("H_VASI_SIGNAL error: {}", HStatus.name(r.status()));
        }
    }

    public long migrationsOk() {
        return migrationsOk.get();
    }

    public long migrationsFailed() {
        return migrationsFailed.get();
    }

    /** Join-and-suspend attempts made, over all migrations. */
    public long suspendAttempts() {
        return suspendAttempts.get();
    }

    /** H_JOIN returns with H_SUCCESS that came before {@code done} was set (stray prods), over all migrations. */
    public long strayProds() {
        return strayProds.get();
    }
}
