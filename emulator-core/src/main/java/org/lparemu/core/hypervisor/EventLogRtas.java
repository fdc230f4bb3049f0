package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import org.lparemu.core.papr.RtasErrorLog;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/**
 * RTAS event logs and {@code event-scan} (papr-notes 7.1): with {@link PlatformConfig.PrrnDelivery#EVENT_LOG} a PRRN
 * is not pushed but queued as an event log of type 0xA0, its scope in the extended log length, and the OS's
 * rtasd fetches it with its periodic event-scan, one log per call, oldest first. Handlers run under the partition
 * lock.
 */
final class EventLogRtas {
    private EventLogRtas() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.registerRtas(RtasService.EVENT_SCAN, EventLogRtas::eventScan);
    }

    /**
     * Queues a log for the partition's event-scan.
     *
     * @throws ControlException LIMIT_EXCEEDED when {@code maxPendingEvents} logs already wait, UNKNOWN_PARTITION
     */
    static void queue(PlatformServices services, Partition p, RtasErrorLog log, String detail) {
        byte[] bytes = new byte[RtasErrorLog.FIXED_BYTES];
        log.encodeInto(bytes);
        p.lock.lock();
        try {
            if (p.deleted) {
                throw new ControlException(ControlError.UNKNOWN_PARTITION, "no partition '" + p.name + "'");
            }
            int limit = services.limits().maxPendingEvents();
            if (p.eventLogs.size() >= limit) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED, p.name + " has " + p.eventLogs.size()
                        + " event logs its OS has not scanned (limit " + limit + ")");
            }
            p.eventLogs.add(bytes);
        } finally {
            p.lock.unlock();
        }
        services.trace().note(TraceKind.EVENT, p.name, "event log queued", String.format("type 0x%02X, %s",
                log.type(), detail));
    }

    /**
     * event-scan(event mask, critical, buffer, length) with a work area of at least {@code length} bytes: 0 and
     * the oldest waiting log at the start of the work area, or 1 when none waits. -3 for a wrong argument count, a
     * length below the log's fixed part, or a work area shorter than {@code length}.
     */
    @GuardedBy("p.lock")
    static RtasResult eventScan(Partition p, CallContext ctx) {
        long length = ctx.arg(3);
        byte[] workArea = ctx.data();

        if (ctx.argCount() != 4 || length < RtasErrorLog.FIXED_BYTES || workArea.length < length) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        byte[] log = p.eventLogs.poll();
        if (log == null) {
            return RtasResult.of(RtasService.EVENT_SCAN_NONE);
        }
        byte[] out = new byte[workArea.length];
        System.arraycopy(log, 0, out, 0, log.length);
        return RtasResult.withWorkArea(RtasStatus.SUCCESS, out);
    }
}
