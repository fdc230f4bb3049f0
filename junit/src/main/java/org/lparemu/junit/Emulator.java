package org.lparemu.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.InvariantReport;
import org.lparemu.core.check.Violation;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.port.HcallPort;
import org.lparemu.server.EmbeddedDaemon;

/**
 * One test's view of its emulated platform, injectable as a parameter: the platform itself, the daemon's ports, and
 * factories for more clients and guests than parameters can declare. Everything it hands out is closed after the
 * test (after the invariant oracles ran, since they ask the guests for fresh reports).
 */
public final class Emulator {
    private final Environment env;
    private final String testName;
    private final long traceStartSeq;
    /** Closed in reverse order after the test; guarded by itself. */
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final List<GuestKernel> kernels = new ArrayList<>();

    Emulator(Environment env, String testName) {
        this.env = env;
        this.testName = testName;
        this.traceStartSeq = env.platform().trace().nextSeq() - 1;
    }

    /** The platform (in both transports; with SOCKET it is the daemon's). */
    public Platform platform() {
        return env.platform();
    }

    /** Whether guests and clients go over the daemon's sockets. */
    public boolean socket() {
        return env.daemon() != null;
    }

    /** The daemon. */
    public EmbeddedDaemon daemon() {
        if (env.daemon() == null) {
            throw new IllegalStateException("@LparemuTest(transport = IN_PROCESS) runs no daemon");
        }
        return env.daemon();
    }

    public int guestPort() {
        return daemon().guestPort();
    }

    public int controlPort() {
        return daemon().controlPort();
    }

    /** The configured default partition ({@link LparemuTest#partition()}). */
    public String partition() {
        return env.settings().partition();
    }

    /** A new control connection, closed after the test. */
    public ControlClient control() {
        return track(daemon().control());
    }

    /**
     * A new guest connection to {@code partition}, closed after the test. With {@code events} the platform's events
     * go to it (and it must acknowledge them), as they would to a kernel.
     */
    public GuestConnection connect(String partition, boolean events) {
        return track(GuestConnection.connect("127.0.0.1", guestPort(), partition, "junit-" + testName, events,
                Duration.ofSeconds(10), Duration.ofSeconds(30)));
    }

    /** A guest kernel booted on {@code partition} with the class's policies and clock. */
    public GuestKernel boot(String partition) {
        return boot(partition, env.settings().vasPolicy(), env.settings().prrnPolicy(), env.settings().topologyPolicy());
    }

    /** {@link #boot(String, VasPolicy, PrrnPolicy, TopologyPolicy)} in the class's topology era. */
    public GuestKernel boot(String partition, VasPolicy vas, PrrnPolicy prrn) {
        return boot(partition, vas, prrn, env.settings().topologyPolicy());
    }

    /**
     * A guest kernel booted on {@code partition} (over the socket, or an in-process port), closed after the test; its
     * own invariant checks join the oracles.
     */
    public GuestKernel boot(String partition, VasPolicy vas, PrrnPolicy prrn, TopologyPolicy topology) {
        Objects.requireNonNull(partition, "partition");
        HcallPort port = socket()
                ? GuestConnection.connect("127.0.0.1", guestPort(), partition, partition, true,
                        Duration.ofSeconds(10), Duration.ofSeconds(30))
                : new InProcessPort(platform(), partition, partition, true);
        track(port);
        GuestConfig config = new GuestConfig(vas, prrn, new SystemGuestClock(env.settings().clockScale()), partition)
                .withTopologyPolicy(topology);
        GuestKernel k;
        try {
            k = GuestKernel.boot(port, config);
        } catch (RuntimeException e) {
            closeQuietly(port);
            throw e;
        }
        synchronized (resources) {
            kernels.add(k);
        }
        return track(k);
    }

    /**
     * Waits for the platform to go quiet, then runs every invariant oracle (hypervisor, guest against hypervisor,
     * device tree, and each booted kernel's own checks). Empty when all hold. The extension calls this after each test.
     */
    public List<String> checkInvariants() {
        long timeout = env.settings().quiesceTimeoutMs();
        String busy = Quiescence.await(platform(), timeout);
        List<String> out = new ArrayList<>();
        InvariantReport r = InvariantChecker.check(platform(), null, timeout).join();
        for (Violation v : r.violations()) {
            out.add(v.toString());
        }
        List<GuestKernel> ks;
        synchronized (resources) {
            ks = List.copyOf(kernels);
        }
        for (GuestKernel k : ks) {
            for (String v : k.checkInvariants()) {
                out.add("guest kernel " + k.config().name() + ": " + v);
            }
        }
        if (!out.isEmpty() && busy != null) {
            out.add("(the platform was not quiet when the oracles ran: " + busy + ")");
        }
        return out;
    }

    /** Writes this test's trace so far as {@code dir/base.json} and {@code dir/base.txt}. */
    public TraceFiles.Written writeTrace(Path dir, String base) {
        try {
            return TraceFiles.write(platform(), traceStartSeq, dir, base);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    <T extends AutoCloseable> T track(T resource) {
        synchronized (resources) {
            resources.push(resource);
        }
        return resource;
    }

    /** Closes everything handed out, newest first; returns what failed to close. */
    List<Exception> closeAll() {
        List<Exception> failed = new ArrayList<>();
        while (true) {
            AutoCloseable c;
            synchronized (resources) {
                c = resources.poll();
                if (c == null) {
                    kernels.clear();
                    return failed;
                }
            }
            try {
                c.close();
            } catch (Exception e) {
                failed.add(e);
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // the boot failure is what matters
        }
    }
}
