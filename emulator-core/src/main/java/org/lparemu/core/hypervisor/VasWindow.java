package org.lparemu.core.hypervisor;

import java.util.ArrayDeque;
import org.lparemu.core.papr.Vas;

/**
 * One VAS window as the hypervisor holds it for a partition, from H_ALLOCATE_VAS_WINDOW to
 * H_DEALLOCATE_VAS_WINDOW. Never shared between partitions, and confined to the owning partition's lock: a window
 * is reachable only through {@code Partition.windows} (annotated {@code @GuardedBy("lock")}), so every access to
 * its mutable fields happens with that lock held. The window has no reference to its partition, so Error Prone
 * cannot express the rule; it is stated here.
 */
final class VasWindow {
    /** Fault FIFO slots per window (papr-notes 3.6: NX and the OS account for them with credits). */
    static final int MAX_PENDING_FAULTS = 64;

    /** Hypervisor window status (hv_vas_win_lpar.status), a small state machine. */
    enum Status {
        /** Modified with a pid: pastes are accepted. */
        ACTIVE(Vas.HV_WIN_ACTIVE),
        /** Closed by H_MODIFY_VAS_WINDOW(CLOSE); holds its credits until deallocated. */
        CLOSED(Vas.HV_WIN_CLOSED),
        /** Hardware failure (never entered by lparemu today; kept for the wire value). */
        INACTIVE(Vas.HV_WIN_INACTIVE),
        /** Allocated, not yet modified: pastes are refused. */
        MOD_IN_PROCESS(Vas.HV_WIN_MOD_IN_PROCESS);

        final int code;

        Status(int code) {
            this.code = code;
        }

        /** Allowed edges: modify makes a window ACTIVE (again), CLOSE closes it; CLOSED is final. */
        boolean canBecome(Status next) {
            return switch (this) {
                case MOD_IN_PROCESS, ACTIVE -> next == ACTIVE || next == CLOSED;
                case CLOSED, INACTIVE -> false;
            };
        }
    }

    // immutable after allocation
    final long winId;
    final int winType;
    final int credits;
    final ManagedSystem system;
    final long pasteAddress;
    final int completionIrq;
    final int faultIrq;
    final long[] domain;
    final long ownerConnection;
    final String ownerTask;

    /**
     * Faulted requests NX could not complete, oldest first, until the OS fetches each with H_GET_NX_FAULT: the fault
     * FIFO. At {@link #MAX_PENDING_FAULTS} NX takes no more requests that fault (the paste is refused busy).
     * Confined to the partition lock (see the class comment). Null until the window's first fault: most windows
     * never fault, and B3 opens and closes millions of them.
     */
    private ArrayDeque<Vas.FaultCrb> faults;

    // mutable: confined to the partition lock (see the class comment)
    Status status = Status.MOD_IN_PROCESS;
    long pid;
    long tid;
    long flags;
    long amr;
    long bytesProcessed;
    long pastes;

    VasWindow(long winId, int winType, int credits, ManagedSystem system, int completionIrq, int faultIrq,
              long[] domain, long ownerConnection, String ownerTask) {
        this.winId = winId;
        this.winType = winType;
        this.credits = credits;
        this.system = system;
        this.pasteAddress = system.pasteAddress(winId);
        this.completionIrq = completionIrq;
        this.faultIrq = faultIrq;
        this.domain = domain.clone();
        this.ownerConnection = ownerConnection;
        this.ownerTask = ownerTask;
    }

    /** Faulted requests waiting for H_GET_NX_FAULT. */
    int pendingFaults() {
        return faults == null ? 0 : faults.size();
    }

    /** Queues a faulted request (the caller checked {@link #MAX_PENDING_FAULTS}). */
    void addFault(Vas.FaultCrb crb) {
        if (faults == null) {
            faults = new ArrayDeque<>();
        }
        faults.add(crb);
    }

    /** The oldest faulted request, removed, or null. */
    Vas.FaultCrb pollFault() {
        return faults == null ? null : faults.poll();
    }

    /** Moves the window to {@code next}; the caller has checked {@link Status#canBecome}. */
    void transition(Status next) {
        if (!status.canBecome(next)) {
            throw new IllegalStateException("window " + winId + ": " + status + " -> " + next + " not allowed");
        }
        status = next;
    }

    /** The window as {@link Vas.WinLpar}'s 88 bytes, without making the record (H_QUERY_VAS_WINDOW, every call). */
    byte[] encodeWinLpar() {
        return Vas.WinLpar.encode(1, winType, status.code, credits, pid, tid, pasteAddress, completionIrq, faultIrq,
                domain, bytesProcessed);
    }

    PartitionView.WindowView view() {
        return new PartitionView.WindowView(winId, winType, status.code, pid, pasteAddress, faultIrq, completionIrq,
                credits, ownerConnection, ownerTask, bytesProcessed);
    }
}
