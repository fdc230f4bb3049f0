package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * User-space load on the NX-GZIP device: N task threads ({@code task-0}, {@code task-1}, ... so that traces and
 * fault rules see task names) that open windows, paste to them and close them at a given rate, or hold K windows
 * open and keep pasting. All randomness comes from one seed (printed by {@link #toString()}): task i draws from
 * its own {@link Random} derived from it, so a task's choices repeat from run to run even though thread
 * interleavings do not.
 */
public final class Workload {
    private static final Logger LOG = LoggerFactory.getLogger(Workload.class);
    /** Longest a task sleeps before re-checking whether it should stop. */
    private static final Duration STOP_CHECK = Duration.ofMillis(10);

    /** What each task does. */
    public enum Mode {
        /** Open a window, paste {@code pastesPerWindow} times, close it, wait one period; repeat. */
        CHURN,
        /** Keep this task's share of {@code keepOpen} windows open, paste once to each every period. */
        KEEP_OPEN
    }

    /**
     * One workload part.
     *
     * @param tasks           number of task threads (at least 1)
     * @param mode            what tasks do
     * @param keepOpen        KEEP_OPEN: windows held over all tasks
     * @param opsPerSecond    periods per second per task, in guest time; 0 means no pause (yield only)
     * @param pastesPerWindow CHURN: pastes between open and close
     * @param maxPasteBytes   request length is drawn from 1..maxPasteBytes
     * @param qos             ask for QoS credits instead of Default
     * @param vasId           vas_id for the open ioctl (-1 = near the task's vCPU)
     * @param seed            the one source of randomness
     */
    public record Spec(int tasks, Mode mode, int keepOpen, double opsPerSecond, int pastesPerWindow, int maxPasteBytes,
                       boolean qos, int vasId, long seed) {
        public Spec {
            Objects.requireNonNull(mode, "mode");
            if (tasks < 1 || keepOpen < 0 || opsPerSecond < 0 || pastesPerWindow < 0 || maxPasteBytes < 1) {
                throw new IllegalArgumentException("bad workload spec: tasks " + tasks + ", keepOpen " + keepOpen
                        + ", opsPerSecond " + opsPerSecond + ", pastesPerWindow " + pastesPerWindow + ", maxPasteBytes " + maxPasteBytes);
            }
        }

        public static Spec churn(int tasks, double opsPerSecond, long seed) {
            return new Spec(tasks, Mode.CHURN, 0, opsPerSecond, 4, 65536, false, -1, seed);
        }

        public static Spec keepOpen(int tasks, int windows, double opsPerSecond, long seed) {
            return new Spec(tasks, Mode.KEEP_OPEN, windows, opsPerSecond, 0, 65536, false, -1, seed);
        }

        public Spec withQos(boolean q) {
            return new Spec(tasks, mode, keepOpen, opsPerSecond, pastesPerWindow, maxPasteBytes, q, vasId, seed);
        }
    }

    /** Totals since start. {@code windowsHeld} is how many windows tasks hold right now. */
    public record Summary(long seed, long opensOk, Map<String, Long> openFailures, long pastesOk, long pastesFailed,
                          long closes, long closeFailures, long taskCrashes, int windowsHeld) {
        public long opensFailed() {
            long n = 0;
            for (long v : openFailures.values()) {
                n += v;
            }
            return n;
        }
    }

    private final NxGzipDevice device;
    private final GuestClock clock;
    private final Spec spec;

    private final LongAdder opensOk = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> openFailures = new ConcurrentHashMap<>();
    private final LongAdder pastesOk = new LongAdder();
    private final LongAdder pastesFailed = new LongAdder();
    private final LongAdder closes = new LongAdder();
    private final LongAdder closeFailures = new LongAdder();
    private final LongAdder taskCrashes = new LongAdder();
    private final AtomicInteger held = new AtomicInteger();

    private volatile boolean running;
    /** Written by start() under the object monitor; read by stop() under it. */
    @GuardedBy("this")
    private final List<Thread> threads = new ArrayList<>();

    /** How long {@link #stop()} waits for the tasks. */
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

    public Workload(GuestKernel kernel, Spec spec) {
        this(kernel.nxGzip(), kernel.config().clock(), spec);
    }

    /** Tasks are user processes: each syscall on the device takes a vCPU for its duration (see NxGzipDevice). */
    public Workload(NxGzipDevice device, GuestClock clock, Spec spec) {
        this.device = Objects.requireNonNull(device, "device");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    public Spec spec() {
        return spec;
    }

    /** Starts the task threads. @throws IllegalStateException when already started */
    public synchronized void start() {
        if (!threads.isEmpty()) {
            throw new IllegalStateException("workload already started");
        }
        running = true;
        LOG.info("starting {}", this);
        for (int i = 0; i < spec.tasks(); i++) {
            final int index = i;
            final Random rnd = new Random(spec.seed() + 0x9E3779B97F4A7C15L * (i + 1));
            Thread t = new Thread(() -> runTask(index, rnd), "task-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    /**
     * Asks the tasks to stop (each closes the windows it holds) and waits for them up to {@code timeout} of real
     * time in total. A task blocked in an hcall (for example one the platform is holding) stops after it returns.
     *
     * @return true when every task has stopped
     */
    public synchronized boolean stop(Duration timeout) throws InterruptedException {
        running = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, left / 1_000_000));
            }
        }
        for (Thread t : threads) {
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #stop(Duration)} with {@link #DEFAULT_STOP_TIMEOUT}; an interrupt ends the wait (the interrupt
     * status is kept) and counts as not stopped.
     */
    public boolean stop() {
        try {
            return stop(DEFAULT_STOP_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public Summary summary() {
        Map<String, Long> failures = new TreeMap<>();
        openFailures.forEach((k, v) -> failures.put(k, v.sum()));
        return new Summary(spec.seed(), opensOk.sum(), failures, pastesOk.sum(), pastesFailed.sum(), closes.sum(),
                closeFailures.sum(), taskCrashes.sum(), held.get());
    }

    private void runTask(int index, Random rnd) {
        int share = spec.keepOpen() / spec.tasks() + (index < spec.keepOpen() % spec.tasks() ? 1 : 0);
        List<Long> mine = new ArrayList<>();
        try {
            while (running) {
                if (spec.mode() == Mode.CHURN) {
                    long h = openOne();
                    if (h > 0) {
                        for (int p = 0; p < spec.pastesPerWindow() && running; p++) {
                            pasteOne(h, rnd);
                        }
                        closeOne(h);
                    }
                } else {
                    while (running && mine.size() < share) {
                        long h = openOne();
                        if (h <= 0) {
                            break;
                        }
                        mine.add(h);
                    }
                    for (long h : mine) {
                        pasteOne(h, rnd);
                    }
                }
                if (!pace()) {
                    break;
                }
            }
        } catch (RuntimeException e) {
            // The port went away or the device misbehaved: this task ends, the others go on.
            taskCrashes.increment();
            LOG.error("task-{} stopped: {}", index, e.toString());
        } finally {
            for (long h : mine) {
                try {
                    closeOne(h);
                } catch (RuntimeException e) {
                    LOG.warn("task-{}: closing handle {} failed: {}", index, h, e.toString());
                }
            }
        }
    }

    private long openOne() {
        NxGzipDevice.OpenResult r = device.open(spec.qos(), spec.vasId());
        if (r.ok()) {
            opensOk.increment();
            held.incrementAndGet();
            return r.handle();
        }
        openFailures.computeIfAbsent(r.error(), k -> new LongAdder()).increment();
        return -1;
    }

    private void pasteOne(long h, Random rnd) {
        if (device.paste(h, 1 + rnd.nextInt(spec.maxPasteBytes()))) {
            pastesOk.increment();
        } else {
            pastesFailed.increment();
        }
    }

    private void closeOne(long h) {
        held.decrementAndGet();
        closes.increment();
        if (device.close(h) != 0) {
            closeFailures.increment();
        }
    }

    /**
     * Waits one period of guest time, in slices, so that stop() is noticed promptly.
     *
     * @return false when this task was interrupted and should end
     */
    @SuppressWarnings("ThreadPriorityCheck") // an unpaced task yields between operations, like a busy process
    private boolean pace() {
        if (spec.opsPerSecond() <= 0) {
            Thread.yield();
            return true;
        }
        long periodNanos = (long) (1e9 / spec.opsPerSecond());
        long end = clock.nanoTime() + periodNanos;
        try {
            while (running) {
                long left = end - clock.nanoTime();
                if (left <= 0) {
                    return true;
                }
                clock.sleep(Duration.ofNanos(Math.min(left, STOP_CHECK.toNanos())));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String toString() {
        return "Workload[seed=" + spec.seed() + ", tasks=" + spec.tasks() + ", mode=" + spec.mode()
                + (spec.mode() == Mode.KEEP_OPEN ? ", keepOpen=" + spec.keepOpen() : ", pastesPerWindow=" + spec.pastesPerWindow())
                + ", opsPerSecond=" + spec.opsPerSecond() + ", qos=" + spec.qos() + ", vasId=" + spec.vasId() + "]";
    }
}
