package org.lparemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.lparemu.demo.Scenarios;
import org.lparemu.kernel.matrix.KernelCell;
import org.lparemu.kernel.matrix.KernelScenarios;

/**
 * Linux's own code against the Java port, cell by cell: for every VAS scenario the C guest runs, the cell of
 * Debian's 6.1 (before the 2023 fix) must equal the Java port's PRE_FIX cell, and 6.12's (with it) the
 * UPSTREAM cell, each run through the Java scenario classes against a fresh daemon. Where a scenario names a
 * known difference, the test prints it and checks only the C cell against its expectation.
 */
class DifferentialTest {
    /** Per cell: both runs' own waits are bounded (30 s each); this bounds the whole comparison. */
    static final Duration CELL_TIMEOUT = Duration.ofMinutes(2);

    @TestFactory
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    Stream<DynamicNode> linuxAgainstTheJavaPort() {
        return Kernels.DEBIAN.stream().map(v -> DynamicContainer.dynamicContainer("linux " + v,
                KernelScenarios.all().stream().map(s -> DynamicTest.dynamicTest(s.id(),
                        () -> assertTimeoutPreemptively(CELL_TIMEOUT, () -> compare(v, s))))));
    }

    private static void compare(String version, KernelScenario s) {
        KernelBuild.Built built = Kernels.debian(version);
        String policy = built.equivalentPolicy();
        assertEquals(version.equals("6.1") ? "PRE_FIX" : "UPSTREAM", policy,
                "Debian " + version + "'s vas.c " + (built.inProgressCounter() ? "has" : "lacks") + " nr_open_wins_progress");

        KernelCell c = KernelScenarios.run(s, built, KernelScenarios.Daemon.EMBEDDED, null);
        Scenarios.Cell java = Scenarios.run(s.javaScenario(), policy, null);
        assertNull(c.error(), () -> "C cell failed: " + c.error());
        assertNull(java.error(), () -> "Java cell failed: " + java.error());
        String detail = "\n  " + c.column() + ": " + c.result().verdict() + "\n    " + String.join("\n    ", c.result().evidence())
                + "\n  java " + policy + ": " + java.result().verdict() + "\n    " + String.join("\n    ", java.result().evidence());
        assertTrue(c.asExpected(), () -> "the C cell is not the expected outcome for " + policy + detail);
        if (c.knownDifference() != null) {
            System.out.println("kharness: " + s.id() + " " + c.column() + " may differ from the Java port: " + c.knownDifference());
            return;
        }
        assertEquals(java.result().verdict(), c.result().verdict(), () -> "C and Java cells differ" + detail);
    }
}
