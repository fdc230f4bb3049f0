package org.lparemu.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Machine;
import org.lparemu.bench.report.Report;
import org.lparemu.bench.wire.Workload;
import org.lparemu.cli.ProgressLine;
import org.slf4j.LoggerFactory;

/**
 * The benchmark harness's entry point.
 *
 * <pre>
 *   ./benchmarks/run                       the full run: writes docs/benchmarks.md and docs/benchmarks.json
 *   java -jar benchmarks/target/benchmarks.jar [--full | --smoke] [--out DIR] [--only B1,B2] [--no-pin]
 * </pre>
 *
 * {@code --smoke} uses tiny sizes (its numbers mean nothing) and writes to target/benchmark-smoke unless
 * {@code --out} says otherwise; {@code mvn verify} runs it from a unit test.
 */
public final class BenchMain {
    private BenchMain() {
    }

    /** Parsed command line. */
    public record Options(Sizes sizes, Path out, Set<String> only, boolean pin, String command, String childFigure,
                          String placement, Path childOut) {

        public static Options parse(String... args) {
            Sizes sizes = Sizes.FULL;
            Path out = null;
            Set<String> only = new HashSet<>();
            boolean pin = true;
            String command = null;
            String child = null;
            String placement = null;
            Path childOut = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--full" -> sizes = Sizes.FULL;
                    case "--smoke" -> sizes = Sizes.SMOKE;
                    case "--sizes" -> sizes = Sizes.named(value(args, ++i, a));
                    case "--out" -> out = Path.of(value(args, ++i, a));
                    case "--only" -> only.addAll(Arrays.asList(value(args, ++i, a).toUpperCase(Locale.ROOT).split(",")));
                    case "--no-pin" -> pin = false;
                    case "--command" -> command = value(args, ++i, a);
                    case "--child" -> child = value(args, ++i, a);
                    case "--placement" -> placement = value(args, ++i, a);
                    case "--child-out" -> childOut = Path.of(value(args, ++i, a));
                    case "-h", "--help" -> throw new IllegalArgumentException(usage());
                    default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
                }
            }
            if (out == null) {
                out = sizes.full() ? Path.of("docs") : Path.of("target", "benchmark-smoke");
            }
            if (command == null) {
                command = "java -jar benchmarks/target/benchmarks.jar " + String.join(" ", args);
            }
            return new Options(sizes, out, only, pin, command.strip(), child, placement, childOut);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        static String usage() {
            return "usage: java -jar benchmarks.jar [--full | --smoke] [--out DIR] [--only B1,B2,...] [--no-pin] "
                    + "[--command TEXT]";
        }
    }

    public static void main(String[] args) {
        try {
            Options o = Options.parse(args);
            if (o.childFigure() != null) {
                runChild(o);
            } else {
                Report r = run(o, System.err);
                System.out.println("wrote " + o.out().resolve("benchmarks.md") + " and "
                        + o.out().resolve("benchmarks.json") + " (" + r.figures.size() + " figures)");
            }
            System.exit(0);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    /**
     * The guest kernel logs failed migrations and refused opens at WARN and ERROR, as the kernel would; the
     * figures provoke them by the thousand (B6) and check every outcome themselves, so its loggers are turned off.
     */
    static void quietGuestKernel() {
        ((Logger) LoggerFactory.getLogger("org.lparemu.core.guest"))
                .setLevel(Level.OFF);
    }

    /** Runs the selected figures and writes benchmarks.md and benchmarks.json into {@code o.out()}. */
    public static Report run(Options o, PrintStream log) throws Exception {
        quietGuestKernel();
        return onBenchThread(() -> {
            long t0 = System.nanoTime();
            Report report = new Report();
            report.mode = o.sizes().name();
            report.command = o.command();
            report.started = OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.SECONDS)
                    .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            report.machine = Machine.detect();
            report.loadAverageAtStart = Machine.loadAverage();
            BenchContext ctx = new BenchContext(o.sizes(), BenchContext.unpinnedPlacement(), o.pin(), false, log);
            ctx.log("lparemu benchmarks, %s mode, %d cores, %s; workload %s; load average %s", o.sizes().name(),
                    report.machine.cores(), report.machine.jdk(), Workload.CURRENT, report.loadAverageAtStart);
            warnIfBusy(ctx, report.loadAverageAtStart, report.machine.cores());
            // At a terminal, a line under the log says which figure of how many is running; never in a pipe or CI.
            ProgressLine progress = ProgressLine.forTerminal(
                    new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)), false);
            ctx.progress(progress);
            List<Figure> figures = selected(o);
            for (Figure f : figures) {
                progress.update(report.figures.size(), figures.size(), f.id() + ": " + f.title());
                long f0 = System.nanoTime();
                long[] gc0 = gc();
                ctx.log("%s: %s", f.id(), f.title());
                FigureResult r = f.run(ctx);
                long[] gc1 = gc();
                r.wallSeconds = (System.nanoTime() - f0) / 1e9;
                r.gcCount = gc1[0] - gc0[0];
                r.gcMillis = gc1[1] - gc0[1];
                ctx.log("%s done in %.1f s (%d GCs, %.0f ms)", f.id(), r.wallSeconds, r.gcCount, r.gcMillis);
                report.figures.add(r);
            }
            progress.clear();
            report.notMeasured.addAll(Figures.notMeasured());
            report.wallSeconds = (System.nanoTime() - t0) / 1e9;
            report.loadAverageAtEnd = Machine.loadAverage();
            report.writeJson(o.out().resolve("benchmarks.json"));
            report.writeMarkdown(o.out().resolve("benchmarks.md"));
            ctx.log("done in %.0f s", report.wallSeconds);
            return report;
        });
    }

    /** Collections so far and their accumulated time in ms, over every collector of this JVM. */
    static long[] gc() {
        long n = 0;
        long ms = 0;
        for (var b : ManagementFactory.getGarbageCollectorMXBeans()) {
            n += Math.max(0, b.getCollectionCount());
            ms += Math.max(0, b.getCollectionTime());
        }
        return new long[] {n, ms};
    }

    /** Other work on a shared machine skews every figure; say so (the load average is also in the report). */
    private static void warnIfBusy(BenchContext ctx, String loadAverage, int cores) {
        try {
            double load1 = Double.parseDouble(loadAverage.split(" ")[0]);
            if (load1 > cores) {
                ctx.log("WARNING: the 1-minute load average (%.1f) exceeds the %d cores: other work is running, the "
                        + "figures will be noisier than usual (ratios suffer less than absolute values)", load1, cores);
            }
        } catch (RuntimeException e) {
            // no /proc/loadavg
        }
    }

    static List<Figure> selected(Options o) {
        List<Figure> out = new ArrayList<>();
        for (Figure f : Figures.all()) {
            if (!o.only().isEmpty() && !o.only().contains(f.id())) {
                continue;
            }
            if (f.fullOnly() && !o.sizes().full()) {
                continue;
            }
            out.add(f);
        }
        if (!o.only().isEmpty() && out.size() != o.only().size()) {
            throw new IllegalArgumentException("--only " + o.only() + ": known figures are "
                    + Figures.all().stream().map(Figure::id).toList());
        }
        return out;
    }

    /** Inside a pinned child JVM: one figure under the given placement, written as JSON for the parent. */
    private static void runChild(Options o) throws Exception {
        quietGuestKernel();
        Figure figure = Figures.all().stream().filter(f -> f.id().equals(o.childFigure())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no figure " + o.childFigure()));
        FigureResult r = onBenchThread(() -> figure.run(new BenchContext(o.sizes(), o.placement(), false, true,
                System.err)));
        Files.writeString(o.childOut(), Report.figureToJson(r), StandardCharsets.UTF_8);
    }

    /**
     * Runs on a thread named like the workload's task, so that GuestConnection (which names the task after the
     * calling thread) sends the same request bytes as the other clients.
     */
    private static <T> T onBenchThread(Callable<T> body) throws Exception {
        FutureTask<T> task = new FutureTask<>(body);
        Thread t = new Thread(task, Workload.TASK);
        t.start();
        try {
            return task.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }
}
