package org.lparemu.bench;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Report;
import org.lparemu.cli.ProgressLine;

/**
 * What a figure runs with: the sizes, the CPU placement it is measured under, a progress log, and a way to
 * measure a figure again in a child JVM pinned to one CPU.
 */
public final class BenchContext {
    private final Sizes sizes;
    private final String placement;
    private final boolean pinnedChildAllowed;
    private final boolean child;
    private final PrintStream log;
    private final long startNanos = System.nanoTime();
    /** The run's progress line at a terminal (erased around each log line), or null. */
    private ProgressLine progress;

    /**
     * @param pinnedChildAllowed whether {@link #runPinned} may start a pinned child JVM
     * @param child              true inside such a child (it measures one figure under its placement only)
     */
    public BenchContext(Sizes sizes, String placement, boolean pinnedChildAllowed, boolean child, PrintStream log) {
        this.sizes = sizes;
        this.placement = placement;
        this.pinnedChildAllowed = pinnedChildAllowed && !child;
        this.child = child;
        this.log = log;
    }

    /** True in a child JVM started by {@link #runPinned}. */
    public boolean isChild() {
        return child;
    }

    public Sizes sizes() {
        return sizes;
    }

    /** The CPU placement of this JVM, for table captions ("2 vCPUs, unpinned" or "1 vCPU (taskset -c 0)"). */
    public String placement() {
        return placement;
    }

    public static String unpinnedPlacement() {
        int n = Runtime.getRuntime().availableProcessors();
        return n + (n == 1 ? " vCPU" : " vCPUs") + ", unpinned";
    }

    public void log(String format, Object... args) {
        double t = (System.nanoTime() - startNanos) / 1e9;
        if (progress != null) {
            progress.clear();
        }
        log.printf(Locale.ROOT, "[%7.1fs] %s%n", t, String.format(Locale.ROOT, format, args));
        log.flush();
        if (progress != null) {
            progress.redraw();
        }
    }

    /** Shows the run's progress on {@code line}, kept clear of the log lines. */
    public void progress(ProgressLine line) {
        this.progress = line;
    }

    /** True when {@code taskset} exists and child JVMs may be started. */
    public boolean canPin() {
        if (!pinnedChildAllowed) {
            return false;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "taskset"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs one figure again in a child JVM pinned to CPU {@code cpu} with {@code taskset} (same JVM flags, same
     * class path, same sizes), so that client and server share one vCPU. Empty when pinning is unavailable.
     */
    public Optional<FigureResult> runPinned(String figureId, int cpu) throws IOException, InterruptedException {
        if (!canPin()) {
            return Optional.empty();
        }
        Path out = Files.createTempFile("lparemu-bench-" + figureId, ".json");
        try {
            String childPlacement = "1 vCPU (taskset -c " + cpu + ")";
            List<String> cmd = new ArrayList<>();
            cmd.add("taskset");
            cmd.add("-c");
            cmd.add(Integer.toString(cpu));
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
                    cmd.add(a);
                }
            }
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(BenchMain.class.getName());
            cmd.addAll(List.of("--child", figureId, "--sizes", sizes.name(), "--placement", childPlacement,
                    "--child-out", out.toString()));
            log("%s: child JVM pinned with taskset -c %d", figureId, cpu);
            Process p = new ProcessBuilder(cmd).inheritIO().start();
            if (!p.waitFor(15, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("pinned child for " + figureId + " did not finish in 15 minutes");
            }
            if (p.exitValue() != 0) {
                throw new IOException("pinned child for " + figureId + " exited with " + p.exitValue());
            }
            return Optional.of(Report.figureFromJson(Files.readString(out, StandardCharsets.UTF_8)));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
