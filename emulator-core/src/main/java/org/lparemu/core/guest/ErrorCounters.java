package org.lparemu.core.guest;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.lparemu.core.papr.Errno;

/**
 * Failed guest operations counted by the code they failed with ({@code EBUSY}, {@code EIO}, or a PAPR status
 * name for the raw-status path). Lock-free; shared by all guest components of one kernel.
 */
public final class ErrorCounters {
    private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

    /** Counts a negative (or positive) errno; 0 is not an error and is ignored. */
    public void errno(int rc) {
        if (rc != 0) {
            count(VasException.errorName(rc, false));
        }
    }

    public void count(String name) {
        counts.computeIfAbsent(name, k -> new LongAdder()).increment();
    }

    public long get(String name) {
        LongAdder a = counts.get(name);
        return a == null ? 0 : a.sum();
    }

    public long get(Errno e) {
        return get(e.name());
    }

    /** A sorted snapshot. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
