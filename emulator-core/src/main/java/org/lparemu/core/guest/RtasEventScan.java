package org.lparemu.core.guest;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.RtasErrorLog;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.PlatformEvent.PrrnEvent;
import org.lparemu.core.port.RtasResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * rtasd's event scan ({@code rtas_event_scan} / {@code do_event_scan} in kernel/rtasd.c): when the firmware's /rtas
 * node offers {@code event-scan} and asks for {@code rtas-event-scan-rate} scans a minute, a task calls event-scan
 * at that rate and, each time, again while it returns a log; a PRRN log (type 0xA0) goes to the {@link PrrnWorker}
 * with the scope from its extended log length, as {@code handle_rtas_event} does; other logs are only logged. A
 * PRRN that arrives this way has no platform event to acknowledge. Without the property the OS does not scan, and
 * PRRNs arrive as push events only: the guest takes either.
 *
 * <p>The scan task sleeps between scans ({@link Machine#msleep}, uninterruptible), so {@link #close} ends it within
 * one interval.
 */
public final class RtasEventScan implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RtasEventScan.class);
    /** Fake guest-physical address of rtasd's log buffer. */
    static final long LOG_BUFFER_PA = 0x10004000L;
    /** rtas_error_log_max: the bytes event-scan may write (RTAS_ERROR_LOG_MAX). */
    static final int LOG_MAX = 2048;

    private final KernelCalls calls;
    private final PrrnWorker prrn;
    private final Duration interval;
    private final AtomicLong scans = new AtomicLong();
    private final AtomicLong prrnLogs = new AtomicLong();
    private volatile boolean stopped;
    private Machine.Task task;

    private RtasEventScan(KernelCalls calls, PrrnWorker prrn, Duration interval) {
        this.calls = calls;
        this.prrn = prrn;
        this.interval = interval;
    }

    /**
     * Starts scanning when the boot tree's /rtas has event-scan and a nonzero rtas-event-scan-rate (scans per
     * minute); otherwise returns null and nothing runs.
     */
    public static RtasEventScan startIfOffered(KernelCalls calls, GuestDeviceTree tree, PrrnWorker prrn) {
        Objects.requireNonNull(prrn, "prrn");
        byte[] token = tree.property("/rtas", RtasService.EVENT_SCAN);
        byte[] rate = tree.property("/rtas", "rtas-event-scan-rate");
        List<Integer> perMinute = rate == null ? List.of() : CpuTopology.cells(rate);
        if (token == null || perMinute.isEmpty() || perMinute.get(0) <= 0) {
            return null;
        }
        RtasEventScan s = new RtasEventScan(calls, prrn, Duration.ofMillis(60_000L / perMinute.get(0)));
        s.task = calls.machine().spawn("rtasd-scan", s::run);
        LOG.info("RTAS event scan every {} ms", s.interval.toMillis());
        return s;
    }

    private void run() {
        while (!stopped) {
            doEventScan();
            calls.machine().msleep(interval);
        }
    }

    /**
     * {@code do_event_scan}: event-scan for every event class until it reports none (or fails); each log found is
     * handled.
     *
     * @return the logs found
     */
    int doEventScan() {
        return calls.machine().onCpu(() -> {
            int found = 0;
            while (true) {
                RtasResult r = calls.rtas(RtasService.EVENT_SCAN,
                        new long[] {RtasService.EVENT_SCAN_ALL_EVENTS, 0, LOG_BUFFER_PA, LOG_MAX}, new byte[LOG_MAX]);
                scans.incrementAndGet();
                if (r.status() != RtasStatus.SUCCESS) {
                    if (r.status() != RtasService.EVENT_SCAN_NONE) {
                        LOG.error("event-scan failed: {}", RtasStatus.name(r.status()));
                    }
                    return found;
                }
                found++;
                handleRtasEvent(RtasErrorLog.decode(r.workArea()));
            }
        });
    }

    /** {@code handle_rtas_event}: a PRRN log goes to the PRRN worker with its scope; anything else is logged. */
    private void handleRtasEvent(RtasErrorLog log) {
        if (log.type() == RtasErrorLog.TYPE_PRRN) {
            prrnLogs.incrementAndGet();
            prrn.onPrrnEvent(new PrrnEvent(0, log.extendedLogLength()));
        } else {
            LOG.info("RTAS event type 0x{} severity {}", Integer.toHexString(log.type()), log.severity());
        }
    }

    /** event-scan calls made. */
    public long scans() {
        return scans.get();
    }

    /** PRRN logs received. */
    public long prrnLogs() {
        return prrnLogs.get();
    }

    @Override
    public void close() {
        stopped = true;
        if (task != null) {
            task.interrupt();
        }
    }
}
