package org.lparemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.kernel.matrix.KernelCommand;
import org.lparemu.kernel.matrix.KernelScenarios;
import org.lparemu.server.EmbeddedDaemon;
import picocli.CommandLine;

/** The kernel command: cells, JSON, exit statuses, typed errors, --connect and --ksrc. */
class KernelCommandTest {
    /** A while loop on the in-progress counter, as the 2023 fix's SUSPEND waits (found by its shape, not its text). */
    private static final Pattern WAIT_FOR_OPENS = Pattern.compile("while \\(\\w+->nr_open_wins_progress\\)\\s*\\{[^}]*\\}");

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new KernelCommand());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    @Timeout(60)
    void theSeedRaceCellIsTheExpectedOneForEachKernel() {
        for (String v : Kernels.DEBIAN) {
            Kernels.debian(v);
            Run r = run("--debian", v, "--json");
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("\"scenario\": \"vas-open-vs-migration\""), r.out());
            assertTrue(r.out().contains("\"asExpected\": true"), r.out());
            assertTrue(r.out().contains(v.equals("6.1") ? "suspend-me -9006 x5" : "open EBUSY"), r.out());
        }
    }

    @Test
    @Timeout(120)
    void connectsToARunningDaemonWithoutDisturbingItsPartitions() {
        Kernels.debian("6.12");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(); var c = d.control()) {
            String guestPort = "127.0.0.1:" + d.guestPort();
            String controlPort = Integer.toString(d.controlPort());
            Run r = run("--debian", "6.12", "--scenario", "modify-hardware-error", "--connect", guestPort,
                    "--control-port", controlPort);
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("ok   open EIO"), r.out());
            assertEquals(List.of("lpar1"), c.listPartitions().stream().map(p -> p.getName()).toList(),
                    "the run's own partition is gone, lpar1 untouched");

            // A scenario that configures its own platform cannot run there: named, a usage error; under 'all',
            // left out and said so, and the others decide the exit status.
            Run own = run("--debian", "6.12", "--scenario", "dlpar-remove-during-migration", "--connect", guestPort,
                    "--control-port", controlPort);
            assertEquals(2, own.exit(), own.out() + own.err());
            assertTrue(own.err().contains("run it without --connect"), own.err());
            Run all = run("--debian", "6.12", "--scenario", "all", "--json", "--connect", guestPort,
                    "--control-port", controlPort);
            assertEquals(0, all.exit(), all.out() + all.err());
            assertTrue(all.out().contains("\"notRun\": [\"dlpar-remove-before-vas-suspend\", "
                    + "\"dlpar-remove-during-migration\"]"), all.out());
            assertEquals(List.of("lpar1"), c.listPartitions().stream().map(p -> p.getName()).toList());
        }
    }

    @Test
    @Timeout(30)
    void badArgumentsAreUsageErrors() {
        assertEquals(2, run("--debian", "6.1", "--ksrc", "/tmp").exit());
        assertEquals(2, run().exit());
        Run r = run("--debian", "6.1", "--scenario", "no-such-thing");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("no scenario 'no-such-thing'"), r.err());
        assertEquals(2, run("--debian", "sid").exit());
        assertEquals(2, run("--debian", "6.1", "--connect", "nohostport").exit());
    }

    @Test
    @Timeout(30)
    void aMissingKernelIsUnavailableWithTheReason(@TempDir Path empty) {
        Run r = run("--ksrc", empty.toString());
        assertEquals(3, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("is not a Linux tree"), r.err());
        Run s = run("--debian", "5.10");
        assertEquals(3, s.exit());
        assertTrue(s.err().contains("linux-source-5.10"), s.err());
    }

    @Test
    @Timeout(30)
    void listsTheScenarios() {
        Run r = run("--list");
        assertEquals(0, r.exit());
        for (KernelScenario s : KernelScenarios.all()) {
            assertTrue(r.out().contains(s.id()), r.out());
        }
    }

    /**
     * "Run your own vas.c": a tree of one's own, here Debian's 6.1 with the 2023 fix backported (6.12's
     * vas.c and vas.h dropped in, as a cherry-pick of 0cf72f7f14d1 would), built with --ksrc: the seed race's
     * cell flips from the PRE_FIX outcome to the UPSTREAM one.
     */
    @Test
    @Timeout(180)
    void aPatchedTreeOfOnesOwn(@TempDir Path tmp) throws IOException {
        KernelBuild.Built old = Kernels.debian("6.1");
        KernelBuild.Built fixed = Kernels.debian("6.12");
        Path tree = tmp.resolve("linux");
        copyTree(old.dir().resolve("ksrc"), tree);
        for (String f : List.of("vas.c", "vas.h")) {
            Path p = Path.of("arch/powerpc/platforms/pseries", f);
            Files.copy(fixed.dir().resolve("ksrc").resolve(p), tree.resolve(p), StandardCopyOption.REPLACE_EXISTING);
        }
        Run r = run("--ksrc", tree.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("Linux 6.1.192 from tree " + tree), r.out());
        assertTrue(r.out().contains("has the 2023 in-progress counter: expecting the upstream cells"), r.out());
        assertTrue(r.out().contains("ok   migrated; suspend-me 0; open EBUSY; half-open window deallocated; no leak"), r.out());
    }

    /**
     * The other direction: 6.12 with SUSPEND's wait for opens in progress deleted (half of the 2023 fix
     * reverted). The opener is preempted at its mutex_lock after H_MODIFY, so ibm,suspend-me meets its window
     * still open once: the cell differs from the upstream one and the command exits 1.
     */
    @Test
    @Timeout(180)
    void aPatchThatDropsTheWaitForOpensInProgressIsCaught(@TempDir Path tmp) throws IOException {
        KernelBuild.Built fixed = Kernels.debian("6.12");
        Path tree = tmp.resolve("linux");
        copyTree(fixed.dir().resolve("ksrc"), tree);
        Path vas = tree.resolve("arch/powerpc/platforms/pseries/vas.c");
        Matcher wait = WAIT_FOR_OPENS.matcher(Files.readString(vas));
        assertTrue(wait.find(), "6.12's vas.c has SUSPEND's wait loop");
        Files.writeString(vas, wait.replaceFirst(""));
        Run r = run("--ksrc", tree.toString());
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("DIFF migrated; suspend-me -9006, 0; open EBUSY"), r.out());
        assertTrue(r.out().contains("expected (upstream): migrated; suspend-me 0;"), r.out());
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
