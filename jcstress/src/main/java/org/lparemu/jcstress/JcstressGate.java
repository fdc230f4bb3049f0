package org.lparemu.jcstress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.openjdk.jcstress.JCStress;
import org.openjdk.jcstress.Options;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.infra.StateCase;
import org.openjdk.jcstress.infra.Status;
import org.openjdk.jcstress.infra.TestInfo;
import org.openjdk.jcstress.infra.collectors.DiskReadCollector;
import org.openjdk.jcstress.infra.collectors.InProcessCollector;
import org.openjdk.jcstress.infra.collectors.TestResult;
import org.openjdk.jcstress.infra.grading.GradingResult;
import org.openjdk.jcstress.infra.grading.TestGrading;
import org.openjdk.jcstress.infra.runners.TestList;

/**
 * Runs jcstress with the given arguments (the same as jcstress's own {@code Main}), then reads back the binary
 * result file and turns it into a build verdict with a compact table of outcome counts. jcstress 0.16 on its own
 * throws an AssertionError when a test failed, but passes when no test matched the filter and leaves the counts
 * of interesting outcomes in its long console report only.
 *
 * <p>Usage: {@code JcstressGate [--min-tests N] [--require-interesting REGEX] [--shape-demos REGEX] <jcstress
 * options>}. Tests whose name matches the {@code --shape-demos} REGEX are shape demos (see
 * {@link MigrationInProgressShapeDemo}): they run, but they are not tests of lparemu and do not count. Every other
 * test is gated. Fails (exit status 1) when any run of any test observed a FORBIDDEN or unlisted outcome, ended in
 * an error (exception in an actor, VM crash, timeout, API mismatch), when a gated test declares no FORBIDDEN
 * outcome (it could never fail), when fewer than N gated tests ran (so a filter that matches nothing cannot pass),
 * or when a test whose name matches the {@code --require-interesting} REGEX never observed any of its
 * ACCEPTABLE_INTERESTING outcomes (the sensitivity check: those tests model a buggy shape this hardware is
 * expected to show, so a run that never shows it would not have noticed the bug either). Prints every test's
 * outcome counts summed over its runs, with their expectation.
 *
 * <p>The gate's own option is an argument, not a system property, because jcstress passes the launching VM's
 * input arguments on to every test VM it forks.
 */
public final class JcstressGate {
    private JcstressGate() {
    }

    public static void main(String[] args) throws Exception {
        int minTests = 1;
        Pattern sensitive = null;
        Pattern demos = null;
        while (args.length >= 2 && args[0].startsWith("--")) {
            if (args[0].equals("--min-tests")) {
                minTests = Integer.parseInt(args[1]);
            } else if (args[0].equals("--require-interesting")) {
                sensitive = Pattern.compile(args[1]);
            } else if (args[0].equals("--shape-demos")) {
                demos = Pattern.compile(args[1]);
            } else {
                break;
            }
            args = Arrays.copyOfRange(args, 2, args.length);
        }
        Options opts = new Options(args);
        if (!opts.parse()) {
            System.err.println("jcstress gate: bad jcstress options");
            System.exit(2);
        }
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        try {
            new JCStress(opts).run();
        } catch (AssertionError e) {
            // jcstress's own verdict on failed tests; the per-test failures are collected again below.
            System.out.println("jcstress reported: " + e.getMessage());
        }
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;

        Collection<TestResult> results = Files.exists(Path.of(opts.getResultFile())) ? read(opts.getResultFile()) : List.of();
        Map<String, Map<String, Long>> counts = new TreeMap<>();
        Map<String, Map<String, Expect>> expects = new TreeMap<>();
        for (TestResult r : results) {
            String name = r.getName();
            if (r.status() != Status.NORMAL) {
                failures.add(name + ": " + r.status() + " " + String.join(" | ", r.getMessages()));
                continue;
            }
            TestGrading g = r.grading();
            if (!g.isPassed) {
                failures.add(name + ": " + String.join(" | ", g.failureMessages));
            }
            for (Map.Entry<String, GradingResult> e : g.gradingResults.entrySet()) {
                counts.computeIfAbsent(name, k -> new TreeMap<>()).merge(e.getKey(), e.getValue().count, Long::sum);
                expects.computeIfAbsent(name, k -> new TreeMap<>()).put(e.getKey(), e.getValue().expect);
            }
        }

        Pattern demo = demos;
        List<String> gated = counts.keySet().stream().filter(n -> demo == null || !demo.matcher(n).find()).toList();
        for (String name : gated) {
            if (!declaresForbidden(TestList.getInfo(name))) {
                failures.add(name + ": declares no FORBIDDEN outcome, so it cannot fail; make it a shape demo or give it one");
            }
        }

        System.out.println();
        System.out.println("jcstress gate: " + gated.size() + " tests and " + (counts.size() - gated.size()) + " shape demos, "
                + results.size() + " runs, " + seconds + " s");
        counts.forEach((name, states) -> {
            System.out.println("  " + name + (gated.contains(name) ? "" : "  (shape demo, not counted)"));
            states.forEach((state, n) -> {
                Expect x = expects.get(name).get(state);
                if (n > 0 || x == Expect.FORBIDDEN) {
                    System.out.printf("    %-14s %,15d  %s%n", "[" + state + "]", n, x);
                }
            });
        });
        if (sensitive != null) {
            for (Map.Entry<String, Map<String, Long>> t : counts.entrySet()) {
                if (!sensitive.matcher(t.getKey()).find()) {
                    continue;
                }
                long seen = t.getValue().entrySet().stream()
                        .filter(e -> expects.get(t.getKey()).get(e.getKey()) == Expect.ACCEPTABLE_INTERESTING)
                        .mapToLong(Map.Entry::getValue).sum();
                if (seen == 0) {
                    failures.add(t.getKey() + ": its interesting outcome (the buggy shape it models) was never observed; "
                            + "the harness would not have noticed the bug");
                }
            }
        }
        if (gated.size() < minTests) {
            failures.add("only " + gated.size() + " tests (shape demos aside) ran, expected at least " + minTests);
        }
        if (failures.isEmpty()) {
            System.out.println("jcstress gate: OK, no FORBIDDEN outcome and no error");
            return;
        }
        System.out.println("jcstress gate: FAILED");
        failures.forEach(f -> System.out.println("  " + f));
        System.exit(1);
    }

    /**
     * Whether any of the test's own {@code @Outcome}s, the catch-all one included, is FORBIDDEN. jcstress files a
     * declared catch-all (no id) under an empty pattern; without one, {@code unmatched()} makes up a FORBIDDEN
     * {@code ".*"} case, which is jcstress's default and says nothing about the test, so it does not count.
     */
    private static boolean declaresForbidden(TestInfo info) {
        StateCase catchAll = info.unmatched();
        if (catchAll.matchPattern().isEmpty() && catchAll.expect() == Expect.FORBIDDEN) {
            return true;
        }
        for (StateCase c : info.cases()) {
            if (c.expect() == Expect.FORBIDDEN) {
                return true;
            }
        }
        return false;
    }

    private static Collection<TestResult> read(String file) throws IOException, ClassNotFoundException {
        InProcessCollector collector = new InProcessCollector();
        DiskReadCollector reader = new DiskReadCollector(file, collector);
        try {
            reader.dump();
        } finally {
            reader.close();
        }
        return collector.getTestResults();
    }
}
