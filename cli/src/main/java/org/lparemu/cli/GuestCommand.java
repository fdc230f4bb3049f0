package org.lparemu.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.guest.Workload;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.PortException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lparemu guest}: a guest kernel process. It connects to a daemon's guest port, boots the pseries
 * logic with the chosen policies, handles every platform event (migrations, PRRNs, DLPAR, QoS), runs a
 * workload, sends a report every interval, and prints a summary when it stops (SIGTERM, SIGINT, or after
 * {@code --duration}).
 */
@Command(name = "guest", mixinStandardHelpOptions = true,
        description = "Run a guest kernel (Linux pseries VAS, mobility, PRRN and DLPAR logic) against a daemon.")
final class GuestCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1")
    String host;

    @Option(names = "--port", defaultValue = "7720", description = "Guest port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--partition", defaultValue = "lpar1")
    String partition;

    @Option(names = "--vas-policy", defaultValue = "upstream",
            description = "pre-fix, upstream or hold-mutex (default ${DEFAULT-VALUE}).")
    String vasPolicy;

    @Option(names = "--prrn-policy", defaultValue = "ignore",
            description = "unserialized, dt-mutex, drain-before-suspend or ignore (default ${DEFAULT-VALUE}).")
    String prrnPolicy;

    @Option(names = "--topology-policy", defaultValue = "v5-9",
            description = "The CPU topology-update era (numa.c): before-65b9fdadfc4d, scope-extended, mutex-patch, "
                    + "callback-removed or v5-9 (default ${DEFAULT-VALUE}).")
    String topologyPolicy;

    @Option(names = "--workload", defaultValue = "keep-open:tasks=2,windows=2,rate=5;churn:tasks=2,rate=20",
            description = "Workloads separated by ';', each MODE:key=value,... with MODE churn or keep-open and keys "
                    + "tasks, windows (keep-open), rate (periods per second per task), pastes, qos; 'none' for no "
                    + "workload. Default: ${DEFAULT-VALUE} (keeps a few windows open and opens and closes others).")
    String workload;

    @Option(names = "--seed", description = "Seed of the workload's random choices (default: time-based, printed).")
    Long seed;

    @Option(names = "--duration", description = "Stop after this many seconds (default: until SIGTERM or SIGINT).")
    Double duration;

    @Option(names = "--report-interval-ms", defaultValue = "1000")
    long reportIntervalMs;

    @Option(names = "--clock-scale", defaultValue = "1.0",
            description = "Real seconds per guest second for the guest's sleeps and back-offs (default ${DEFAULT-VALUE}).")
    double clockScale;

    static VasPolicy vasPolicy(String s) {
        try {
            return VasPolicy.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new LparemuCli.CliException("unknown VAS policy '" + s + "' (pre-fix, upstream, v1-patch, hold-mutex)", 2);
        }
    }

    static PrrnPolicy prrnPolicy(String s) {
        try {
            return PrrnPolicy.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new LparemuCli.CliException(
                    "unknown PRRN policy '" + s + "' (unserialized, dt-mutex, drain-before-suspend, ignore)", 2);
        }
    }

    static TopologyPolicy topologyPolicy(String s) {
        try {
            return TopologyPolicy.valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new LparemuCli.CliException("unknown topology policy '" + s
                    + "' (before-65b9fdadfc4d, scope-extended, mutex-patch, callback-removed, v5-9)", 2);
        }
    }

    /** Parses the --workload option; each workload gets its own seed derived from {@code seed}. */
    static List<Workload.Spec> workloads(String text, long seed) {
        if (text.isBlank() || text.equals("none")) {
            return List.of();
        }
        List<Workload.Spec> out = new ArrayList<>();
        int n = 0;
        for (String part : text.split(";")) {
            String[] mk = part.trim().split(":", 2);
            Map<String, String> kv = new HashMap<>();
            if (mk.length > 1) {
                for (String p : mk[1].split(",")) {
                    String[] e = p.split("=", 2);
                    if (e.length != 2) {
                        throw new LparemuCli.CliException("bad workload setting '" + p + "' in '" + part + "'", 2);
                    }
                    kv.put(e[0].trim(), e[1].trim());
                }
            }
            try {
                int tasks = Integer.parseInt(kv.getOrDefault("tasks", "2"));
                double rate = Double.parseDouble(kv.getOrDefault("rate", "10"));
                long s = seed + 0x9E3779B97F4A7C15L * ++n;
                Workload.Spec spec = switch (mk[0].trim()) {
                    case "churn" -> Workload.Spec.churn(tasks, rate, s);
                    case "keep-open" -> Workload.Spec.keepOpen(tasks, Integer.parseInt(kv.getOrDefault("windows",
                            Integer.toString(tasks))), rate, s);
                    default -> throw new LparemuCli.CliException("unknown workload mode '" + mk[0]
                            + "' (churn, keep-open)", 2);
                };
                if (kv.containsKey("pastes")) {
                    spec = new Workload.Spec(spec.tasks(), spec.mode(), spec.keepOpen(), spec.opsPerSecond(),
                            Integer.parseInt(kv.get("pastes")), spec.maxPasteBytes(), spec.qos(), spec.vasId(), spec.seed());
                }
                out.add(spec.withQos(Boolean.parseBoolean(kv.getOrDefault("qos", "false"))));
            } catch (IllegalArgumentException e) {
                throw new LparemuCli.CliException("bad workload '" + part + "': " + e.getMessage(), 2);
            }
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        VasPolicy vas = vasPolicy(vasPolicy);
        PrrnPolicy prrn = prrnPolicy(prrnPolicy);
        TopologyPolicy topology = topologyPolicy(topologyPolicy);
        long s = seed != null ? seed : System.nanoTime();
        List<Workload.Spec> specs = workloads(workload, s);
        GuestConnection conn;
        try {
            conn = GuestConnection.connect(host, port, partition, "lparemu-guest " + vas + "/" + prrn, true,
                    Duration.ofSeconds(10), Duration.ZERO);
        } catch (PortException e) {
            System.err.println("lparemu guest: " + e.getMessage());
            return 3;
        }
        GuestConfig config = new GuestConfig(vas, prrn, new SystemGuestClock(clockScale), partition)
                .withTopologyPolicy(topology);
        GuestKernel kernel = GuestKernel.boot(conn, config);
        System.out.println("lparemu guest: " + partition + " on " + conn.bootInfo().system() + ", "
                + conn.bootInfo().vcpus() + " vcpus, policies " + vas + "/" + prrn + "/" + topology + ", seed " + s);
        List<Workload> running = new ArrayList<>();
        for (Workload.Spec spec : specs) {
            Workload w = new Workload(kernel, spec);
            w.start();
            running.add(w);
        }
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "guest-reporter");
            t.setDaemon(true);
            return t;
        });
        reporter.scheduleAtFixedRate(() -> {
            if (conn.isOpen()) {
                conn.report(kernel.report());
            }
        }, 0, Math.max(50, reportIntervalMs), TimeUnit.MILLISECONDS);

        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination(stop::countDown);
        boolean lost;
        if (duration != null) {
            lost = !awaitStopOrLoss(stop, conn, (long) (duration * 1000));
        } else {
            lost = !awaitStopOrLoss(stop, conn, Long.MAX_VALUE);
        }
        for (Workload w : running) {
            w.stop(Duration.ofSeconds(5));
        }
        reporter.shutdownNow();
        GuestReport last = kernel.report();
        if (conn.isOpen()) {
            conn.report(last);
        }
        List<String> violations = kernel.checkInvariants();
        System.out.println(summary(kernel, last, running, violations, lost ? "connection to the daemon lost" : "stopped"));
        kernel.close();
        conn.close();
        return lost ? 3 : violations.isEmpty() ? 0 : 4;
    }

    /** True when stopped by a signal or the duration; false when the connection was lost first. */
    private static boolean awaitStopOrLoss(CountDownLatch stop, GuestConnection conn, long ms) throws InterruptedException {
        long deadline = ms == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + ms * 1_000_000;
        while (true) {
            long left = deadline == Long.MAX_VALUE ? 200 : Math.min(200, (deadline - System.nanoTime()) / 1_000_000);
            if (left <= 0 || stop.await(left, TimeUnit.MILLISECONDS)) {
                return true;
            }
            if (!conn.isOpen()) {
                return false;
            }
        }
    }

    static String summary(GuestKernel kernel, GuestReport r, List<Workload> workloads, List<String> violations, String why) {
        StringBuilder sb = new StringBuilder("lparemu guest " + why + ": ");
        sb.append("migrations ok ").append(r.migrationsOk()).append(", failed ").append(r.migrationsFailed())
                .append("; PRRN handled ").append(r.prrnHandled()).append(", failed ").append(r.prrnFailed())
                .append("; pastes ok ").append(r.pastesOk()).append(", failed ").append(r.pastesFailed()).append('\n');
        for (GuestReport.Credits c : r.credits()) {
            sb.append(String.format("  %-7s credits total %d, used %d; windows open %d, closed %d, in progress %d%n",
                    c.winType() == 0 ? "qos" : "default", c.creditsTotal(), c.creditsUsed(), c.windowsOpen(),
                    c.windowsClosed(), c.windowsInProgress()));
        }
        for (Workload w : workloads) {
            Workload.Summary s = w.summary();
            sb.append(String.format("  workload %s: opens ok %d, failed %s; pastes ok %d, failed %d; closes %d; held %d%n",
                    w.spec().mode().name().toLowerCase(Locale.ROOT), s.opensOk(), s.openFailures(), s.pastesOk(),
                    s.pastesFailed(), s.closes(), s.windowsHeld()));
        }
        if (!r.errorsByErrno().isEmpty()) {
            sb.append("  errors by errno: ").append(r.errorsByErrno()).append('\n');
        }
        sb.append("  guest invariants: ").append(violations.isEmpty() ? "hold" : violations.toString());
        return sb.toString();
    }
}
