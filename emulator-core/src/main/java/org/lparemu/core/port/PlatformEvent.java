package org.lparemu.core.port;

/** Events the platform pushes to a partition's guest kernel; each is answered with an ack. */
public sealed interface PlatformEvent {
    /** Unique per daemon, grows. */
    long eventId();

    /** Short name for traces and state views. */
    default String kind() {
        return getClass().getSimpleName();
    }

    /** What drmgr hands the kernel to start a migration. */
    record MigrationRequest(long eventId, long streamId) implements PlatformEvent {
    }

    /** RTAS event 0xA0: the guest calls ibm,update-nodes with -scope. */
    record PrrnEvent(long eventId, int scope) implements PlatformEvent {
    }

    /** One processor core added (add = true) or removed, identified by its DRC index. */
    record DlparCpu(long eventId, boolean add, int drcIndex) implements PlatformEvent {
    }

    /** New QoS credit total from the administrator. */
    record QosCredits(long eventId, int credits) implements PlatformEvent {
    }

    /**
     * An external interrupt from interrupt source {@code irq} (today: a VAS window's fault interrupt, raised once per
     * request NX could not complete). The ack is the end of the OS's handling (its threaded handler has run).
     */
    record Interrupt(long eventId, int irq) implements PlatformEvent {
    }

    /** The platform asks for a fresh {@link GuestReport} before the ack. */
    record ReportRequest(long eventId) implements PlatformEvent {
    }
}
