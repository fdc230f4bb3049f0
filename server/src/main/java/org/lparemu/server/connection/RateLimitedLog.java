package org.lparemu.server.connection;

import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * INFO lines that a client can cause once per connection (opened, bound, closed), at most {@link #BURST} per
 * {@link #WINDOW_NANOS}: a flood of connections cannot flood the log. Lines beyond the burst are counted, and
 * the next line that is written after the window turns says how many were left out. Thread-safe.
 */
public final class RateLimitedLog {
    /** Lines written per window. */
    public static final int BURST = 20;
    /** The window: ten seconds. */
    public static final long WINDOW_NANOS = 10_000_000_000L;

    private final Logger log;
    private final LongSupplier nanoTime;
    private long windowStart;
    private int written;
    private long suppressed;

    public RateLimitedLog(Logger log) {
        this(log, System::nanoTime);
    }

    RateLimitedLog(Logger log, LongSupplier nanoTime) {
        this.log = log;
        this.nanoTime = nanoTime;
        this.windowStart = nanoTime.getAsLong();
    }

    /** Logs at INFO unless this window's burst is spent. */
    public void info(String format, Object... args) {
        long dropped;
        synchronized (this) {
            long now = nanoTime.getAsLong();
            if (now - windowStart >= WINDOW_NANOS) {
                windowStart = now;
                written = 0;
            }
            if (written >= BURST) {
                suppressed++;
                return;
            }
            written++;
            dropped = suppressed;
            suppressed = 0;
        }
        if (dropped > 0) {
            log.info("({} connection log line(s) left out: more than {} per {} s)", dropped, BURST,
                    WINDOW_NANOS / 1_000_000_000L);
        }
        log.info(format, args);
    }

    /** Lines left out and not yet reported. */
    public synchronized long suppressed() {
        return suppressed;
    }
}
