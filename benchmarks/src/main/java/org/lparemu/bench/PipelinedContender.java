package org.lparemu.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.lparemu.bench.wire.ClosedLoopLoad;

/**
 * A closed-loop pipelined load measured for a fixed time: start, let every connection reach full depth
 * (ramp), count completions over the measured window, stop and drain. Reports calls per second and the
 * per-call latency percentiles (queueing under the deep window, not service time: in flight / rate).
 */
public final class PipelinedContender implements Interleaved.Contender {
    private final String label;
    private final ClosedLoopLoad load;
    private final Duration warmup;
    private final Duration ramp;
    private final Duration measure;
    private final Recorder recorder = new Recorder(3);

    public PipelinedContender(String label, ClosedLoopLoad load, Sizes sizes) {
        this.label = label;
        this.load = load;
        this.warmup = sizes.pipeWarmup();
        this.ramp = sizes.pipeRamp();
        this.measure = sizes.pipeMeasure();
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public Map<String, Double> measure(boolean isWarmup) throws Exception {
        load.start(recorder);
        waitUntil(System.nanoTime() + ramp.toNanos());
        long c0 = load.completed();
        recorder.getIntervalHistogram(); // discard the ramp
        long t0 = System.nanoTime();
        waitUntil(t0 + (isWarmup ? warmup : measure).toNanos());
        long c1 = load.completed();
        // A pause (GC, a busy machine) can cover a short window entirely: extend it until at least one call
        // completed, so a rate is never computed from nothing. Full-size windows are far longer than any pause.
        while (c1 == c0 && load.errors() == 0) {
            LockSupport.parkNanos(1_000_000);
            c1 = load.completed();
        }
        long t1 = System.nanoTime();
        Histogram h = recorder.getIntervalHistogram();
        load.stop().get(30, TimeUnit.SECONDS);
        if (load.errors() > 0) {
            throw new IllegalStateException(label + ": " + load.errors() + " calls failed or answered wrongly; first: "
                    + load.firstError());
        }
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("calls_per_s", (c1 - c0) / ((t1 - t0) / 1e9));
        m.put("p50_us", h.getValueAtPercentile(50) / 1000.0);
        m.put("p99_us", h.getValueAtPercentile(99) / 1000.0);
        return m;
    }

    /** Harness pacing: park until the deadline (no work is waited for here). */
    private static void waitUntil(long deadline) {
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    public void close() {
        load.close();
    }
}
