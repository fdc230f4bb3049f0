package org.lparemu.cli;

import ch.qos.logback.classic.Level;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lparemu.demo.Json;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.Scenarios;
import org.lparemu.demo.Verdicts;
import org.lparemu.kernel.matrix.KernelColumns;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lparemu demo}: runs every scenario under every policy of its axis, each against a fresh daemon on
 * ephemeral ports with a guest kernel over real sockets, and prints the matrix with the evidence behind each
 * cell and where its Chrome trace is. Exit status 0 when every cell is the stated outcome, 1 otherwise.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Reproduce the seed races and fault scenarios under every policy and print the matrix.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--scenario", description = "Only this scenario (id, e.g. vas-open-vs-migration).")
    String scenario;

    @Option(names = "--policy", description = "Only this policy (e.g. pre-fix, upstream, dt-mutex).")
    String policy;

    @Option(names = "--json", description = "Print the matrix as JSON.")
    boolean json;

    @Option(names = "--trace-dir", description = "Where the Chrome traces go (default: a new temporary directory).")
    Path traceDir;

    @Option(names = "--list", description = "List the scenarios and policies, run nothing.")
    boolean list;

    @Option(names = "--kernels", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Add a column per installed Debian linux-source package (6.1, 6.12): the VAS scenarios run "
                    + "with Linux's own vas.c and mobility.c compiled in userspace (default: on; --no-kernels skips).")
    boolean kernels;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private PrintWriter out;
    private ProgressLine progress;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        progress = ProgressLine.forTerminal(out, json);
        if (System.getProperty("lparemu.log.level.set") == null) {
            // The guest kernels' printk (e.g. "Target credits mismatch") is evidence, not noise, but the matrix
            // already carries it; --log-level WARN shows it.
            LparemuCli.setRootLevel(Level.OFF);
        }
        try {
            return run();
        } finally {
            out.flush();
        }
    }

    private int run() throws Exception {
        if (list) {
            for (Scenario s : Scenarios.all()) {
                out.printf("%-34s %s (%s)%n", s.id(), s.title(), String.join(", ",
                        s.axis().policies.stream().map(Scenarios::cliName).toList()));
            }
            return 0;
        }
        if (scenario != null && Scenarios.all().stream().noneMatch(s -> s.id().equals(scenario))) {
            throw new LparemuCli.CliException("no scenario '" + scenario + "' (see demo --list)", 2);
        }
        Path dir = traceDir != null ? traceDir : Files.createTempDirectory("lparemu-demo-");
        long t0 = System.nanoTime();
        if (!json) {
            out.println("lparemu demo: each cell is one run against a fresh daemon, a guest kernel over sockets,"
                    + " and a fault-injecting control client.");
            out.println();
        }
        List<Scenarios.Cell> cells = new ArrayList<>();
        Scenario current = null;
        int total = (int) Scenarios.all().stream().filter(this::selected)
                .mapToLong(s -> s.axis().policies.stream().filter(this::selected).count()).sum();
        for (Scenario s : Scenarios.all()) {
            if (!selected(s)) {
                continue;
            }
            for (String p : s.axis().policies) {
                if (!selected(p)) {
                    continue;
                }
                progress.update(cells.size(), total, s.id() + " under " + Scenarios.cliName(p));
                Scenarios.Cell c = Scenarios.run(s, p, dir);
                progress.clear();
                cells.add(c);
                if (!json) {
                    if (current != s) {
                        current = s;
                        out.println(s.title() + "  [" + s.id() + "]");
                    }
                    printCell(c);
                }
            }
        }
        if (kernels && (policy == null || policy.startsWith("linux-"))) {
            progress.show("Linux's own vas.c and mobility.c: building and running the kernel columns");
            List<KernelColumns.Column> columns = KernelColumns.run(scenario, line -> progress.show(line));
            progress.clear();
            for (KernelColumns.Column k : columns) {
                if (policy != null && !policy.equals(k.name())) {
                    continue;
                }
                if (!json) {
                    out.println();
                    out.println(k.name() + ": " + k.description());
                    k.cells().forEach(this::printCell);
                }
                cells.addAll(k.cells());
            }
        }
        if (cells.isEmpty()) {
            throw new LparemuCli.CliException("no cell matches --scenario/--policy (see demo --list)", 2);
        }
        long ok = cells.stream().filter(Scenarios.Cell::asExpected).count();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (json) {
            out.println(toJson(cells, dir, seconds));
        } else {
            printGrid(cells);
            out.printf("%n%d of %d cells as expected in %.1f s; Chrome traces (open in Perfetto or "
                    + "chrome://tracing) in %s%n", ok, cells.size(), seconds, dir);
        }
        return ok == cells.size() ? 0 : 1;
    }

    private boolean selected(Scenario s) {
        return scenario == null || s.id().equals(scenario);
    }

    private boolean selected(String p) {
        return policy == null || p.equalsIgnoreCase(policy.replace('-', '_'));
    }

    private void printCell(Scenarios.Cell c) {
        String mark = c.asExpected() ? "ok  " : "DIFF";
        String got = c.error() != null ? "ERROR " + c.error() : c.result().verdict();
        out.printf("  %-21s %s %s  (%d ms)%n", Scenarios.cliName(c.policy()), mark, got, c.millis());
        if (!c.asExpected()) {
            out.printf("  %-21s      expected: %s%n", "", c.expected().verdict());
        }
        out.printf("  %-21s      why: %s%n", "", c.expected().why());
        if (c.result() != null) {
            for (String e : c.result().evidence()) {
                out.printf("  %-21s      - %s%n", "", e);
            }
        }
        if (c.trace() != null) {
            out.printf("  %-21s      trace: %s%n", "", c.trace());
        }
    }

    /**
     * The compact matrix: rows scenarios, columns every policy seen; each cell is its outcome in a few words
     * ({@link Verdicts#brief}), after "ok" when it is the expected outcome and "DIFF" when it is not.
     */
    private void printGrid(List<Scenarios.Cell> cells) {
        Map<String, Map<String, String>> rows = new LinkedHashMap<>();
        List<String> columns = new ArrayList<>();
        for (Scenarios.Cell c : cells) {
            String col = Scenarios.cliName(c.policy());
            if (!columns.contains(col)) {
                columns.add(col);
            }
            rows.computeIfAbsent(c.scenario().id(), k -> new LinkedHashMap<>()).put(col, gridCell(c));
        }
        Map<String, Integer> widths = new LinkedHashMap<>();
        for (String col : columns) {
            int w = col.length();
            for (Map<String, String> r : rows.values()) {
                w = Math.max(w, r.getOrDefault(col, "-").length());
            }
            widths.put(col, w);
        }
        out.println();
        out.println("Outcomes in short (\"ok\": the expected outcome; \"DIFF\": not); the details are above.");
        StringBuilder head = new StringBuilder(String.format("%-34s", "scenario \\ policy"));
        columns.forEach(col -> head.append("  ").append(pad(col, widths.get(col))));
        out.println(head.toString().stripTrailing());
        for (Map.Entry<String, Map<String, String>> r : rows.entrySet()) {
            StringBuilder line = new StringBuilder(String.format("%-34s", r.getKey()));
            for (String col : columns) {
                line.append("  ").append(pad(r.getValue().getOrDefault(col, "-"), widths.get(col)));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** "ok refused -9006 x5", "DIFF migrated", "DIFF error". */
    static String gridCell(Scenarios.Cell c) {
        String brief = c.error() != null ? "error" : Verdicts.brief(c.result().verdict());
        return (c.asExpected() ? "ok " : "DIFF ") + brief;
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(0, width - s.length()));
    }

    static String toJson(List<Scenarios.Cell> cells, Path dir, double seconds) {
        StringBuilder sb = new StringBuilder("{\n  \"traceDir\": ").append(Json.string(dir.toString()))
                .append(",\n  \"seconds\": ").append(String.format("%.3f", seconds)).append(",\n  \"cells\": [");
        for (int i = 0; i < cells.size(); i++) {
            Scenarios.Cell c = cells.get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("    {\"scenario\": ").append(Json.string(c.scenario().id()))
                    .append(", \"title\": ").append(Json.string(c.scenario().title()))
                    .append(", \"policy\": ").append(Json.string(Scenarios.cliName(c.policy())))
                    .append(", \"asExpected\": ").append(c.asExpected())
                    .append(", \"expected\": ").append(Json.string(c.expected().verdict()))
                    .append(", \"why\": ").append(Json.string(c.expected().why()))
                    .append(", \"verdict\": ").append(c.result() == null ? "null" : Json.string(c.result().verdict()))
                    .append(", \"brief\": ").append(c.result() == null ? "null"
                            : Json.string(Verdicts.brief(c.result().verdict())))
                    .append(", \"evidence\": [");
            if (c.result() != null) {
                List<String> ev = c.result().evidence();
                for (int j = 0; j < ev.size(); j++) {
                    sb.append(j == 0 ? "" : ", ").append(Json.string(ev.get(j)));
                }
            }
            sb.append("], \"trace\": ").append(c.trace() == null ? "null" : Json.string(c.trace().toString()))
                    .append(", \"millis\": ").append(c.millis())
                    .append(", \"error\": ").append(c.error() == null ? "null" : Json.string(c.error())).append('}');
        }
        return sb.append("\n  ]\n}").toString();
    }
}
