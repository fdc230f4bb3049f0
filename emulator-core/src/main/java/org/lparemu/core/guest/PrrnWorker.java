package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.PlatformEvent.PrrnEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rtasd side of PRRN: each {@link PrrnEvent} becomes {@code pseries_devicetree_update(-scope)} on one worker
 * thread ({@code rtasd}), so PRRNs are handled one at a time, in arrival order, as the 2018+ kernels did. The
 * {@link PrrnPolicy} decides how they are ordered against a migration; the worker is also the migration's
 * {@link MobilityHooks}, which is where that ordering happens:
 * <ul>
 *   <li>UNSERIALIZED: nothing; PRRN and migration updates may interleave.</li>
 *   <li>DT_MUTEX: {@link #dtUpdateMutex} ({@code dt_affinity_mutex} of the 2019 patch) is held around every
 *       whole device-tree update, PRRN and migration alike.</li>
 *   <li>DRAIN_BEFORE_SUSPEND: a gate counts PRRNs received and not yet finished; {@link #migrationBegin()}
 *       closes the gate and waits for the count to reach zero; PRRNs arriving while the gate is closed are
 *       deferred, and {@link #migrationEnd()} runs them (fetching from the destination) after the migration's
 *       own update.</li>
 *   <li>IGNORE: log "Platform resource reassignment ignored." and acknowledge.</li>
 * </ul>
 * Lock order: the gate lock is never held while updating or waiting;
 * dtUpdateMutex may be held while tree notifiers take the VAS mutex (a processor node added by an update),
 * never the reverse.
 */
public final class PrrnWorker implements MobilityHooks, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrrnWorker.class);
    static final String IGNORED = "Platform resource reassignment ignored.";

    // --- Immutable after construction.

    private final PrrnPolicy policy;
    private final DeviceTreeUpdate update;
    private final EventAcker acker;
    private final ErrorCounters errors;
    private final Machine.Workqueue rtasd;
    /** DT_MUTEX, or the MUTEX_PATCH topology era: one whole device-tree update at a time. */
    private final KernelMutex dtUpdateMutex;
    /** Whether {@link #dtUpdateMutex} is taken (the 2019 patch, from either of its two halves). */
    private final boolean serialized;

    // --- DRAIN_BEFORE_SUSPEND gate.

    private final KernelMutex gateLock;
    /** Woken whenever {@link #outstanding} drops. */
    private final WaitQueue drained;
    /** PRRNs accepted (queued or running) and not yet finished; changed under gateLock, read lock-free. */
    private final AtomicInteger outstanding = new AtomicInteger();
    /** Between migrationBegin and migrationEnd. */
    @GuardedBy("gateLock")
    private boolean migrationActive;
    @GuardedBy("gateLock")
    private final List<PrrnEvent> deferred = new ArrayList<>();

    /** PRRNs received and not yet acknowledged, every policy (deferred ones included): the guest lags the platform. */
    private final AtomicInteger pending = new AtomicInteger();

    // --- Statistics.

    private final AtomicLong handled = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();
    private final AtomicLong deferredTotal = new AtomicLong();

    public PrrnWorker(Machine machine, PrrnPolicy policy, DeviceTreeUpdate update, EventAcker acker,
                      ErrorCounters errors) {
        this(machine, policy, TopologyPolicy.V5_9, update, acker, errors);
    }

    /**
     * A worker whose device-tree updates are also serialized when the topology era is the 2019 mutex patch
     * ({@link TopologyPolicy#serializesUpdates()}), whatever the PRRN policy.
     */
    public PrrnWorker(Machine machine, PrrnPolicy policy, TopologyPolicy topology, DeviceTreeUpdate update,
                      EventAcker acker, ErrorCounters errors) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.serialized = policy == PrrnPolicy.DT_MUTEX || topology.serializesUpdates();
        this.update = Objects.requireNonNull(update, "update");
        this.acker = Objects.requireNonNull(acker, "acker");
        this.errors = Objects.requireNonNull(errors, "errors");
        this.rtasd = machine.workqueue("rtasd");
        this.dtUpdateMutex = machine.mutex("dt_update_mutex");
        this.gateLock = machine.mutex("prrn_gate");
        this.drained = machine.waitQueue("prrn_drained");
    }

    public PrrnPolicy policy() {
        return policy;
    }

    /**
     * Takes a PRRN event; never blocks (called on the port's thread). The event is acknowledged when handled:
     * 0 when the update succeeded (or the event was ignored), -EIO otherwise.
     */
    public void onPrrnEvent(PrrnEvent e) {
        pending.incrementAndGet();
        switch (policy) {
            case IGNORE -> execute(() -> {
                LOG.info(IGNORED);
                update.tracepoint("prrn_ignored", "scope " + e.scope());
                ignored.incrementAndGet();
                pending.decrementAndGet();
                acker.ack(e.eventId(), 0, IGNORED);
            });
            case DRAIN_BEFORE_SUSPEND -> {
                gateLock.lock();
                try {
                    if (migrationActive) {
                        deferred.add(e);
                        deferredTotal.incrementAndGet();
                        update.tracepoint("prrn_deferred", "scope " + e.scope() + " until the migration's update");
                        LOG.info("PRRN scope {} deferred until the migration's device-tree update is done", e.scope());
                        return;
                    }
                    outstanding.incrementAndGet();
                } finally {
                    gateLock.unlock();
                }
                executeCounted(e);
            }
            default -> execute(() -> handlePrrnEvent(e));
        }
    }

    /**
     * Runs an accepted PRRN and tells the gate it is finished, whatever happened, before acknowledging it: once
     * the platform sees the ack, the PRRN no longer holds a migration back.
     */
    private void executeCounted(PrrnEvent e) {
        boolean queued = execute(() -> handlePrrnEvent(e, this::finishOutstanding));
        if (!queued) {
            finishOutstanding();
        }
    }

    private void finishOutstanding() {
        outstanding.decrementAndGet();
        drained.wakeUp();
    }

    private boolean execute(Runnable r) {
        if (rtasd.queue(r)) {
            return true;
        }
        pending.decrementAndGet();
        LOG.warn("PRRN worker closed; event dropped");
        return false;
    }

    /** {@code handle_prrn_event}: the device-tree update with the negated event scope, then the ack. */
    void handlePrrnEvent(PrrnEvent e) {
        handlePrrnEvent(e, () -> { });
    }

    private void handlePrrnEvent(PrrnEvent e, Runnable finished) {
        int rc;
        try {
            rc = devicetreeUpdate(-e.scope());
        } catch (RuntimeException ex) {
            LOG.error("PRRN scope {} update failed", e.scope(), ex);
            rc = Errno.EIO.negative();
        } finally {
            finished.run();
            pending.decrementAndGet();
        }
        if (rc == 0) {
            handled.incrementAndGet();
            acker.ack(e.eventId(), 0, "PRRN scope " + e.scope() + " applied");
        } else {
            failed.incrementAndGet();
            errors.errno(Errno.EIO.negative());
            acker.ack(e.eventId(), Errno.EIO.negative(),
                    "PRRN scope " + e.scope() + " device-tree update failed: " + describe(rc));
        }
    }

    private int devicetreeUpdate(int scope) {
        if (!serialized) {
            return update.pseriesDevicetreeUpdate(scope);
        }
        dtUpdateMutex.lock();
        try {
            return update.pseriesDevicetreeUpdate(scope);
        } finally {
            dtUpdateMutex.unlock();
        }
    }

    @Override
    public void migrationBegin() {
        if (policy != PrrnPolicy.DRAIN_BEFORE_SUSPEND) {
            return;
        }
        gateLock.lock();
        try {
            migrationActive = true;
        } finally {
            gateLock.unlock();
        }
        // From here every new PRRN is deferred; wait for those accepted before.
        int left = outstanding.get();
        if (left > 0) {
            LOG.info("migration waits for {} outstanding PRRN(s)", left);
            update.tracepoint("prrn_drain_wait", left + " outstanding PRRN(s) before suspend");
        }
        drained.waitEvent(() -> outstanding.get() == 0);
    }

    @Override
    public int migrationDevicetreeUpdate(int scope) {
        return devicetreeUpdate(scope);
    }

    @Override
    public void migrationEnd() {
        if (policy != PrrnPolicy.DRAIN_BEFORE_SUSPEND) {
            return;
        }
        List<PrrnEvent> run;
        gateLock.lock();
        try {
            migrationActive = false;
            run = new ArrayList<>(deferred);
            deferred.clear();
            outstanding.addAndGet(run.size());
        } finally {
            gateLock.unlock();
        }
        for (PrrnEvent e : run) {
            LOG.info("running deferred PRRN scope {}", e.scope());
            executeCounted(e);
        }
    }

    /** Tasks waiting for the DT_MUTEX lock (for tests). */
    int dtUpdateMutexWaiters() {
        return dtUpdateMutex.waiters();
    }

    /** PRRNs received and not yet handled, under every policy (deferred ones included). */
    public int pending() {
        return pending.get();
    }

    /** PRRNs received and not finished (DRAIN_BEFORE_SUSPEND), or 0. */
    public int outstanding() {
        return outstanding.get();
    }

    /** PRRNs held back by a migration under way (DRAIN_BEFORE_SUSPEND). */
    public int deferredNow() {
        gateLock.lock();
        try {
            return deferred.size();
        } finally {
            gateLock.unlock();
        }
    }

    public long handled() {
        return handled.get();
    }

    public long failed() {
        return failed.get();
    }

    public long ignored() {
        return ignored.get();
    }

    /** PRRNs deferred past a migration, over all migrations. */
    public long deferredTotal() {
        return deferredTotal.get();
    }

    /** Stops taking PRRNs; the machine's close waits for the one running. */
    @Override
    public void close() {
        rtasd.shutdown();
    }

    private static String describe(int rc) {
        return rc == Errno.EIO.negative() ? "malformed work area or port failure" : "RTAS status " + RtasStatus.name(rc);
    }
}
