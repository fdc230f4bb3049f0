package org.lparemu.core.sim;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.DeviceTreeChange;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.OperatorResults;
import org.lparemu.core.hypervisor.Partition;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.trace.TraceRecord;

/**
 * One simulated world: a {@link Platform} reached in-process, one partition's guest kernel on a {@link SimMachine},
 * and the scenario's actors, all under one {@link SimScheduler}. Built fresh for every run.
 *
 * <p>The methods an actor calls ({@link #migrate}, {@link #prrn}, {@link #dlparCpu}, {@link #await}) run inside the
 * simulation: waiting for the platform blocks the actor, and the strategy decides what runs meanwhile.
 */
public final class SimWorld {
    /** The partition every scenario runs (it must be in the scenario's configuration). */
    public static final String PARTITION = "lpar1";
    /** The trace ring of a simulated platform: a run makes a few thousand records. */
    static final int TRACE_CAPACITY = 1 << 15;
    /** The default systems and lpar1 (4 vCPUs on 2 cores), with a smaller trace ring. */
    public static final PlatformConfig DEFAULT_CONFIG = PlatformConfig.defaults()
            .withLimits(PlatformConfig.defaults().limits().withTraceCapacity(TRACE_CAPACITY));

    private final SimScenario scenario;
    private final VasPolicy vasPolicy;
    private final PrrnPolicy prrnPolicy;
    private final SimScheduler sched;
    private final Platform platform;
    private final List<SimOracle.Finding> findings = new ArrayList<>();
    private final List<SimOracle> live = new ArrayList<>();
    private final List<SimOracle> quiescent = new ArrayList<>();
    private InProcessPort port;
    private GuestKernel kernel;
    private final Map<Class<?>, Object> locals = new HashMap<>();
    private String outcome = "";
    private PartitionView liveView;
    private long liveSeq = -1;
    private boolean checked;

    SimWorld(SimScenario scenario, VasPolicy vasPolicy, PrrnPolicy prrnPolicy, Strategy strategy, CarrierPool carriers,
             long maxSteps, long timeLimitNanos) {
        this.scenario = scenario;
        this.vasPolicy = vasPolicy;
        this.prrnPolicy = prrnPolicy;
        this.sched = new SimScheduler(strategy, carriers, maxSteps, timeLimitNanos);
        this.platform = new Platform(scenario.config(), new SimExecutor(sched), sched::now);
        // The scenario's own oracles first: they name the failure more precisely than the general invariants.
        for (SimOracle o : scenario.oracles()) {
            (o.live() ? live : quiescent).add(o);
        }
        for (SimOracle o : SimOracles.builtIn()) {
            (o.live() ? live : quiescent).add(o);
        }
        sched.onStep(s -> checkLive());
        sched.onQuiescence(this::quiescent);
        sched.spawn("swapper", false, this::boot);
    }

    /** Runs the world to its end. */
    SimScheduler.Verdict run() {
        return sched.run();
    }

    private void boot() {
        port = new InProcessPort(platform, PARTITION, "sim", true);
        kernel = GuestKernel.boot(port, new GuestConfig(vasPolicy, prrnPolicy, new SimClock(sched), PARTITION,
                SimMachine.on(sched)));
        for (SimScenario.Action a : scenario.setup()) {
            runAction(a);
        }
        for (SimScenario.Actor a : scenario.actors()) {
            sched.spawn(a.name(), false, () -> runAction(a.body()));
        }
    }

    private void runAction(SimScenario.Action a) {
        try {
            a.run(this);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void checkLive() {
        if (kernel == null || checked) {
            return;
        }
        for (SimOracle o : live) {
            List<SimOracle.Finding> v = o.check(this);
            if (!v.isEmpty()) {
                findings.addAll(v);
                sched.stop(v.get(0).toString());
                return;
            }
        }
    }

    /** Nothing left to run: check the quiescent oracles and read the outcome, from a task of their own. */
    private void quiescent() {
        if (kernel == null) {
            return;
        }
        sched.spawn("check", false, () -> {
            checked = true;
            for (SimOracle o : quiescent) {
                findings.addAll(o.check(this));
            }
            outcome = scenario.outcome(this);
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // what actors and oracles use

    public Platform platform() {
        return platform;
    }

    public GuestKernel kernel() {
        return kernel;
    }

    public NxGzipDevice nx() {
        return kernel.nxGzip();
    }

    public VasPolicy vasPolicy() {
        return vasPolicy;
    }

    public PrrnPolicy prrnPolicy() {
        return prrnPolicy;
    }

    public SimScheduler scheduler() {
        return sched;
    }

    /** A per-run object of the scenario's (what its actors saw, for the outcome line), made on first use. */
    public <T> T local(Class<T> type, Supplier<T> init) {
        return type.cast(locals.computeIfAbsent(type, k -> init.get()));
    }

    /** The hypervisor's view of the partition now. */
    public PartitionView state() {
        return platform.getState(PARTITION);
    }

    /**
     * The hypervisor's view of the partition without its device tree, read again only when the hypervisor wrote a
     * trace record since the last read (every change it makes is traced): what the live oracles check.
     */
    public PartitionView liveState() {
        long seq = platform.trace().nextSeq();
        if (liveView == null || seq != liveSeq) {
            liveView = platform.getStateWithoutTree(PARTITION);
            liveSeq = seq;
        }
        return liveView;
    }

    /** Waits (blocking the calling actor) for {@code f}; returns its value or throws what it failed with. */
    public <T> T await(CompletableFuture<T> f) {
        while (!f.isDone()) {
            sched.block("the platform", w -> f.whenComplete((v, e) -> w.wake()));
        }
        try {
            return f.get(0, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(c);
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException("a completed future could not be read", e);
        }
    }

    /** Sleeps the calling actor for {@code d} of virtual time. */
    public void sleep(Duration d) {
        sched.sleep(d.toNanos(), "sleep " + d.toMillis() + " ms");
    }

    /** The operator migrates the partition and waits for the migration's end and the guest's ack. */
    public MigrationOutcome migrate() {
        sched.point("Migrate " + PARTITION);
        OperatorResults.MigrateResult m = platform.migrate(PARTITION, null);
        MigrationOutcome o = await(platform.awaitMigration(PARTITION, 0));
        await(platform.awaitEvent(m.eventId(), 0));
        return o;
    }

    /** A PRRN with these changes; waits for the guest's ack. */
    public Partition.EventAck prrn(List<DeviceTreeChange> changes) {
        sched.point("Prrn " + changes.size() + " change(s)");
        OperatorResults.PrrnResult r = platform.prrn(PARTITION, changes);
        return await(platform.awaitEvent(r.eventId(), 0));
    }

    /** DLPAR of {@code cores} cores; waits for the guest's acks. */
    public List<Partition.EventAck> dlparCpu(boolean add, int cores) {
        sched.point("DlparCpu " + (add ? "add " : "remove ") + cores + " core(s)");
        OperatorResults.DlparCpuResult r = platform.dlparCpu(PARTITION, add, cores);
        List<Partition.EventAck> acks = new ArrayList<>();
        for (long id : r.eventIds()) {
            acks.add(await(platform.awaitEvent(id, 0)));
        }
        return acks;
    }

    // ------------------------------------------------------------------------------------------------------------
    // results

    public List<SimOracle.Finding> findings() {
        return List.copyOf(findings);
    }

    public String outcome() {
        return outcome;
    }

    /** The platform's trace of this run (virtual time). */
    public List<TraceRecord> trace() {
        return platform.trace().read(0, TRACE_CAPACITY, PARTITION).records();
    }

    SimScenario scenario() {
        return scenario;
    }

    /**
     * The default outcome line: how the migration ended (if there was one), the windows the hypervisor holds, and
     * the guest's errors.
     */
    public static String summary(SimWorld w) {
        PartitionView v = w.state();
        List<String> parts = new ArrayList<>();
        if (v.migration() != null) {
            List<Integer> st = v.migration().rtasStatuses();
            parts.add(v.migration().vasiState().name().toLowerCase(Locale.ROOT) + " "
                    + suspendStatuses(st));
        }
        parts.add(v.windows().size() + " window(s)");
        var errors = w.kernel().report().errorsByErrno();
        if (!errors.isEmpty()) {
            parts.add("errors " + errors);
        }
        return String.join("; ", parts);
    }

    /** "suspend-me [0]", "suspend-me [-9006 x5]". */
    static String suspendStatuses(List<Integer> st) {
        if (st.isEmpty()) {
            return "no suspend-me";
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < st.size()) {
            int j = i;
            while (j < st.size() && st.get(j).equals(st.get(i))) {
                j++;
            }
            out.add(RtasStatus.name(st.get(i)) + (j - i > 1 ? " x" + (j - i) : ""));
            i = j;
        }
        return "suspend-me " + out;
    }
}
