package org.lparemu.server.connection;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Logs each distinct kind of error once (with its first message), then only counts repeats, so a client
 * that sends garbage in a loop cannot flood the log with a stack trace per frame (after Agrona's
 * DistinctErrorLog). Kinds are bounded: past {@link #MAX_KINDS} new kinds are counted under "other".
 */
public final class DistinctErrorLog {
    public static final int MAX_KINDS = 256;
    private final Logger log;
    private final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();

    public DistinctErrorLog(Logger log) {
        this.log = log;
    }

    /** Records one error of {@code kind}; logs it at WARN the first time only. Returns the count so far. */
    public long record(String kind, String message) {
        String key = counts.size() >= MAX_KINDS && !counts.containsKey(kind) ? "other" : kind;
        AtomicLong c = counts.computeIfAbsent(key, k -> new AtomicLong());
        long n = c.incrementAndGet();
        if (n == 1) {
            log.warn("{}: {} (further occurrences are counted, not logged)", key, message);
        } else if (log.isDebugEnabled()) {
            log.debug("{} #{}: {}", key, n, message);
        }
        return n;
    }

    /** Counts by kind, sorted. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public long total() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }
}
