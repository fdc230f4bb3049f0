package org.lparemu.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.server.EmbeddedDaemon;

/**
 * One run of a scenario under one policy: a fresh daemon on ephemeral ports, a control client, and guest
 * kernels connected over the guest socket. Everything a scenario does goes through the wire protocol, as a
 * test client in another language would; helpers here are only the waiting and bookkeeping.
 */
public final class ScenarioRun implements AutoCloseable {
    /** Longest any single wait of a scenario may take before the run fails. */
    public static final Duration WAIT = Duration.ofSeconds(30);
    /** Real seconds per guest second: back-offs of 1 s become 1 ms, so a failing migration takes milliseconds. */
    public static final double CLOCK_SCALE = 0.001;
    public static final String PARTITION = "lpar1";
    /** The guest task that runs a migration (the workqueue the migration request is handled on). */
    public static final String DRMGR = "drmgr";

    private final Scenario scenario;
    private final String policy;
    private final EmbeddedDaemon daemon;
    private final ControlClient control;
    private final List<AutoCloseable> owned = new ArrayList<>();

    public ScenarioRun(Scenario scenario, String policy, PlatformConfig config) {
        this.scenario = scenario;
        this.policy = policy;
        this.daemon = EmbeddedDaemon.start(config);
        this.control = daemon.control();
    }

    public Scenario scenario() {
        return scenario;
    }

    public String policy() {
        return policy;
    }

    public ControlClient control() {
        return control;
    }

    public EmbeddedDaemon daemon() {
        return daemon;
    }

    /** The VAS policy of this run: the run's policy on the VAS axis, today's UPSTREAM otherwise. */
    public VasPolicy vasPolicy() {
        return scenario.axis() == Scenario.Axis.VAS ? VasPolicy.valueOf(policy) : VasPolicy.UPSTREAM;
    }

    /**
     * The PRRN policy of this run: the run's policy on the PRRN axis; on the TOPOLOGY axis the era's own (the 2019
     * mutex with MUTEX_PATCH, ignored from v5.9, unserialized otherwise); DRAIN_BEFORE_SUSPEND otherwise.
     */
    public PrrnPolicy prrnPolicy() {
        if (scenario.axis() == Scenario.Axis.TOPOLOGY) {
            return switch (topologyPolicy()) {
                case MUTEX_PATCH -> PrrnPolicy.DT_MUTEX;
                case V5_9 -> PrrnPolicy.IGNORE;
                default -> PrrnPolicy.UNSERIALIZED;
            };
        }
        return scenario.axis() == Scenario.Axis.PRRN ? PrrnPolicy.valueOf(policy) : PrrnPolicy.DRAIN_BEFORE_SUSPEND;
    }

    /** The topology era of this run: the run's policy on the TOPOLOGY axis, V5_9 (today's kernel) otherwise. */
    public TopologyPolicy topologyPolicy() {
        return scenario.axis() == Scenario.Axis.TOPOLOGY ? TopologyPolicy.valueOf(policy) : TopologyPolicy.V5_9;
    }

    /** A guest kernel for lpar1 over the guest socket, with this run's policies and a fast clock. */
    public GuestKernel guest() {
        GuestConnection port = GuestConnection.connect("127.0.0.1", daemon.guestPort(), PARTITION,
                "scenario " + scenario.id() + " " + policy, true, Duration.ofSeconds(10), WAIT);
        owned.add(port);
        GuestKernel k = GuestKernel.boot(port, new GuestConfig(vasPolicy(), prrnPolicy(),
                new SystemGuestClock(CLOCK_SCALE), PARTITION).withTopologyPolicy(topologyPolicy()));
        owned.add(0, k);
        return k;
    }

    /** Runs {@code work} on a new thread named {@code task} (the guest task name traces and rules see). */
    public <T> CompletableFuture<T> onTask(String task, Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, task);
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** The newest trace sequence number: records after it are what happens next. */
    public long lastSeq() {
        return daemon.platform().trace().nextSeq() - 1;
    }

    /** Waits for the first trace record after {@code since} named like any of {@code names}. */
    public TraceRecord awaitTrace(long since, String... names) {
        return control.awaitTrace(PARTITION, since, WAIT, names);
    }

    /** Adds a fault rule for lpar1. */
    public long fault(FaultMatch.Builder match, FaultRule.Builder rule) {
        return control.addFault(rule.setMatch(match.setPartition(PARTITION)).build());
    }

    public void awaitHold(String latch) {
        control.awaitHold(latch, 1, WAIT);
    }

    public long release(String latch) {
        return control.releaseHold(latch, 0);
    }

    public InvariantReport check() {
        return control.checkInvariants(PARTITION, WAIT);
    }

    /** Every trace record of lpar1 (the ring holds far more than one scenario makes). */
    public List<TraceRecord> trace() {
        List<TraceRecord> out = new ArrayList<>();
        long since = 0;
        while (true) {
            var chunk = control.getTrace(PARTITION, since, 100_000);
            out.addAll(chunk.getRecordsList());
            if (chunk.getLastSeq() == since || chunk.getRecordsCount() == 0) {
                return out;
            }
            since = chunk.getLastSeq();
        }
    }

    /** Writes the run's trace as Chrome trace-event JSON into {@code dir}; returns the file. */
    public Path writeChromeTrace(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(scenario.id() + "-" + policy.toLowerCase(Locale.ROOT).replace('_', '-') + ".json");
        Files.writeString(file, ChromeTrace.toJson(trace()), StandardCharsets.UTF_8);
        return file;
    }

    public static <T> T await(CompletableFuture<T> f, String what) throws Exception {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " did not finish within " + WAIT, e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /** Invariant violations as "oracle name at location" lines. */
    public static List<String> violations(InvariantReport r) {
        return r.getViolationsList().stream().map(v -> v.getOracle() + " " + v.getName() + " at " + v.getLocation()
                + ": " + v.getDetail()).toList();
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a guest whose connection is already gone
            }
        }
        control.close();
        daemon.close();
    }
}
