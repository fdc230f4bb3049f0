package org.lparemu.kernel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.lparemu.client.ControlClient;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.RemoveFault;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.server.EmbeddedDaemon;

/**
 * One run of a scenario with the C guest: a daemon (a fresh embedded one, or a daemon the user runs, on which
 * the run creates its own partition and deletes it afterwards), a control client, and C guests for the
 * partition. Everything goes through the wire protocol, as in the Java port's ScenarioRun.
 */
public final class KernelRun implements AutoCloseable {
    /** Longest any single wait of a scenario may take before the run fails. */
    public static final Duration WAIT = Duration.ofSeconds(30);
    /** Real seconds per guest second, as the Java port's scenarios run: the kernel's 1 s back-offs take 1 ms. */
    public static final double CLOCK_SCALE = 0.001;

    private final KernelBuild.Built built;
    private final EmbeddedDaemon daemon;
    private final ControlClient control;
    private final String host;
    private final int guestPort;
    private final String partition;
    private final boolean ownsPartition;
    private final Consumer<String> console;
    private final List<KernelGuest> guests = new ArrayList<>();
    private final List<Long> rules = new ArrayList<>();
    private long traceCursor;

    private KernelRun(KernelBuild.Built built, EmbeddedDaemon daemon, ControlClient control, String host, int guestPort,
                      String partition, boolean ownsPartition, Consumer<String> console) {
        this.built = built;
        this.daemon = daemon;
        this.control = control;
        this.host = host;
        this.guestPort = guestPort;
        this.partition = partition;
        this.ownsPartition = ownsPartition;
        this.console = console;
    }

    /** A fresh daemon on ephemeral ports with {@code config}; the scenario uses its lpar1. */
    public static KernelRun embedded(KernelBuild.Built built, PlatformConfig config, Consumer<String> console) {
        EmbeddedDaemon d = EmbeddedDaemon.start(config);
        return new KernelRun(built, d, d.control(), "127.0.0.1", d.guestPort(), "lpar1", false, console);
    }

    /**
     * A daemon someone else runs: the run creates a partition of its own (default shape) so it disturbs no
     * other partition, and deletes it when done.
     */
    public static KernelRun connect(KernelBuild.Built built, String host, int guestPort, int controlPort,
                                    Consumer<String> console) {
        ControlClient c = ControlClient.connect(host, controlPort);
        String name = "kharness-" + ProcessHandle.current().pid() + "-" + System.nanoTime() % 100000;
        c.createPartition(PartitionSpec.newBuilder().setName(name).build());
        return new KernelRun(built, null, c, host, guestPort, name, true, console);
    }

    public KernelBuild.Built built() {
        return built;
    }

    public ControlClient control() {
        return control;
    }

    public String partition() {
        return partition;
    }

    public String host() {
        return host;
    }

    public int guestPort() {
        return guestPort;
    }

    /** A new C guest for the run's partition, booted. */
    public KernelGuest guest() {
        KernelGuest g = KernelGuest.start(built, host, guestPort, partition, CLOCK_SCALE,
                "kharness " + built.column(), console);
        guests.add(g);
        return g;
    }

    /** The newest trace sequence number: records after it are what happens next. */
    public long lastSeq() {
        while (true) {
            var chunk = control.getTrace(partition, traceCursor, 10_000);
            if (chunk.getRecordsCount() == 0) {
                return traceCursor;
            }
            traceCursor = chunk.getLastSeq();
        }
    }

    /** Waits for the first trace record after {@code since} named like any of {@code names}. */
    public TraceRecord awaitTrace(long since, String... names) {
        return control.awaitTrace(partition, since, WAIT, names);
    }

    /** Adds a fault rule for the run's partition. */
    public long fault(FaultMatch.Builder match, FaultRule.Builder rule) {
        long id = control.addFault(rule.setMatch(match.setPartition(partition)).build());
        rules.add(id);
        return id;
    }

    public void awaitHold(String latch) {
        control.awaitHold(latch, 1, WAIT);
    }

    public long release(String latch) {
        return control.releaseHold(latch, 0);
    }

    public InvariantReport check() {
        return control.checkInvariants(partition, WAIT);
    }

    /** Every trace record of the partition. */
    public List<TraceRecord> trace() {
        List<TraceRecord> out = new ArrayList<>();
        long since = 0;
        while (true) {
            var chunk = control.getTrace(partition, since, 100_000);
            out.addAll(chunk.getRecordsList());
            if (chunk.getLastSeq() == since || chunk.getRecordsCount() == 0) {
                return out;
            }
            since = chunk.getLastSeq();
        }
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

    /** Invariant violations as "oracle name at location: detail" lines. */
    public static List<String> violations(InvariantReport r) {
        return r.getViolationsList().stream().map(v -> v.getOracle() + " " + v.getName() + " at " + v.getLocation()
                + ": " + v.getDetail()).toList();
    }

    @Override
    public void close() {
        for (KernelGuest g : guests) {
            g.close();
        }
        if (ownsPartition) {
            try {
                for (long id : rules) {
                    control.request(ControlRequest.newBuilder().setRemoveFault(RemoveFault.newBuilder().setRuleId(id)));
                }
                control.deletePartition(partition);
            } catch (RuntimeException e) {
                // the daemon went away; nothing to clean up
            }
        }
        control.close();
        if (daemon != null) {
            daemon.close();
        }
    }
}
