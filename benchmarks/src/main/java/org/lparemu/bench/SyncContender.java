package org.lparemu.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * A blocking client making one call at a time for a fixed time; every round trip's latency goes into an
 * HdrHistogram. Reports p50 / p99 in microseconds and calls per second.
 */
public final class SyncContender implements Interleaved.Contender {
    /** One blocking call with the given call id; throws when the reply is wrong. */
    @FunctionalInterface
    public interface Call {
        void call(long callId) throws Exception;
    }

    private final String label;
    private final Call call;
    private final AutoCloseable resource;
    private final Duration warmup;
    private final Duration measure;
    private final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(30), 3);
    private long nextId = 1;

    public SyncContender(String label, Call call, AutoCloseable resource, Sizes sizes) {
        this.label = label;
        this.call = call;
        this.resource = resource;
        this.warmup = sizes.syncWarmup();
        this.measure = sizes.syncMeasure();
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public Map<String, Double> measure(boolean isWarmup) throws Exception {
        histogram.reset();
        long start = System.nanoTime();
        long deadline = start + (isWarmup ? warmup : measure).toNanos();
        long calls = 0;
        long now = start;
        while (now < deadline) {
            long t0 = now;
            call.call(nextId++);
            now = System.nanoTime();
            histogram.recordValue(now - t0);
            calls++;
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("p50_us", histogram.getValueAtPercentile(50) / 1000.0);
        m.put("p99_us", histogram.getValueAtPercentile(99) / 1000.0);
        m.put("calls_per_s", calls / ((now - start) / 1e9));
        return m;
    }

    @Override
    public void close() {
        if (resource != null) {
            try {
                resource.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + label() + " failed", e);
            }
        }
    }
}
