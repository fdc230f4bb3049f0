package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.google.protobuf.ByteString;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.guest.Workload;
import org.lparemu.core.hypervisor.PartitionTrees;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.port.GuestReport;
import org.lparemu.proto.v1.AwaitEvent;
import org.lparemu.proto.v1.AwaitMigration;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.MigrateResult;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.Property;
import org.lparemu.server.EmbeddedDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * A bounded soak: many partitions, each with its own guest kernel over its own guest socket running a mix of
 * keep-open and churning NX-GZIP workloads, half under UPSTREAM and half under HOLD_MUTEX (both with
 * DRAIN_BEFORE_SUSPEND, the correct algorithms), while a seeded operator keeps starting migrations, PRRNs
 * (a core's {@code ibm,associativity}, the {@code ibm,dynamic-memory} LMB list), DLPAR core changes (1..4
 * cores) and QoS credit changes on random partitions, each awaited through its guest's ack.
 *
 * <p>The operator plays both the HMC and the platform: HMC operations on one partition (migrate, DLPAR, QoS)
 * are serialised, one in flight at a time, as an HMC does; PRRNs come from the platform at any moment,
 * including in the middle of a migration of the same partition.
 *
 * <p>Phases: setup (create partitions over the control port, boot the guests, start the workloads); warm-up
 * (every partition once through every action, so every lazily started guest worker thread exists, then the
 * baseline of threads and heap); the soak proper; drain (stop issuing, await every action); the end figures
 * of threads and heap, measured like the baseline (workloads running, no action in flight, after
 * {@code System.gc()}); quiescence (stop the workloads, await every pending event's ack); then the checks:
 * every migration succeeded, enough migrations and PRRNs happened, {@code CheckInvariants} finds nothing on
 * any partition (no leaked window, guest trees equal to the platform's), the guest kernels' own invariants
 * hold, no window is left in the hypervisor, threads and heap are flat, and nothing under {@code org.lparemu}
 * logged at ERROR.
 *
 * <p>The operator's action sequence is a function of the seed alone: it draws every action up front from the seed,
 * an HMC action on a partition whose previous HMC action is still under way waits for it (as an HMC queues them)
 * instead of being skipped, and a quarter of the migrations are followed at once by a PRRN to the same partition,
 * which then arrives while it migrates by construction. Only the timing of the guests' own workloads is left to
 * the machine.
 *
 * <p>Size: {@code -Dlparemu.soak.seconds=S} (default 60) at {@code -Dlparemu.soak.rate=R} operator actions per
 * second (default 24) gives the number of actions (S x R); {@code -Dlparemu.soak.partitions=N} (default 50);
 * seed: {@code -Dlparemu.soak.seed=N}, pinned unless {@code -Pstress} draws a fresh one (printed, and in every
 * assertion message).
 */
class SoakTest {
    static final long SEED = Seeds.of("lparemu.soak.seed", 0x50A4_2026_1202L);
    /** One thread per core: each partition's vCPUs follow its cores through DLPAR. */
    static final int THREADS_PER_CORE = 1;
    static final int SECONDS = Integer.getInteger("lparemu.soak.seconds", 60);
    static final int PARTITIONS = Integer.getInteger("lparemu.soak.partitions", 50);
    static final String REPRO = "seed " + SEED + " (replay: -Dlparemu.soak.seed=" + SEED + " -Dlparemu.soak.seconds="
            + SECONDS + " -Dlparemu.soak.partitions=" + PARTITIONS + " -Dlparemu.soak.rate="
            + System.getProperty("lparemu.soak.rate", "24") + ")";

    /** Real seconds per guest second: the guests' VASI polls and back-offs run 100 times faster. */
    static final double CLOCK_SCALE = 0.01;
    /** Operator actions started per second, over all partitions. */
    static final double ACTIONS_PER_SECOND = Double.parseDouble(System.getProperty("lparemu.soak.rate", "24"));
    /** Longest wait for one event's ack or one migration's end. */
    static final Duration ACK_WAIT = Duration.ofSeconds(30);
    /**
     * The trace ring is bounded; a small one is full by the end of the warm-up, so that the heap baseline
     * already holds a full ring and heap growth measures leaks, not the ring filling up.
     */
    static final int TRACE_CAPACITY = 1 << 13;
    static final long ORCHESTRATOR_READY_MS = 100;
    static final long BLACKOUT_MS = 50;
    static final long TRANSFER_MS = 100;
    static final int MAX_CORES = 4;
    static final int MAX_QOS = 8;
    /** The operator's actions, drawn up front from the seed. */
    static final int ACTIONS = (int) Math.round(SECONDS * ACTIONS_PER_SECOND);
    /** Threads allowed above the baseline at the end. */
    static final int THREAD_MARGIN = 8;
    /** Heap after GC at the end, relative to the baseline (a leak of a few bytes per action grows it far more). */
    static final double HEAP_FACTOR = 2.0;

    /** One partition with its guest, as the operator sees it. */
    static final class Lpar {
        final String name;
        final VasPolicy policy;
        final int keepOpen;
        final boolean qosChurn;
        GuestConnection conn;
        GuestKernel kernel;
        final List<Workload> workloads = new ArrayList<>();
        /** The last migration, DLPAR or QoS change: the next one waits for it (one HMC action in flight). */
        volatile CompletableFuture<?> hmcDone = CompletableFuture.completedFuture(null);
        /** Cores in the hypervisor (the operator thread's view; DLPAR changes them synchronously). */
        int cores = 2;
        final LongAdder migrations = new LongAdder();

        Lpar(String name, VasPolicy policy, int keepOpen, boolean qosChurn) {
            this.name = name;
            this.policy = policy;
            this.keepOpen = keepOpen;
            this.qosChurn = qosChurn;
        }
    }

    enum Action { MIGRATE, PRRN, DLPAR, QOS }

    /** One drawn operator action; a migration may be followed at once by a PRRN to the same partition. */
    record Step(Action action, int partition, boolean prrnDuringMigration) {
    }

    private final SplittableRandom rnd = new SplittableRandom(SEED);
    private final List<Lpar> lpars = new ArrayList<>();
    private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final Map<Action, LongAdder> started = new ConcurrentHashMap<>();
    private final Map<Action, LongAdder> acked = new ConcurrentHashMap<>();
    private final LongAdder migrationsOk = new LongAdder();
    private final LongAdder suspendRetries = new LongAdder();
    private final LongAdder waitedForHmc = new LongAdder();
    private final LongAdder prrnsDuringMigration = new LongAdder();
    private EmbeddedDaemon d;
    private ControlClient c;

    @Test
    @Timeout(value = 6, unit = TimeUnit.HOURS) // bounded inside: every wait below has its own limit
    void partitionsSurviveMigrationsPrrnsDlparAndQosUnderLoad() throws Exception {
        System.out.println("SoakTest: " + REPRO + ", " + PARTITIONS + " partitions, " + ACTIONS + " actions over about "
                + SECONDS + " s");
        for (Action a : Action.values()) {
            started.put(a, new LongAdder());
            acked.put(a, new LongAdder());
        }
        // Capture org.lparemu at WARN and above whatever the logging configuration on the class path says (the
        // core module's own test configuration turns it off), into the list only: the console stays quiet.
        Logger lparemu = (Logger) LoggerFactory.getLogger("org.lparemu");
        Level level = lparemu.getLevel();
        boolean additive = lparemu.isAdditive();
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        lparemu.addAppender(logs);
        lparemu.setLevel(Level.WARN);
        lparemu.setAdditive(false);
        d = EmbeddedDaemon.start(config());
        long t0 = System.nanoTime();
        try {
            c = d.control();
            setUp();
            long setupDone = System.nanoTime();

            warmUp();
            RawConn.await("the trace ring is full, " + REPRO, ACK_WAIT,
                    () -> d.platform().trace().nextSeq() > TRACE_CAPACITY);
            int threadsBefore = threads();
            long heapBefore = usedHeapAfterGc();
            long warmDone = System.nanoTime();
            System.out.printf("SoakTest: setup %.1f s, warm-up %.1f s; baseline %d threads, heap %d MiB%n",
                    secs(setupDone - t0), secs(warmDone - setupDone), threadsBefore, heapBefore >> 20);

            List<Step> plan = plan();
            soak(plan);
            drain();
            long soakDone = System.nanoTime();
            int threadsAfter = threads();
            long heapAfter = usedHeapAfterGc();

            quiesce();
            String figures = String.format("soak %.1f s (counts include the warm-up): %s started, %s acked, "
                            + "%d migrations ok (%d suspend retries), "
                    + "%d PRRNs issued during a migration, %d HMC actions waited for the previous one; %s; "
                    + "%d WARN log lines; threads %d -> %d, heap %d -> %d MiB, %s", secs(soakDone - warmDone),
                    counts(started),
                    counts(acked), migrationsOk.sum(), suspendRetries.sum(), prrnsDuringMigration.sum(),
                    waitedForHmc.sum(), workloadFigures(), warnings(logs), threadsBefore, threadsAfter, heapBefore >> 20,
                    heapAfter >> 20, REPRO);
            System.out.println("SoakTest: " + figures);

            assertEquals(List.of(), new ArrayList<>(failures), "operator actions that failed; " + figures);
            long migrations = started.get(Action.MIGRATE).sum();
            assertEquals(migrations, migrationsOk.sum(), "every migration succeeded; " + figures);
            // Every drawn action ran (the warm-up adds one migration and one PRRN per partition).
            assertEquals(planned(plan, Action.MIGRATE) + PARTITIONS, migrations, "every drawn migration; " + figures);
            assertEquals(planned(plan, Action.PRRN) + plan.stream().filter(Step::prrnDuringMigration).count() + PARTITIONS,
                    started.get(Action.PRRN).sum(), "every drawn PRRN; " + figures);
            assertEquals(planned(plan, Action.DLPAR) + PARTITIONS, started.get(Action.DLPAR).sum(), "every drawn DLPAR; "
                    + figures);
            assertEquals(planned(plan, Action.QOS) + PARTITIONS, started.get(Action.QOS).sum(), "every drawn QoS change; "
                    + figures);
            assertEquals(plan.stream().filter(Step::prrnDuringMigration).count(), prrnsDuringMigration.sum(),
                    "the PRRNs sent in the middle of a migration; " + figures);
            assertTrue(prrnsDuringMigration.sum() > 0, "the plan sends some PRRNs in the middle of a migration; " + figures);
            for (Action a : Action.values()) {
                assertEquals(started.get(a).sum(), acked.get(a).sum(), "every " + a + " acked; " + figures);
            }
            checkEveryPartition(figures);
            assertTrue(threadsAfter <= threadsBefore + THREAD_MARGIN, "threads " + threadsBefore + " -> " + threadsAfter
                    + " (margin " + THREAD_MARGIN + "); " + figures);
            assertTrue(heapAfter <= heapBefore * HEAP_FACTOR, "heap " + heapBefore + " -> " + heapAfter + " bytes (at most "
                    + HEAP_FACTOR + "x); " + figures);
            // The guest kernels' pr_err lines are emulated kernel output, not daemon failures: an open that meets a
            // core removal between the hypervisor lowering its target and the notifier reconfiguring VAS is
            // refused (H_CONSTRAINED -> EIO) on real hardware too. They are counted; the daemon must log none.
            List<ILoggingEvent> errorLines = logged(logs).stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR))
                    .toList();
            long guestPrintk = errorLines.stream().filter(e -> e.getLoggerName().startsWith("org.lparemu.core.guest"))
                    .count();
            List<String> errors = errorLines.stream().filter(e -> !e.getLoggerName().startsWith("org.lparemu.core.guest"))
                    .map(e -> e.getLoggerName() + " [" + e.getThreadName() + "]: " + e.getFormattedMessage()).toList();
            assertEquals(List.of(), errors, "daemon ERROR log lines (" + guestPrintk + " guest kernel pr_err lines "
                    + "not counted); " + figures);
        } finally {
            tearDown();
            lparemu.detachAppender(logs);
            lparemu.setLevel(level);
            lparemu.setAdditive(additive);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // setup

    private void setUp() {
        for (int i = 0; i < PARTITIONS; i++) {
            // Half UPSTREAM, half HOLD_MUTEX; every fifth partition keeps more windows open than one core's
            // credits cover, so removing cores makes its guest close windows and adding them reopens them.
            VasPolicy policy = i % 2 == 0 ? VasPolicy.UPSTREAM : VasPolicy.HOLD_MUTEX;
            int keepOpen = i % 5 == 0 ? 22 : 2;
            Lpar p = new Lpar(String.format("soak-%02d", i), policy, keepOpen, i % 3 == 0);
            PartitionState s = c.createPartition(PartitionSpec.newBuilder().setName(p.name)
                    .setVcpus(p.cores * THREADS_PER_CORE).setCores(p.cores).setQosCredits(4).build());
            assertEquals(p.cores, s.getSpec().getCores(), REPRO);
            lpars.add(p);
        }
        for (Lpar p : lpars) {
            p.conn = d.guest(p.name);
            p.kernel = GuestKernel.boot(p.conn, new GuestConfig(p.policy, PrrnPolicy.DRAIN_BEFORE_SUSPEND,
                    new SystemGuestClock(CLOCK_SCALE), p.name));
            // User space paces itself in real time: on the kernel's scaled clock a task's 10 ms stop-check slices
            // would shrink to 100 us and a hundred tasks would spend the two cores waking up.
            List<Workload.Spec> specs = new ArrayList<>();
            specs.add(Workload.Spec.keepOpen(1, p.keepOpen, p.keepOpen > 2 ? 0.5 : 4, rnd.nextLong()));
            specs.add(Workload.Spec.churn(1, 2, rnd.nextLong()).withQos(p.qosChurn));
            for (Workload.Spec spec : specs) {
                Workload w = new Workload(p.kernel.nxGzip(), SystemGuestClock.realTime(), spec);
                p.workloads.add(w);
                w.start();
            }
        }
    }

    /**
     * The default systems, no configured partition, the small trace ring, and a migration that takes a while
     * (the orchestrator, the blackout and the memory transfer each take some time), so that workloads, PRRNs
     * and other partitions' actions overlap it.
     */
    static PlatformConfig config() {
        PlatformConfig base = PlatformConfig.defaults();
        PlatformConfig.Limits l = base.limits();
        PlatformConfig.HypervisorOptions h = base.hypervisor();
        return base.withPartitions(List.of())
                .withLimits(l.withTraceCapacity(TRACE_CAPACITY))
                .withHypervisor(new PlatformConfig.HypervisorOptions(h.suspendWithWindows(), h.suspendRefusalStatus(),
                        h.overCreditStatus(), ORCHESTRATOR_READY_MS, BLACKOUT_MS, TRANSFER_MS, h.migrationTimeoutMs(),
                        h.updateNodesBatch(), h.updatePropertiesBytes()));
    }

    /** Every partition once through every action, so that every guest worker thread exists before the baseline. */
    private void warmUp() throws Exception {
        long t = System.nanoTime();
        for (Lpar p : lpars) {
            prrn(p);
            qos(p);
        }
        drain();
        long t1 = System.nanoTime();
        for (Lpar p : lpars) {
            migrate(p);
        }
        drain();
        long t2 = System.nanoTime();
        for (Lpar p : lpars) {
            dlpar(p);
        }
        drain();
        System.out.printf("SoakTest: warm-up PRRN+QoS %.1f s, migrations %.1f s, DLPAR %.1f s%n", secs(t1 - t),
                secs(t2 - t1), secs(System.nanoTime() - t2));
        // The workloads are still running: the guest oracle (windows against the guest's list) is meant for
        // quiescence and waits for the end; the hypervisor and device-tree oracles hold now already.
        InvariantReport r = c.checkInvariants("", ACK_WAIT);
        assertEquals(List.of(), describe(r).stream().filter(v -> !v.startsWith("guest ")).toList(),
                "after the warm-up, " + REPRO);
        assertEquals(List.of(), new ArrayList<>(failures), "warm-up actions that failed, " + REPRO);
    }

    // ---------------------------------------------------------------------------------------------
    // the operator

    /** The whole action sequence, from the seed alone. */
    private List<Step> plan() {
        List<Step> plan = new ArrayList<>();
        for (int i = 0; i < ACTIONS; i++) {
            int p = rnd.nextInt(PARTITIONS);
            int roll = rnd.nextInt(100);
            Action a = roll < 30 ? Action.MIGRATE : roll < 65 ? Action.PRRN : roll < 85 ? Action.DLPAR : Action.QOS;
            plan.add(new Step(a, p, a == Action.MIGRATE && rnd.nextInt(4) == 0));
        }
        return plan;
    }

    private static long planned(List<Step> plan, Action a) {
        return plan.stream().filter(s -> s.action() == a).count();
    }

    /** Runs the plan at the configured rate (a slow machine takes longer; the sequence stays the same). */
    private void soak(List<Step> plan) {
        long periodNanos = (long) (1e9 / ACTIONS_PER_SECOND);
        long next = System.nanoTime();
        for (Step step : plan) {
            if (!failures.isEmpty()) {
                return;
            }
            Lpar p = lpars.get(step.partition());
            switch (step.action()) {
                case MIGRATE -> {
                    migrate(p);
                    if (step.prrnDuringMigration()) {
                        // The platform is still in the orchestrator's first delay: the PRRN lands mid-migration.
                        prrnsDuringMigration.increment();
                        prrn(p);
                    }
                }
                case PRRN -> prrn(p);
                case DLPAR -> dlpar(p);
                case QOS -> qos(p);
            }
            next += periodNanos;
            long left = next - System.nanoTime();
            if (left > 0) {
                LockSupport.parkNanos(left);
            }
        }
    }

    /** The partition's previous HMC action must be over before the next starts (an HMC queues them). */
    private void awaitHmc(Lpar p) {
        CompletableFuture<?> previous = p.hmcDone;
        if (previous.isDone()) {
            return;
        }
        waitedForHmc.increment();
        try {
            previous.handle((v, e) -> null).get(3 * ACK_WAIT.toSeconds() + ControlClient.GRACE.toSeconds(),
                    TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + p.name + "'s HMC action, " + REPRO, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(p.name + "'s previous HMC action did not end, " + REPRO, e);
        }
    }

    private void migrate(Lpar p) {
        awaitHmc(p);
        String what = "migrate " + p.name;
        MigrateResult m;
        try {
            m = c.migrate(p.name, "");
        } catch (RuntimeException e) {
            fail(what, e);
            return;
        }
        started.get(Action.MIGRATE).increment();
        p.migrations.increment();
        track(awaitAck(m.getEventId(), what + " (event " + m.getEventId() + ")", Action.MIGRATE)
                .thenCompose(ack -> awaitMigration(p.name))
                .thenAccept(o -> {
                    if (o.getSuccess()) {
                        migrationsOk.increment();
                        suspendRetries.add(Math.max(0, o.getRtasStatusesCount() - 1));
                    } else {
                        failures.add(what + " stream " + m.getStreamId() + " did not succeed: " + o + ", " + REPRO);
                    }
                }), p, what);
    }

    private void prrn(Lpar p) {
        List<DeviceTreeChange> changes = new ArrayList<>();
        int kind = rnd.nextInt(3);
        if (kind != 1) {
            int core = rnd.nextInt(p.cores);
            int domain = rnd.nextInt(64);
            changes.add(set(PartitionTrees.cpuPath(core, THREADS_PER_CORE), "ibm,associativity",
                    cells(4, domain, domain + core / 4, domain * 64 + core, domain * 64 + core)));
        }
        if (kind != 0) {
            changes.add(set("/ibm,dynamic-reconfiguration-memory", "ibm,dynamic-memory", lmbList()));
        }
        String what = "prrn " + p.name + " " + changes.stream().map(ch -> ch.getPath() + ":"
                + ch.getSetProperty().getName()).toList();
        long event;
        try {
            event = c.prrn(p.name, changes).getEventId();
        } catch (RuntimeException e) {
            fail(what, e);
            return;
        }
        started.get(Action.PRRN).increment();
        track(awaitAck(event, what + " (event " + event + ")", Action.PRRN), null, what);
    }

    private void dlpar(Lpar p) {
        awaitHmc(p);
        boolean add = p.cores == 1 || (p.cores < MAX_CORES && rnd.nextBoolean());
        int n = 1 + rnd.nextInt(add ? MAX_CORES - p.cores : p.cores - 1);
        String what = "dlpar " + p.name + (add ? " add " : " remove ") + n + " (from " + p.cores + ")";
        DlparCpuResult r;
        try {
            r = c.dlparCpu(p.name, add, n);
        } catch (RuntimeException e) {
            fail(what, e);
            return;
        }
        p.cores = r.getCores();
        started.get(Action.DLPAR).increment();
        List<CompletableFuture<EventAck>> acks = new ArrayList<>();
        for (long id : r.getEventIdsList()) {
            acks.add(awaitAck(id, what + " (event " + id + ")", null));
        }
        track(CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
                .thenRun(() -> acked.get(Action.DLPAR).increment()), p, what);
    }

    private void qos(Lpar p) {
        awaitHmc(p);
        int credits = rnd.nextInt(MAX_QOS + 1);
        String what = "qos " + p.name + " " + credits;
        long event;
        try {
            event = c.setQosCredits(p.name, credits);
        } catch (RuntimeException e) {
            fail(what, e);
            return;
        }
        started.get(Action.QOS).increment();
        track(awaitAck(event, what + " (event " + event + ")", Action.QOS), p, what);
    }

    /** The guest's ack, which must be status 0; counted under {@code counted} (null: not counted). */
    private CompletableFuture<EventAck> awaitAck(long eventId, String what, Action counted) {
        return async(ControlRequest.newBuilder().setAwaitEvent(AwaitEvent.newBuilder().setEventId(eventId)
                .setTimeoutMs((int) ACK_WAIT.toMillis())), ACK_WAIT).thenApply(r -> {
            EventAck ack = r.getEventAck();
            if (ack.getStatus() != 0) {
                throw new IllegalStateException(what + ": guest acked " + ack.getStatus() + " " + ack.getDetail());
            }
            if (counted != null) {
                acked.get(counted).increment();
            }
            return ack;
        });
    }

    private CompletableFuture<MigrationOutcome> awaitMigration(String partition) {
        return async(ControlRequest.newBuilder().setAwaitMigration(AwaitMigration.newBuilder().setPartition(partition)
                .setTimeoutMs((int) ACK_WAIT.toMillis())), ACK_WAIT).thenApply(ControlResponse::getMigration);
    }

    /** A control request that does not block the caller; an Error response fails the future. */
    private CompletableFuture<ControlResponse> async(ControlRequest.Builder req, Duration serverTimeout) {
        return c.call(req).orTimeout(serverTimeout.plus(ControlClient.GRACE).toMillis(), TimeUnit.MILLISECONDS)
                .thenApply(r -> {
                    if (r.hasError()) {
                        throw new CompletionException(new ControlClientException(r.getError().getCode(),
                                r.getError().getMessage()));
                    }
                    return r;
                });
    }

    /** Follows an action to its end: a failure is recorded; an HMC action becomes its partition's last one. */
    private void track(CompletableFuture<?> f, Lpar hmc, String what) {
        CompletableFuture<?> done = f.whenComplete((v, e) -> {
            if (e != null) {
                fail(what, e);
            }
        });
        if (hmc != null) {
            hmc.hmcDone = done;
        }
        inFlight.add(done);
        done.whenComplete((v, e) -> inFlight.removeIf(x -> x == done));
    }

    private void fail(String what, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        failures.add(what + ": " + cause + ", " + REPRO);
    }

    /** Waits for every action started so far (each is bounded by its own timeouts). */
    private void drain() throws Exception {
        while (!inFlight.isEmpty()) {
            CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).handle((v, e) -> null)
                    .get(3 * ACK_WAIT.toSeconds() + ControlClient.GRACE.toSeconds(), TimeUnit.SECONDS);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the end

    /** Stops every workload (each task closes its windows) and waits until every pushed event is acked. */
    private void quiesce() throws InterruptedException {
        for (Lpar p : lpars) {
            for (Workload w : p.workloads) {
                w.stop(Duration.ZERO); // ask all first, then wait
            }
        }
        for (Lpar p : lpars) {
            for (Workload w : p.workloads) {
                assertTrue(w.stop(Duration.ofSeconds(10)), p.name + " " + w + " stopped, " + REPRO);
            }
        }
        for (Lpar p : lpars) {
            RawConn.await(p.name + " has no unacknowledged event, " + REPRO, ACK_WAIT,
                    () -> c.getState(p.name).getPendingEventsCount() == 0);
        }
    }

    private void checkEveryPartition(String figures) {
        InvariantReport r = c.checkInvariants("", ACK_WAIT);
        assertEquals(PARTITIONS, r.getGuestReportsCompared(), "every guest's report was compared; " + figures);
        assertEquals(List.of(), describe(r), "invariant violations; " + figures);
        for (Lpar p : lpars) {
            assertEquals(List.of(), p.kernel.checkInvariants(), p.name + " guest invariants; " + figures);
            PartitionState s = c.getState(p.name);
            assertEquals(0, s.getWindowsCount(), p.name + ": windows left in the hypervisor after every task closed "
                    + "its windows: " + s.getWindowsList() + "; " + figures);
            GuestReport g = p.kernel.report();
            assertEquals(p.migrations.sum(), g.migrationsOk(), p.name + " guest migrations ok; " + figures);
            assertEquals(0, g.migrationsFailed(), p.name + " guest migrations failed; " + figures);
            assertEquals(0, g.prrnFailed(), p.name + " guest PRRNs failed; " + figures);
            for (Workload w : p.workloads) {
                Workload.Summary ws = w.summary();
                assertEquals(0, ws.taskCrashes(), p.name + " " + w + " task crashes; " + figures);
                assertEquals(0, ws.windowsHeld(), p.name + " " + w + " windows still held; " + figures);
            }
        }
    }

    private void tearDown() {
        for (Lpar p : lpars) {
            for (Workload w : p.workloads) {
                try {
                    w.stop(Duration.ZERO);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (Lpar p : lpars) {
            for (Workload w : p.workloads) {
                w.stop();
            }
            if (p.kernel != null) {
                p.kernel.close();
            }
            if (p.conn != null) {
                p.conn.close();
            }
        }
        if (c != null) {
            c.close();
        }
        d.close();
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    private String workloadFigures() {
        long opens = 0;
        long openFailed = 0;
        long pastes = 0;
        long pastesFailed = 0;
        long closes = 0;
        Map<String, Long> why = new TreeMap<>();
        for (Lpar p : lpars) {
            for (Workload w : p.workloads) {
                Workload.Summary s = w.summary();
                opens += s.opensOk();
                openFailed += s.opensFailed();
                pastes += s.pastesOk();
                pastesFailed += s.pastesFailed();
                closes += s.closes();
                s.openFailures().forEach((k, v) -> why.merge(k, v, Long::sum));
            }
        }
        return "opens " + opens + " ok, " + openFailed + " failed " + why + ", pastes " + pastes + " ok, " + pastesFailed
                + " failed, closes " + closes;
    }

    private byte[] lmbList() {
        int lmbs = 4;
        int[] c = new int[1 + 6 * lmbs];
        c[0] = lmbs;
        for (int i = 0; i < lmbs; i++) {
            c[1 + 6 * i] = 0;
            c[2 + 6 * i] = i * 0x10000000;
            c[3 + 6 * i] = 0x80000000 + i;
            c[4 + 6 * i] = 0;
            c[5 + 6 * i] = rnd.nextInt(4); // associativity array index
            c[6 + 6 * i] = rnd.nextBoolean() ? 0x8 : 0x0; // DRCONF_MEM_ASSIGNED or not
        }
        return cells(c);
    }

    static DeviceTreeChange set(String path, String name, byte[] value) {
        return DeviceTreeChange.newBuilder().setPath(path).setSetProperty(Property.newBuilder().setName(name)
                .setValue(ByteString.copyFrom(value))).build();
    }

    static byte[] cells(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    static List<String> describe(InvariantReport r) {
        return r.getViolationsList().stream().map(v -> v.getOracle() + " " + v.getName() + " at " + v.getLocation()
                + ": " + v.getDetail()).toList();
    }

    static String counts(Map<Action, LongAdder> m) {
        Map<Action, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out.toString();
    }

    /** Counts WARN lines, and prints each distinct one (logger and message up to its first digit) once. */
    static long warnings(ListAppender<ILoggingEvent> logs) {
        Map<String, Long> distinct = new TreeMap<>();
        List<ILoggingEvent> all = logged(logs);
        for (ILoggingEvent e : all) {
            if (e.getLevel() == Level.WARN) {
                String m = e.getFormattedMessage();
                distinct.merge(e.getLoggerName() + ": " + m.split("[0-9]", 2)[0], 1L, Long::sum);
            }
        }
        distinct.forEach((k, v) -> System.out.println("SoakTest: WARN x" + v + " " + k));
        return distinct.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A copy of what the appender holds (it appends under its own monitor). */
    static List<ILoggingEvent> logged(ListAppender<ILoggingEvent> logs) {
        synchronized (logs) {
            return List.copyOf(logs.list);
        }
    }

    static int threads() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static double secs(long nanos) {
        return nanos / 1e9;
    }
}
