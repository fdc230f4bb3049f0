package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.PlatformEvent;

/**
 * One logical partition as the hypervisor holds it.
 *
 * <p>Every hypervisor state change for a partition runs under its {@link #lock}, and is short and
 * synchronous; waits (H_JOIN, suspension, AwaitEvent) are futures completed later, never blocked threads.
 * Partitions never lock each other, and nothing else is locked while a partition lock is held except the
 * platform's atomics.
 *
 * <p>Fields by owner:
 * <ul>
 *   <li>immutable after construction: {@link #name}, {@link #services}, {@link #lock}; lock-free: {@link #vcpus}</li>
 *   <li>atomic, no lock: {@link #callsMade}</li>
 *   <li>guarded by {@link #lock}: everything else, grouped below by family:
 *     <ul>
 *       <li>platform: spec (cores, QoS credits), system, device tree, sessions, events, report, suspension and
 *           the calls deferred by it, deleted</li>
 *       <li>VAS ({@link VasHcalls}): {@link #windows}</li>
 *       <li>H_JOIN ({@link JoinHcalls}): {@link #joined}, {@link #prodPending}</li>
 *       <li>migration ({@link Mobility}, {@link VasiHcalls}, {@link MobilityRtas}): {@link #migration},
 *           {@link #migrationUpdate}</li>
 *       <li>device-tree updates ({@link DeviceTreeRtas}, {@link Reconfiguration}): {@link #prrnScopes},
 *           {@link #nextPrrnScope}, {@link #sequences}, {@link #propertyCursors}, {@link #connectorCursors}</li>
 *     </ul></li>
 * </ul>
 * Methods that require the lock to be held end in {@code Locked}.
 *
 * <p>Lock order: a partition lock is a leaf. Holding it, code may use the platform's atomics and the trace
 * ring, and may schedule on the executor; it never takes another partition's lock, never blocks, and never
 * completes a future whose continuation could run inline (futures are completed after unlock, see
 * {@link CallContext#afterUnlock}).
 */
public final class Partition {
    /** The name VcpuTable records for an H_MODIFY_VAS_WINDOW in flight. */
    private static final String MODIFY_CALL = Hcall.name(Hcall.H_MODIFY_VAS_WINDOW);

    final String name;
    final PlatformServices services;
    /** The partition lock: guards every mutable field below. */
    final ReentrantLock lock = new ReentrantLock();

    /** Current shape (cores and QoS credits change with DLPAR and SetQosCredits). */
    @GuardedBy("lock")
    PartitionSpec spec;
    /** Managed system the partition runs on now. */
    @GuardedBy("lock")
    ManagedSystem system;
    /** The platform's authoritative device tree for this partition on {@link #system}. */
    @GuardedBy("lock")
    DeviceTree deviceTree;
    /** Guest connections, oldest first. */
    @GuardedBy("lock")
    final List<GuestSession> sessions = new ArrayList<>();
    /** Events pushed and not yet acknowledged, by id, oldest first. */
    @GuardedBy("lock")
    final LinkedHashMap<Long, PendingEventEntry> events = new LinkedHashMap<>();
    /** Latest report the guest sent. */
    @GuardedBy("lock")
    GuestReport latestReport;
    /** True between an accepted ibm,suspend-me and the resume. */
    @GuardedBy("lock")
    boolean suspended;
    /** Set once the partition is deleted; calls still arriving are failed. */
    @GuardedBy("lock")
    boolean deleted;
    /** Counts SetQosCredits calls, so a lowering applied at the guest's ack never undoes a later change. */
    @GuardedBy("lock")
    long qosChange;

    /** Hcalls and RTAS calls dispatched for this partition (for MigrationOutcome.hcalls). Atomic. */
    final AtomicLong callsMade = new AtomicLong();
    /** Calls refused because no real processor could have made them. Atomic. */
    final AtomicLong callsRefused = new AtomicLong();
    /** The virtual processors and the call each is in; lock-free admission (see there). */
    final VcpuTable vcpus;

    // VAS ---------------------------------------------------------------------------------------------
    /** Windows that exist in the hypervisor for this partition, by id, oldest first. */
    @GuardedBy("lock")
    final LinkedHashMap<Long, VasWindow> windows = new LinkedHashMap<>();

    // H_JOIN ------------------------------------------------------------------------------------------
    /** vCPUs parked in H_JOIN, with their pending calls. */
    @GuardedBy("lock")
    final TreeMap<Integer, JoinHcalls.Joined> joined = new TreeMap<>();
    /** vCPUs prodded while not joined: their next H_JOIN returns H_SUCCESS at once. */
    @GuardedBy("lock")
    final TreeSet<Integer> prodPending = new TreeSet<>();

    // migration ---------------------------------------------------------------------------------------
    /** The current or most recent VASI stream, null before the first Migrate. */
    @GuardedBy("lock")
    VasiStream migration;
    /** The latest successful migration's ibm,update-nodes(1) records. */
    @GuardedBy("lock")
    TreeUpdate migrationUpdate = TreeUpdate.EMPTY;
    /** The system the partition last left, null before its first migration. */
    @GuardedBy("lock")
    ManagedSystem departedSystem;
    /**
     * The partition's tree as it left {@link #departedSystem} (never modified afterwards): what
     * {@link PlatformConfig.UpdateContinuation#SERVE_OLD_SYSTEM} serves.
     */
    @GuardedBy("lock")
    DeviceTree departedTree;

    // device-tree updates -----------------------------------------------------------------------------
    /** PRRN scopes recorded by the operator's Prrn actions: they move with the partition. */
    @GuardedBy("lock")
    final TreeMap<Integer, TreeUpdate> prrnScopes = new TreeMap<>();
    /** Next PRRN scope number (per partition, from 1). */
    @GuardedBy("lock")
    int nextPrrnScope = 1;
    /** ibm,update-nodes sequences by id, oldest first (bounded). */
    @GuardedBy("lock")
    final LinkedHashMap<Integer, DeviceTreeRtas.Sequence> sequences = new LinkedHashMap<>();
    /** Latest sequence id per scope. */
    @GuardedBy("lock")
    final Map<Integer, Integer> latestSequenceByScope = new HashMap<>();
    /** ibm,update-properties continuations by token (bounded). */
    @GuardedBy("lock")
    final LinkedHashMap<Integer, DeviceTreeRtas.PropertyCursor> propertyCursors = new LinkedHashMap<>();
    /** ibm,configure-connector continuations by token (bounded). */
    @GuardedBy("lock")
    final LinkedHashMap<Integer, DeviceTreeRtas.ConnectorCursor> connectorCursors = new LinkedHashMap<>();
    /**
     * RTAS event logs waiting for the OS's event-scan ({@link EventLogRtas}), oldest first; bounded by the
     * pending-event limit.
     */
    @GuardedBy("lock")
    final ArrayDeque<byte[]> eventLogs = new ArrayDeque<>();
    /** The processor cores' connectors by DRC index ({@link DrcRtas}). */
    @GuardedBy("lock")
    final TreeMap<Integer, DrcRtas.Drc> drcs = new TreeMap<>();
    /** Source of sequence ids and continuation tokens (never 0). */
    @GuardedBy("lock")
    int nextToken = 1;

    /** A fresh nonzero token for a sequence or a continuation. Caller holds the lock. */
    @GuardedBy("lock")
    int newTokenLocked() {
        int t = nextToken++;
        if (nextToken <= 0) {
            nextToken = 1;
        }
        return t;
    }

    /** Default-credit target: cores x the current system's credits per core. Caller holds the lock. */
    @GuardedBy("lock")
    int defaultTargetCreditsLocked() {
        return spec.cores() * system.config().creditsPerCore();
    }

    /** Target credits of a window type on the current system. Caller holds the lock. */
    @GuardedBy("lock")
    int targetCreditsLocked(int winType) {
        return winType == Vas.WIN_TYPE_QOS ? spec.qosCredits() : defaultTargetCreditsLocked();
    }

    /** Credits held by windows of a type that exist in the hypervisor (any status). Caller holds the lock. */
    @GuardedBy("lock")
    int usedCreditsLocked(int winType) {
        int used = 0;
        for (VasWindow w : windows.values()) {
            if (w.winType == winType) {
                used += w.credits;
            }
        }
        return used;
    }

    /**
     * Credits held by windows of a type whose state is one of {@code states} (the over-credit check's view,
     * {@link PlatformConfig.HypervisorOptions#creditHoldingStates}). Caller holds the lock.
     */
    @GuardedBy("lock")
    int creditsHeldLocked(int winType, Set<PlatformConfig.WindowState> states) {
        int held = 0;
        for (VasWindow w : windows.values()) {
            if (w.winType == winType && states.contains(windowStateLocked(w))) {
                held += w.credits;
            }
        }
        return held;
    }

    /**
     * The window's state for the configurable rules: MODIFY_IN_PROCESS while a vCPU is inside an
     * H_MODIFY_VAS_WINDOW naming it, else by its hypervisor status (MOD_IN_PROCESS = ALLOCATED; INACTIVE, which
     * lparemu never enters, counts as ACTIVE). Caller holds the lock.
     */
    @GuardedBy("lock")
    PlatformConfig.WindowState windowStateLocked(VasWindow w) {
        if (vcpus.inCall(MODIFY_CALL, w.winId)) {
            return PlatformConfig.WindowState.MODIFY_IN_PROCESS;
        }
        return switch (w.status) {
            case MOD_IN_PROCESS -> PlatformConfig.WindowState.ALLOCATED;
            case CLOSED -> PlatformConfig.WindowState.CLOSED;
            case ACTIVE, INACTIVE -> PlatformConfig.WindowState.ACTIVE;
        };
    }

    /** An event pushed to the guest and awaiting its ack. */
    static final class PendingEventEntry {
        final PlatformEvent event;
        final String detail;
        /** Session it was delivered to, null while undelivered. */
        GuestSession deliveredTo;
        final CompletableFuture<EventAck> ack = new CompletableFuture<>();

        PendingEventEntry(PlatformEvent event, String detail) {
            this.event = event;
            this.detail = detail;
        }
    }

    /** A guest's acknowledgement of an event. */
    public record EventAck(long eventId, int status, String detail) {
    }

    Partition(PlatformServices services, PartitionSpec spec, ManagedSystem system) {
        this.services = services;
        this.name = spec.name();
        this.spec = spec;
        this.system = system;
        this.vcpus = new VcpuTable(spec.cores(), spec.threadsPerCore());
        this.deviceTree = PartitionTrees.build(spec.name(), spec.cores(), spec.threadsPerCore(), spec.qosCredits(),
                system, services.hypervisor().prrnDelivery() == PlatformConfig.PrrnDelivery.EVENT_LOG);
        for (int i = 0; i < spec.cores(); i++) {
            // the cores it starts with are the OS's: allocated and unisolated
            drcs.put(PartitionTrees.CPU_DRC_BASE + i, new DrcRtas.Drc(true, false));
        }
    }

    public String name() {
        return name;
    }

    public ReentrantLock lock() {
        return lock;
    }

    /** Current spec (takes the lock). */
    public PartitionSpec spec() {
        lock.lock();
        try {
            return spec;
        } finally {
            lock.unlock();
        }
    }

    /** Current spec; caller holds the lock. */
    @GuardedBy("lock")
    public PartitionSpec specLocked() {
        return spec;
    }

    /** Current system; caller holds the lock. */
    @GuardedBy("lock")
    public ManagedSystem systemLocked() {
        return system;
    }

    /** The platform's device tree; caller holds the lock and must not let it escape. */
    @GuardedBy("lock")
    public DeviceTree deviceTreeLocked() {
        return deviceTree;
    }

    /** Running vCPUs (stopped ones, after stop-self or a DLPAR add not yet started, excluded). */
    public int runningVcpus() {
        return vcpus.runningCount();
    }

    /** Welcome contents for a connecting guest. */
    BootInfo bootInfo() {
        lock.lock();
        try {
            return new BootInfo(name, spec.vcpus(), system.name(), spec.cores(), spec.sharedProcessor(),
                    deviceTree.copy());
        } finally {
            lock.unlock();
        }
    }

    /** The session platform events go to: the oldest open one that accepts events. Caller holds the lock. */
    @GuardedBy("lock")
    GuestSession eventSessionLocked() {
        for (GuestSession s : sessions) {
            if (s.receivesEvents() && s.isOpen()) {
                return s;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return name;
    }
}
