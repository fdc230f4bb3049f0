package org.lparemu.cli;

import ch.qos.logback.classic.Level;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.sim.Explorer;
import org.lparemu.core.sim.InterleavingDiagram;
import org.lparemu.core.sim.RunResult;
import org.lparemu.core.sim.ScheduleFile;
import org.lparemu.core.sim.ScheduleLog;
import org.lparemu.core.sim.SimScenario;
import org.lparemu.core.sim.SimScenarios;
import org.lparemu.core.sim.Strategies;
import org.lparemu.demo.ChromeTrace;
import org.lparemu.proto.v1.CampaignResult;
import org.lparemu.proto.v1.ExploreReport;
import org.lparemu.proto.v1.Failure;
import org.lparemu.wire.ControlMapping;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lparemu explore}: runs scenarios under a seeded scheduler that owns every interleaving, searches schedules
 * with a strategy, and reports outcomes by frequency and every violation with its seed, a shrunk schedule, an
 * interleaving diagram and a Chrome trace. Exit status 0 when nothing was found, {@value #EXIT_VIOLATION} when a
 * violation was, 2 for a usage error.
 */
@Command(name = "explore", mixinStandardHelpOptions = true, subcommands = ExploreCommand.Merge.class,
        description = "Search schedules of a scenario for races (deterministic simulation); every failure is a seed, "
                + "a shrunk schedule and a diagram.")
final class ExploreCommand implements Callable<Integer> {
    /** The exit status when a violation was found. */
    static final int EXIT_VIOLATION = 5;

    @Option(names = "--scenario", description = "Only this scenario (default: all; see --list).")
    String scenario;

    @Option(names = "--vas-policy", description = "VAS policy (default: every policy for VAS scenarios, UPSTREAM "
            + "for the others).")
    String vasPolicy;

    @Option(names = "--prrn-policy", description = "PRRN policy (default: every policy for PRRN scenarios, "
            + "DRAIN_BEFORE_SUSPEND for the others).")
    String prrnPolicy;

    @Option(names = "--strategy", defaultValue = "pos", description = "random, pct or pos (default: ${DEFAULT-VALUE}).")
    String strategy;

    @Option(names = "--depth", defaultValue = "3", description = "PCT depth (default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(names = "--schedules", defaultValue = "1000",
            description = "Schedules per campaign (default: ${DEFAULT-VALUE}; 0 with --time: until the time is up).")
    long schedules;

    @Option(names = "--time", description = "Seconds per campaign (stops earlier when --schedules are done).")
    Long seconds;

    @Option(names = "--seed", description = "The campaign seed (default: drawn from the clock and printed).")
    Long seed;

    @Option(names = "--replay", description = "Replay one run: a run seed (with --scenario and the policies), or a "
            + "schedule file written by a failing campaign.")
    String replay;

    @Option(names = "--shard", description = "I/N: run only the schedules i with i % N == I (for a CI matrix or an "
            + "array job; combine the --json files with `explore merge`).")
    String shard;

    @Option(names = "--max-steps", defaultValue = "50000",
            description = "Steps before a run is a livelock (default: ${DEFAULT-VALUE}).")
    long maxSteps;

    @Option(names = "--no-shrink", description = "Do not shrink the first failure.")
    boolean noShrink;

    @Option(names = "--json", description = "Print the report as JSON (the format `explore merge` reads).")
    boolean json;

    @Option(names = "--trace-dir", description = "Where failures' schedule files, diagrams and Chrome traces go "
            + "(default: a new temporary directory).")
    Path traceDir;

    @Option(names = "--list", description = "List the scenarios and their actors, run nothing.")
    boolean list;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private PrintWriter out;

    @Override
    public Integer call() throws IOException {
        out = spec.commandLine().getOut();
        if (System.getProperty("lparemu.log.level.set") == null) {
            // Every run boots a guest kernel whose log says so; thousands of runs would drown the report.
            LparemuCli.setRootLevel(Level.OFF);
        }
        try {
            if (list) {
                for (SimScenario s : SimScenarios.all()) {
                    out.printf("%-26s %s [%s]%n", s.id(), s.title(), String.join(", ",
                            s.actors().stream().map(a -> (a.guest() ? "task " : "operator ") + a.name()).toList()));
                }
                return 0;
            }
            if (!Strategies.NAMES.contains(strategy)) {
                throw new LparemuCli.CliException("--strategy must be one of " + Strategies.NAMES, 2);
            }
            try (Explorer explorer = new Explorer(maxSteps)) {
                return replay != null ? replay(explorer) : explore(explorer);
            }
        } finally {
            out.flush();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // campaigns

    private int explore(Explorer explorer) throws IOException {
        int[] sh = parseShard();
        long campaignSeed = seed != null ? seed : System.nanoTime();
        long budgetMs = seconds != null ? seconds * 1000 : 0;
        if (schedules <= 0 && budgetMs == 0) {
            throw new LparemuCli.CliException("--schedules 0 needs --time", 2);
        }
        Path dir = traceDir != null ? Files.createDirectories(traceDir) : Files.createTempDirectory("lparemu-explore-");
        ExploreReport.Builder report = ExploreReport.newBuilder();
        boolean found = false;
        for (Explorer.Campaign c : campaigns(campaignSeed, sh, budgetMs)) {
            String label = c.scenario().id() + " " + policyLabel(c);
            Progress progress = new Progress(label);
            Explorer.Report r = explorer.explore(c, progress::update);
            progress.clear();
            CampaignResult cr = result(c, r, dir);
            report.addCampaigns(cr);
            found |= !r.clean();
            if (!json) {
                printCampaign(cr);
            }
        }
        if (json) {
            out.println(JsonFormat.printer().print(report));
        } else if (found) {
            out.println("failures written under " + dir);
        }
        return found ? EXIT_VIOLATION : 0;
    }

    private int[] parseShard() {
        if (shard == null) {
            return new int[] {0, 1};
        }
        String[] p = shard.split("/");
        try {
            int i = Integer.parseInt(p[0]);
            int n = Integer.parseInt(p[1]);
            if (p.length != 2 || n < 1 || i < 0 || i >= n) {
                throw new NumberFormatException();
            }
            return new int[] {i, n};
        } catch (RuntimeException e) {
            throw new LparemuCli.CliException("--shard must be I/N with 0 <= I < N, got '" + shard + "'", 2);
        }
    }

    private List<Explorer.Campaign> campaigns(long campaignSeed, int[] sh, long budgetMs) {
        List<SimScenario> scenarios = new ArrayList<>();
        if (scenario != null) {
            scenarios.add(scenario(scenario));
        } else {
            scenarios.addAll(SimScenarios.all());
        }
        List<Explorer.Campaign> out = new ArrayList<>();
        for (SimScenario s : scenarios) {
            List<VasPolicy> vas = vasPolicy != null ? List.of(parseEnum(VasPolicy.class, vasPolicy, "--vas-policy"))
                    : s.axis() == SimScenario.Axis.VAS ? List.of(VasPolicy.values()) : List.of(VasPolicy.UPSTREAM);
            List<PrrnPolicy> prrn = prrnPolicy != null
                    ? List.of(parseEnum(PrrnPolicy.class, prrnPolicy, "--prrn-policy"))
                    : s.axis() == SimScenario.Axis.PRRN ? List.of(PrrnPolicy.values())
                    : List.of(PrrnPolicy.DRAIN_BEFORE_SUSPEND);
            for (VasPolicy v : vas) {
                for (PrrnPolicy p : prrn) {
                    out.add(new Explorer.Campaign(s, v, p, strategy, depth, schedules, budgetMs, campaignSeed, sh[0],
                            sh[1], !noShrink));
                }
            }
        }
        return out;
    }

    private static SimScenario scenario(String id) {
        try {
            return SimScenarios.byId(id);
        } catch (IllegalArgumentException e) {
            throw new LparemuCli.CliException(e.getMessage() + " (see explore --list)", 2);
        }
    }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String value, String option) {
        String v = value.toUpperCase(Locale.ROOT).replace('-', '_');
        try {
            return Enum.valueOf(type, v);
        } catch (IllegalArgumentException e) {
            List<String> names = new ArrayList<>();
            for (E c : type.getEnumConstants()) {
                names.add(c.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            }
            throw new LparemuCli.CliException(option + " must be one of " + names + ", got '" + value + "'", 2);
        }
    }

    private static String policyLabel(Explorer.Campaign c) {
        return c.scenario().axis() == SimScenario.Axis.PRRN ? c.prrnPolicy().name() : c.vasPolicy().name();
    }

    private CampaignResult result(Explorer.Campaign c, Explorer.Report r, Path dir) throws IOException {
        CampaignResult.Builder b = CampaignResult.newBuilder().setScenario(c.scenario().id())
                .setVasPolicy(c.vasPolicy().name()).setPrrnPolicy(c.prrnPolicy().name()).setStrategy(c.strategy())
                .setDepth(c.depth()).setSeed(c.seed()).addShardsMerged(c.shard()).setShardCount(c.shards())
                .setRuns(r.runs()).setFailures(r.failures()).putAllOutcomes(r.outcomes())
                .putAllFailuresByName(r.failuresByName()).setElapsedMs(r.elapsedNanos() / 1_000_000)
                .setExpectedSteps(r.expectedSteps());
        if (r.firstFailure() != null) {
            b.setFirstFailure(failure(r.firstFailure(), null, null));
        }
        if (r.shrunk() != null) {
            String base = c.scenario().id() + "-" + policyLabel(c).toLowerCase(Locale.ROOT) + "-" + r.shrunk()
                    .failureName();
            Path schedule = dir.resolve(base + ".schedule");
            Files.writeString(schedule, ScheduleFile.of(c.scenario(), c.vasPolicy(), c.prrnPolicy(), r.shrunk()).format(),
                    StandardCharsets.UTF_8);
            Path chrome = dir.resolve(base + ".json");
            Files.writeString(chrome, chromeTrace(r.shrunk()), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve(base + ".txt"), InterleavingDiagram.render(r.shrunk()), StandardCharsets.UTF_8);
            b.setShrunk(failure(r.shrunk(), schedule, chrome));
        }
        return b.build();
    }

    private static Failure failure(RunResult r, Path schedule, Path chrome) {
        Failure.Builder f = Failure.newBuilder().setRunSeed(r.seed()).setName(r.failureName())
                .setDetail(r.failureDetail()).setTraceHash(r.traceHash()).setSteps(r.steps())
                .setForcedDecisions(r.log().forced().size()).setPreemptions(r.log().preemptions())
                .setOutcome(r.outcome());
        for (ScheduleLog.Decision d : r.log().decisions()) {
            if (r.log().forced().containsKey(d.index())) {
                f.addForced(d.index() + " " + d.chosen());
            }
        }
        if (schedule != null) {
            f.setDiagram(InterleavingDiagram.render(r)).setScheduleFile(schedule.toString())
                    .setChromeTrace(chrome.toString());
        }
        return f.build();
    }

    private static String chromeTrace(RunResult r) {
        return ChromeTrace.toJson(r.trace().stream().map(ControlMapping::toProto).toList());
    }

    private void printCampaign(CampaignResult c) {
        out.printf("%s under %s/%s, %s depth %d, seed %d%s: %,d schedules in %.1f s (%.0f/s), %s%n", c.getScenario(),
                c.getVasPolicy(), c.getPrrnPolicy(), c.getStrategy(), c.getDepth(), c.getSeed(),
                c.getShardCount() > 1 ? " shard " + c.getShardsMerged(0) + "/" + c.getShardCount() : "", c.getRuns(),
                c.getElapsedMs() / 1000.0, c.getRuns() * 1000.0 / Math.max(1, c.getElapsedMs()),
                c.getFailures() == 0 ? "no violation" : c.getFailures() + " violation(s) " + c.getFailuresByNameMap());
        for (Map.Entry<String, Long> e : c.getOutcomesMap().entrySet()) {
            out.printf("  %7d  %5.1f%%  %s%n", e.getValue(), 100.0 * e.getValue() / Math.max(1, c.getRuns()), e.getKey());
        }
        if (c.hasFirstFailure()) {
            Failure f = c.getFirstFailure();
            out.printf("  first failure: run seed %d (replay: --replay %d --scenario %s --vas-policy %s --prrn-policy %s"
                    + " --strategy %s --depth %d), %s%n", f.getRunSeed(), f.getRunSeed(), c.getScenario(),
                    c.getVasPolicy(), c.getPrrnPolicy(), c.getStrategy(), c.getDepth(), f.getDetail());
        }
        if (c.hasShrunk()) {
            Failure s = c.getShrunk();
            out.printf("  shrunk: %d forced decision(s) [%s], %d preemption(s), %d steps; trace %s%n  schedule %s (replay: "
                    + "--replay %s)%n  chrome trace %s%n%n", s.getForcedDecisions(), forcedList(s), s.getPreemptions(),
                    s.getSteps(),
                    s.getTraceHash(), s.getScheduleFile(), s.getScheduleFile(), s.getChromeTrace());
            out.println(indent(s.getDiagram()));
        }
    }

    /** "#17 hmc, #42 drmgr": at decision 17 the scheduler ran hmc, and so on. */
    private static String forcedList(Failure f) {
        List<String> out = new ArrayList<>();
        for (String d : f.getForcedList()) {
            out.add("#" + d);
        }
        return String.join(", ", out);
    }

    private static String indent(String s) {
        return "    " + s.stripTrailing().replace("\n", "\n    ") + "\n";
    }

    // ------------------------------------------------------------------------------------------------------------
    // replay

    private int replay(Explorer explorer) throws IOException {
        Path file = Path.of(replay);
        RunResult r;
        SimScenario s;
        String expectHash = "";
        if (Files.isRegularFile(file)) {
            ScheduleFile f;
            try {
                f = ScheduleFile.parse(Files.readString(file, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new LparemuCli.CliException(file + ": " + e.getMessage(), 2);
            }
            s = scenario(f.scenario());
            expectHash = f.traceHash();
            r = explorer.replay(s, f.vasPolicy(), f.prrnPolicy(), f.forced());
        } else {
            long runSeed;
            try {
                runSeed = Long.parseLong(replay);
            } catch (NumberFormatException e) {
                throw new LparemuCli.CliException("--replay takes a run seed or a schedule file; '" + replay
                        + "' is neither", 2);
            }
            if (scenario == null) {
                throw new LparemuCli.CliException("--replay SEED needs --scenario (and the campaign's policies, "
                        + "strategy and depth)", 2);
            }
            s = scenario(scenario);
            VasPolicy v = vasPolicy != null ? parseEnum(VasPolicy.class, vasPolicy, "--vas-policy") : VasPolicy.UPSTREAM;
            PrrnPolicy p = prrnPolicy != null ? parseEnum(PrrnPolicy.class, prrnPolicy, "--prrn-policy")
                    : PrrnPolicy.DRAIN_BEFORE_SUSPEND;
            r = explorer.replaySeed(new Explorer.Campaign(s, v, p, strategy, depth, 1, 0, 0, 0, 1, false), runSeed);
        }
        if (json) {
            out.println(JsonFormat.printer().print(failure(r, null, null).toBuilder()
                    .setDiagram(InterleavingDiagram.render(r)).build()));
        } else {
            out.printf("%s: %s; %d steps, %d forced decision(s), %d preemption(s); trace %s%s%n", s.id(),
                    r.failed() ? "VIOLATION " + r.failureDetail() : "no violation, " + r.outcome(), r.steps(),
                    r.log().forced().size(), r.log().preemptions(), r.traceHash(),
                    expectHash.isEmpty() ? "" : expectHash.equals(r.traceHash()) ? " (as recorded)"
                            : " (recorded " + expectHash + ": the model changed since)");
            out.println(indent(InterleavingDiagram.render(r)));
            if (traceDir != null) {
                Files.createDirectories(traceDir);
                Path chrome = traceDir.resolve(s.id() + "-replay.json");
                Files.writeString(chrome, chromeTrace(r), StandardCharsets.UTF_8);
                out.println("chrome trace " + chrome);
            }
        }
        return r.failed() ? EXIT_VIOLATION : 0;
    }

    // ------------------------------------------------------------------------------------------------------------

    /** A progress line on a terminal (schedules, schedules/s, distinct outcomes, violations); nothing otherwise. */
    @SuppressWarnings("SystemConsoleNull") // Java 17: console() is null unless stdin and stdout are a terminal
    private final class Progress {
        private final String label;
        private final boolean on = System.console() != null && !json;
        private long lastNanos;

        Progress(String label) {
            this.label = label;
        }

        void update(Explorer.Progress p) {
            if (!on || p.elapsedNanos() - lastNanos < 200_000_000L) {
                return;
            }
            lastNanos = p.elapsedNanos();
            out.printf("\r%s: %,d schedules, %.0f/s, %d outcome(s), %d violation(s)   ", label, p.runs(),
                    p.runsPerSecond(), p.distinctOutcomes(), p.failures());
            out.flush();
        }

        void clear() {
            if (on && lastNanos > 0) {
                out.print("\r" + " ".repeat(100) + "\r");
                out.flush();
            }
        }
    }

    /** {@code explore merge FILE...}: combines the --json reports of a sharded campaign. */
    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = "Combine the --json reports of `explore --shard I/N` runs into one report (JSON).")
    static final class Merge implements Callable<Integer> {
        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Reports written by explore --json.")
        List<Path> files;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            List<ExploreReport> reports = new ArrayList<>();
            for (Path f : files) {
                ExploreReport.Builder b = ExploreReport.newBuilder();
                try {
                    JsonFormat.parser().merge(Files.readString(f, StandardCharsets.UTF_8), b);
                } catch (InvalidProtocolBufferException e) {
                    throw new LparemuCli.CliException(f + " is not an explore --json report: " + e.getMessage(), 2);
                }
                reports.add(b.build());
            }
            ExploreReport merged = merge(reports);
            for (CampaignResult c : merged.getCampaignsList()) {
                if (c.getShardsMergedCount() < c.getShardCount()) {
                    spec.commandLine().getErr().printf("warning: %s %s/%s has %d of %d shards%n", c.getScenario(),
                            c.getVasPolicy(), c.getPrrnPolicy(), c.getShardsMergedCount(), c.getShardCount());
                }
            }
            spec.commandLine().getOut().println(JsonFormat.printer().print(merged));
            spec.commandLine().getOut().flush();
            boolean found = merged.getCampaignsList().stream().anyMatch(c -> c.getFailures() > 0);
            return found ? EXIT_VIOLATION : 0;
        }

        /** Sums campaigns with the same scenario, policies, strategy, depth and seed; keeps the first failures. */
        static ExploreReport merge(List<ExploreReport> reports) {
            Map<String, CampaignResult.Builder> byKey = new LinkedHashMap<>();
            for (ExploreReport r : reports) {
                for (CampaignResult c : r.getCampaignsList()) {
                    String key = String.join("|", c.getScenario(), c.getVasPolicy(), c.getPrrnPolicy(), c.getStrategy(),
                            Integer.toString(c.getDepth()), Long.toString(c.getSeed()));
                    CampaignResult.Builder m = byKey.get(key);
                    if (m == null) {
                        byKey.put(key, c.toBuilder());
                        continue;
                    }
                    for (int shard : c.getShardsMergedList()) {
                        if (m.getShardsMergedList().contains(shard)) {
                            throw new LparemuCli.CliException("shard " + shard + "/" + c.getShardCount() + " of "
                                    + c.getScenario() + " " + c.getVasPolicy() + "/" + c.getPrrnPolicy()
                                    + " is in two of the reports: its runs would count twice", 2);
                        }
                    }
                    m.addAllShardsMerged(c.getShardsMergedList()).setRuns(m.getRuns() + c.getRuns())
                            .setFailures(m.getFailures() + c.getFailures())
                            .setElapsedMs(Math.max(m.getElapsedMs(), c.getElapsedMs()));
                    c.getOutcomesMap().forEach((k, v) -> m.putOutcomes(k, m.getOutcomesOrDefault(k, 0) + v));
                    c.getFailuresByNameMap().forEach((k, v) -> m.putFailuresByName(k,
                            m.getFailuresByNameOrDefault(k, 0) + v));
                    if (!m.hasFirstFailure() && c.hasFirstFailure()) {
                        m.setFirstFailure(c.getFirstFailure());
                    }
                    if (!m.hasShrunk() && c.hasShrunk()) {
                        m.setShrunk(c.getShrunk());
                    }
                }
            }
            ExploreReport.Builder out = ExploreReport.newBuilder();
            byKey.values().forEach(b -> out.addCampaigns(b.build()));
            return out.build();
        }
    }
}
