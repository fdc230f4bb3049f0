package org.lparemu.kernel.matrix;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lparemu.demo.Json;
import org.lparemu.kernel.KernelBuild;
import org.lparemu.kernel.KernelHarnessException;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.kernel.KernelSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kernel}: builds Linux's own pseries VAS and mobility code as a C guest (if it is not built yet), runs
 * a scenario with it against a daemon, and prints the cell as the demo prints the Java port's: the outcome,
 * the outcome expected for that kernel (the Java scenario's expectation for the policy whose algorithm the
 * kernel's vas.c has: PRE_FIX without the 2023 fix, UPSTREAM with it), and the evidence.
 *
 * <p>Exit status: 0 every cell as expected, 1 a cell differs, 2 usage error, 3 the kernel cannot be built here
 * (a package is missing, or make failed).
 *
 * <p>Standalone: {@code java -cp <kernel-harness classpath> org.lparemu.kernel.matrix.KernelCommand --debian 6.1}.
 */
@Command(name = "kernel", mixinStandardHelpOptions = true,
        description = "Run a scenario with Linux's own vas.c / mobility.c compiled in userspace and print the cell.")
public final class KernelCommand implements Callable<Integer> {
    @Option(names = "--debian", paramLabel = "VERSION",
            description = "Kernel from Debian's linux-source-VERSION package (6.1: before the 2023 fix, 6.12: with it).")
    String debian;

    @Option(names = "--ksrc", paramLabel = "DIR", description = "Kernel from a Linux source tree (patched or not).")
    Path ksrc;

    @Option(names = "--scenario", paramLabel = "ID", defaultValue = "vas-open-vs-migration",
            description = "Scenario id, or 'all' (default: ${DEFAULT-VALUE}); see --list.")
    String scenario;

    @Option(names = "--connect", paramLabel = "HOST:PORT",
            description = "A running daemon's guest port; its control port is --control-port (default PORT+1). "
                    + "The run creates and deletes a partition of its own; scenarios that need their own platform "
                    + "configuration (see --list) are not run. Default: a fresh embedded daemon per cell.")
    String connect;

    @Option(names = "--control-port", paramLabel = "PORT", description = "The daemon's control port with --connect.")
    Integer controlPort;

    @Option(names = "--json", description = "Print the cells as JSON.")
    boolean json;

    @Option(names = "--list", description = "List the scenarios the C guest runs, run nothing.")
    boolean list;

    @Option(names = "--console", description = "Echo the guest kernel's console (printk) to stderr.")
    boolean console;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new KernelCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(out, err);
        } catch (KernelHarnessException e) {
            err.println("kernel: " + e.getMessage());
            return switch (e.kind()) {
                case USAGE -> 2;
                case UNAVAILABLE, BUILD_FAILED -> 3;
                case GUEST_FAILED -> 1;
            };
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int run(PrintWriter out, PrintWriter err) {
        if (list) {
            for (KernelScenario s : KernelScenarios.all()) {
                out.printf("%-34s %s%s%n", s.id(), s.javaScenario().title(), s.needsOwnDaemon() ? " (own daemon)" : "");
            }
            return 0;
        }
        KernelSource source;
        try {
            source = KernelSource.parse(debian, ksrc);
        } catch (IllegalArgumentException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.USAGE, e.getMessage());
        }
        List<KernelScenario> scenarios = scenario.equals("all") ? KernelScenarios.all()
                : List.of(KernelScenarios.byId(scenario).orElseThrow(() -> new KernelHarnessException(
                        KernelHarnessException.Kind.USAGE, "no scenario '" + scenario + "' for the C guest (see --list)")));
        KernelScenarios.Daemon daemon = parseConnect();
        // A scenario with its own platform configuration (credits per core) cannot run on a daemon someone else
        // configured: named alone it is a usage error; under 'all' it is left out, and the output says so.
        List<KernelScenario> ownDaemon = daemon == null ? List.of()  // null: a fresh embedded daemon
                : scenarios.stream().filter(KernelScenario::needsOwnDaemon).toList();
        if (!ownDaemon.isEmpty() && !scenario.equals("all")) {
            throw new KernelHarnessException(KernelHarnessException.Kind.USAGE, "scenario '" + scenario
                    + "' needs a daemon with its own platform configuration; run it without --connect");
        }
        scenarios = scenarios.stream().filter(s -> !ownDaemon.contains(s)).toList();

        Path home = KernelBuild.harnessHome();
        KernelBuild.Built built = KernelBuild.ensureBuilt(home, source, KernelBuild.DEFAULT_TIMEOUT,
                line -> err.println(line));
        if (!json) {
            out.printf("%s: Linux %s from %s (vas.c %s the 2023 in-progress counter: expecting the %s cells)%n%n",
                    built.column(), built.kernelVersion(), source.describe(),
                    built.inProgressCounter() ? "has" : "lacks", cliName(built.equivalentPolicy()));
            for (KernelScenario s : ownDaemon) {
                out.printf("%s  [%s]: not run: needs a daemon with its own platform configuration (run it without "
                        + "--connect)%n", s.javaScenario().title(), s.id());
            }
            if (!ownDaemon.isEmpty()) {
                out.println();
            }
        }
        List<KernelCell> cells = new ArrayList<>();
        for (KernelScenario s : scenarios) {
            KernelCell c = KernelScenarios.run(s, built, daemon, console ? err::println : null);
            cells.add(c);
            if (!json) {
                print(out, c);
            }
        }
        long ok = cells.stream().filter(KernelCell::asExpected).count();
        if (json) {
            StringBuilder sb = new StringBuilder("{\n  \"kernel\": ").append(Json.string(built.column()))
                    .append(",\n  \"source\": ").append(Json.string(source.describe()))
                    .append(",\n  \"equivalentPolicy\": ").append(Json.string(built.equivalentPolicy()))
                    .append(",\n  \"build\": {\"extractSeconds\": ").append(String.format(Locale.ROOT, "%.1f", built.extractSeconds()))
                    .append(", \"compileSeconds\": ").append(String.format(Locale.ROOT, "%.1f", built.compileSeconds()))
                    .append("},\n  \"notRun\": [")
                    .append(String.join(", ", ownDaemon.stream().map(s -> Json.string(s.id())).toList()))
                    .append("],\n  \"cells\": [");
            for (int i = 0; i < cells.size(); i++) {
                sb.append(i == 0 ? "\n    " : ",\n    ").append(cells.get(i).toJson());
            }
            out.println(sb.append("\n  ]\n}"));
        } else {
            out.printf("%n%d of %d cells as expected for %s%s%n", ok, cells.size(), built.column(),
                    ownDaemon.isEmpty() ? "" : " (" + ownDaemon.size() + " not run: they need their own daemon)");
        }
        return ok == cells.size() ? 0 : 1;
    }

    private KernelScenarios.Daemon parseConnect() {
        if (connect == null) {
            if (controlPort != null) {
                throw new KernelHarnessException(KernelHarnessException.Kind.USAGE, "--control-port needs --connect");
            }
            return KernelScenarios.Daemon.EMBEDDED;
        }
        int colon = connect.lastIndexOf(':');
        try {
            String host = connect.substring(0, colon);
            int port = Integer.parseInt(connect.substring(colon + 1));
            if (colon <= 0 || port <= 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new KernelScenarios.Daemon(host, port, controlPort != null ? controlPort : port + 1);
        } catch (RuntimeException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.USAGE,
                    "--connect wants HOST:PORT (the daemon's guest port), not '" + connect + "'");
        }
    }

    private static void print(PrintWriter out, KernelCell c) {
        out.println(c.scenario().title() + "  [" + c.scenario().id() + "]");
        String mark = c.asExpected() ? "ok  " : "DIFF";
        String got = c.error() != null ? "ERROR " + c.error() : c.result().verdict();
        out.printf("  %-21s %s %s  (%d ms)%n", c.column(), mark, got, c.millis());
        if (!c.asExpected()) {
            out.printf("  %-21s      expected (%s): %s%n", "", cliName(c.equivalentPolicy()), c.expected().verdict());
            if (c.knownDifference() != null) {
                out.printf("  %-21s      known difference: %s%n", "", c.knownDifference());
            }
        }
        out.printf("  %-21s      why: %s%n", "", c.expected().why());
        if (c.result() != null) {
            for (String e : c.result().evidence()) {
                out.printf("  %-21s      - %s%n", "", e);
            }
        }
    }

    /** "pre-fix" for PRE_FIX. */
    static String cliName(String policy) {
        return policy.toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
