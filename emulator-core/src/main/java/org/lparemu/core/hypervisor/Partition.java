package org.lparemu.core.hypervisor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
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
 *   <li>immutable after construction: {@link #name}, {@link #platform}, {@link #lock}</li>
 *   <li>guarded by {@link #lock}: everything else (spec, system, device tree, sessions, events, report,
 *       suspension and the calls deferred by it)</li>
 * </ul>
 * Methods that require the lock to be held end in {@code Locked}.
 */
public final class Partition {
    final String name;
    final Platform platform;
    /** The partition lock: guards every mutable field below. */
    final ReentrantLock lock = new ReentrantLock();

    /** Current shape (cores and QoS credits change with DLPAR and SetQosCredits). Guarded by lock. */
    PartitionSpec spec;
    /** Managed system the partition runs on now. Guarded by lock. */
    ManagedSystem system;
    /** The platform's authoritative device tree for this partition on {@link #system}. Guarded by lock. */
    DeviceTree deviceTree;
    /** Guest connections, oldest first. Guarded by lock. */
    final List<GuestSession> sessions = new ArrayList<>();
    /** Events pushed and not yet acknowledged, by id, oldest first. Guarded by lock. */
    final LinkedHashMap<Long, PendingEventEntry> events = new LinkedHashMap<>();
    /** Latest report the guest sent. Guarded by lock. */
    GuestReport latestReport;
    /** True between an accepted ibm,suspend-me and the resume. Guarded by lock. */
    boolean suspended;
    /** Calls that arrived while suspended; run after resume. Guarded by lock. */
    final ArrayDeque<Runnable> deferredCalls = new ArrayDeque<>();
    /** Set once the partition is deleted; calls still arriving are failed. Guarded by lock. */
    boolean deleted;

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

    Partition(Platform platform, PartitionSpec spec, ManagedSystem system) {
        this.platform = platform;
        this.name = spec.name();
        this.spec = spec;
        this.system = system;
        this.deviceTree = PartitionTrees.build(spec.name(), spec.cores(), spec.qosCredits(), system);
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
    public PartitionSpec specLocked() {
        return spec;
    }

    /** Current system; caller holds the lock. */
    public ManagedSystem systemLocked() {
        return system;
    }

    /** The platform's device tree; caller holds the lock and must not let it escape. */
    public DeviceTree deviceTreeLocked() {
        return deviceTree;
    }

    public int vcpus() {
        return spec.vcpus();
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
