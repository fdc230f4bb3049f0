package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live Partition Mobility as the orchestrator and the platform run it (papr-notes 6, prrn-model.md):
 * Migrate opens a VASI stream (ENABLED) and pushes MigrationRequest; after {@code orchestratorReadyMs}
 * the stream is SUSPENDING; an accepted ibm,suspend-me ({@link MobilityRtas}) makes it SUSPENDED and
 * suspends the partition; after {@code blackoutMs} the partition moves to the destination (new tree, new
 * system, update-nodes(1) records), the stream is RESUMED, the suspend-me call returns 0 and the calls
 * deferred meanwhile run; after {@code transferMs} the stream is COMPLETED. A stream not suspended within
 * {@code migrationTimeoutMs}, or cancelled by the partition, is ABORTED.
 *
 * <p>Timers run on the platform executor; each takes the partition lock, re-checks that its stream is still
 * the partition's current one in the state it expects, and completes futures after unlocking.
 */
final class Mobility {
    private static final Logger LOG = LoggerFactory.getLogger(Mobility.class);

    private Mobility() {
    }

    /** {@link Platform#migrate}. */
    static OperatorResults.MigrateResult migrate(PlatformServices services, Partition p, String destinationName) {
        PlatformConfig.HypervisorOptions opts = services.hypervisor();
        VasiStream s;
        p.lock.lock();
        try {
            if (p.deleted) {
                throw new ControlException(ControlError.UNKNOWN_PARTITION, "no partition '" + p.name + "'");
            }
            if (p.migration != null && p.migration.active()) {
                throw new ControlException(ControlError.INVALID_STATE, p.name + " is already migrating (stream "
                        + p.migration.streamId + ", VASI " + p.migration.state + ")");
            }
            ManagedSystem destination = destinationLocked(services, p, destinationName);
            s = new VasiStream(services.newStreamId(), p, p.system, destination, services.now(),
                    p.callsMade.get());
            p.migration = s;
            s.transition(VasiState.ENABLED, "Migrate " + p.system.name() + " -> " + destination.name());
            if (opts.orchestratorReadyMs() <= 0) {
                s.transition(VasiState.SUSPENDING, "orchestrator ready");
            } else {
                s.readyTimer = services.schedule(() -> orchestratorReady(p, s), opts.orchestratorReadyMs());
            }
            if (opts.migrationTimeoutMs() > 0) {
                s.timeoutTimer = services.schedule(() -> timeout(p, s, opts.migrationTimeoutMs()),
                        opts.migrationTimeoutMs());
            }
        } finally {
            p.lock.unlock();
        }
        services.trace().note(TraceKind.OPERATOR, p.name, "Migrate",
                "stream " + s.streamId + " " + s.source.name() + " -> " + s.destination.name());
        if (opts.vasMappingsChangeAtMigrate()) {
            // Before the OS hears of the migration (papr-notes 6.1): pastes fail until the stream moves on.
            services.trace().note(TraceKind.STATE, p.name, "VAS mappings changed", "stream " + s.streamId);
        }
        PlatformEvent event;
        try {
            event = services.pushEvent(p, id -> new PlatformEvent.MigrationRequest(id, s.streamId),
                    "stream " + s.streamId + " to " + s.destination.name());
        } catch (ControlException e) {
            end(p, s, VasiState.ABORTED, "MigrationRequest not pushed: " + e.getMessage());
            throw e;
        }
        p.lock.lock();
        try {
            s.eventId = event.eventId();
        } finally {
            p.lock.unlock();
        }
        return new OperatorResults.MigrateResult(s.streamId, event.eventId(), s.destination.name());
    }

    @GuardedBy("p.lock")
    private static ManagedSystem destinationLocked(PlatformServices services, Partition p, String name) {
        if (name == null || name.isEmpty()) {
            for (ManagedSystem m : services.systems()) {
                if (m != p.system) {
                    return m;
                }
            }
            throw new ControlException(ControlError.INVALID_STATE, "no managed system other than "
                    + p.system.name() + " to migrate " + p.name + " to");
        }
        ManagedSystem m = services.system(name);
        if (m == p.system) {
            throw new ControlException(ControlError.INVALID_STATE, p.name + " already runs on " + name);
        }
        return m;
    }

    /** {@link Platform#awaitMigration}. */
    static CompletableFuture<MigrationOutcome> awaitMigration(PlatformServices services, Partition p, long timeoutMs) {
        CompletableFuture<MigrationOutcome> f = new CompletableFuture<>();
        VasiStream s;
        p.lock.lock();
        try {
            s = p.migration;
            if (s == null) {
                return CompletableFuture.failedFuture(new ControlException(ControlError.INVALID_STATE,
                        p.name + " has never migrated"));
            }
            if (s.outcome != null) {
                return CompletableFuture.completedFuture(s.outcome);
            }
            s.waiters.add(f);
        } finally {
            p.lock.unlock();
        }
        CompletableFuture<MigrationOutcome> out = services.withTimeout(f, timeoutMs,
                "migration of " + p.name + " (stream " + s.streamId + ") did not end");
        out.whenComplete((v, e) -> {
            if (e != null) {
                p.lock.lock();
                try {
                    s.waiters.removeIf(w -> w == f);
                } finally {
                    p.lock.unlock();
                }
            }
        });
        return out;
    }

    private static void orchestratorReady(Partition p, VasiStream s) {
        p.lock.lock();
        try {
            if (p.migration == s && s.state == VasiState.ENABLED) {
                s.transition(VasiState.SUSPENDING, "orchestrator ready");
            }
        } finally {
            p.lock.unlock();
        }
    }

    private static void timeout(Partition p, VasiStream s, long ms) {
        end(p, s, VasiState.ABORTED, "not suspended within " + ms + " ms");
    }

    /** Ends a stream from a timer or control path (not under the lock). */
    private static void end(Partition p, VasiStream s, VasiState terminal, String reason) {
        List<Runnable> after = new ArrayList<>();
        p.lock.lock();
        try {
            if (s.active() && s.state.canBecome(terminal)) {
                endLocked(p, s, terminal, reason, after);
            }
        } finally {
            p.lock.unlock();
        }
        after.forEach(Runnable::run);
    }

    /**
     * Moves the stream to a terminal state, records the outcome and queues the completion of its
     * AwaitMigration waiters into {@code after} (run it after unlocking). Caller holds the lock.
     */
    @GuardedBy("p.lock")
    static void endLocked(Partition p, VasiStream s, VasiState terminal, String reason, List<Runnable> after) {
        s.transition(terminal, reason);
        s.reason = reason;
        cancelTimers(s);
        s.outcome = new MigrationOutcome(terminal == VasiState.COMPLETED, s.rtasStatuses.size(), s.rtasStatuses,
                terminal, reason, s.streamId, s.source.name(), s.destination.name(),
                p.callsMade.get() - s.callsAtStart, p.services.now() - s.startNanos);
        MigrationOutcome outcome = s.outcome;
        p.services.counters().migrationEnded(terminal == VasiState.COMPLETED ? PlatformCounters.MigrationEnd.COMPLETED
                : PlatformCounters.MigrationEnd.ABORTED);
        List<CompletableFuture<MigrationOutcome>> waiters = new ArrayList<>(s.waiters);
        s.waiters.clear();
        after.add(() -> waiters.forEach(w -> w.complete(outcome)));
    }

    static void cancelTimers(VasiStream s) {
        if (s.readyTimer != null) {
            s.readyTimer.cancel(false);
        }
        if (s.timeoutTimer != null) {
            s.timeoutTimer.cancel(false);
        }
    }

    /**
     * An accepted ibm,suspend-me: the stream is SUSPENDED, the partition stops running (every other running vCPU
     * is parked in H_JOIN and this one stays inside ibm,suspend-me, so no call can arrive), and the move is
     * scheduled after {@code blackoutMs}. Caller holds the lock.
     */
    @GuardedBy("p.lock")
    static void suspendLocked(CallContext ctx, Partition p, VasiStream s) {
        PlatformServices services = ctx.services();
        s.transition(VasiState.SUSPENDED, "ibm,suspend-me accepted from vcpu " + ctx.vcpu());
        if (s.timeoutTimer != null) {
            s.timeoutTimer.cancel(false);
        }
        p.suspended = true;
        s.suspendCall = ctx.defer();
        services.trace().note(TraceKind.STATE, p.name, "suspended", "stream " + s.streamId);
        services.schedule(() -> resume(services, p, s), services.hypervisor().blackoutMs());
    }

    /** End of the blackout: the partition runs on the destination. */
    private static void resume(PlatformServices services, Partition p, VasiStream s) {
        CompletableFuture<CallResult> call;
        p.lock.lock();
        try {
            if (p.deleted || p.migration != s || s.state != VasiState.SUSPENDED) {
                return;
            }
            DeviceTree from = p.deviceTree;
            DeviceTree to = PartitionTrees.forDestination(from, s.source, s.destination);
            p.migrationUpdate = TreeUpdate.between(from, to);
            p.departedSystem = s.source;
            p.departedTree = from;
            p.deviceTree = to;
            p.system = s.destination;
            if (!p.windows.isEmpty()) {
                // Only windows in a state the configuration lets through suspend-me (suspendBlockingStates) get
                // here. They belong to the source's NX: the destination does not have them, so they are gone
                // (a later H_DEALLOCATE_VAS_WINDOW of one answers H_PARAMETER).
                LOG.info("{}: {} source window(s) not carried to {}", p.name, p.windows.size(), s.destination.name());
                services.trace().note(TraceKind.STATE, p.name, "windows dropped at resume",
                        p.windows.size() + " window(s) of " + s.source.name() + " " + p.windows.keySet());
                p.windows.clear();
            }
            s.transition(VasiState.RESUMED, "running on " + s.destination.name() + ", "
                    + p.migrationUpdate.records.size() + " update-nodes record(s)");
            p.suspended = false;
            call = s.suspendCall;
            s.suspendCall = null;
            services.trace().note(TraceKind.STATE, p.name, "resumed", "on " + s.destination.name());
            services.schedule(() -> transferred(p, s), services.hypervisor().transferMs());
        } finally {
            p.lock.unlock();
        }
        if (call != null) {
            call.complete(RtasResult.of(RtasStatus.SUCCESS));
        }
    }

    private static void transferred(Partition p, VasiStream s) {
        List<Runnable> after = new ArrayList<>();
        p.lock.lock();
        try {
            if (s.state == VasiState.RESUMED) {
                endLocked(p, s, VasiState.COMPLETED, "memory transfer done", after);
            }
        } finally {
            p.lock.unlock();
        }
        after.forEach(Runnable::run);
    }

    /**
     * The partition is being retired: cancel timers and fail the suspend-me call and the waiters.
     * Returns what to run after unlock. Caller holds the lock.
     */
    @GuardedBy("p.lock")
    static List<Runnable> retireLocked(Partition p, Throwable why) {
        List<Runnable> out = new ArrayList<>();
        VasiStream s = p.migration;
        if (s == null) {
            return out;
        }
        cancelTimers(s);
        CompletableFuture<CallResult> call = s.suspendCall;
        s.suspendCall = null;
        List<CompletableFuture<MigrationOutcome>> waiters = new ArrayList<>(s.waiters);
        s.waiters.clear();
        out.add(() -> {
            if (call != null) {
                call.completeExceptionally(why);
            }
            waiters.forEach(w -> w.completeExceptionally(why));
        });
        return out;
    }
}
