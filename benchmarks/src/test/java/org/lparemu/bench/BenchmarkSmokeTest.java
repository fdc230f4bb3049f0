package org.lparemu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.Report;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;

/**
 * Runs the whole harness with tiny sizes (smoke mode) so it cannot rot, and checks that the JSON holds every
 * figure and every value is present and positive. It asserts nothing about timings.
 */
class BenchmarkSmokeTest {

    @Test
    void smokeRunWritesEveryFigure() throws Exception {
        Path out = Path.of("target", "benchmark-smoke");
        Files.deleteIfExists(out.resolve("benchmarks.json"));
        Files.deleteIfExists(out.resolve("benchmarks.md"));
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BenchMain.Options o = BenchMain.Options.parse("--smoke", "--out", out.toString(), "--command",
                "mvn verify (BenchmarkSmokeTest)");
        try (PrintStream log = new PrintStream(progress, true, StandardCharsets.UTF_8)) {
            BenchMain.run(o, log);
        } catch (Exception | AssertionError e) {
            System.err.print(progress.toString(StandardCharsets.UTF_8));
            throw e;
        }

        Report r = Report.fromJson(Files.readString(out.resolve("benchmarks.json"), StandardCharsets.UTF_8));
        assertEquals("smoke", r.mode);
        assertEquals("mvn verify (BenchmarkSmokeTest)", r.command);
        assertNotNull(r.machine);
        assertTrue(r.machine.cores() > 0);
        assertFalse(r.machine.jdk().isBlank());
        assertFalse(r.machine.os().isBlank());

        Set<String> expected = Figures.all().stream().filter(f -> !f.fullOnly()).map(Figure::id)
                .collect(Collectors.toSet());
        assertEquals(expected, r.figures.stream().map(f -> f.id).collect(Collectors.toSet()));
        for (FigureResult f : r.figures) {
            assertFalse(f.tables.isEmpty(), f.id + " has no table");
            assertFalse(f.ratios.isEmpty(), f.id + " has no ratio");
            for (ResultTable t : f.tables) {
                assertFalse(t.rows.isEmpty(), f.id + " " + t.name + " has no rows");
                for (ResultRow row : t.rows) {
                    for (Column c : t.columns) {
                        String what = f.id + " / " + t.placement + " / " + row.label + " / " + c.key();
                        Double v = row.median.get(c.key());
                        assertNotNull(v, what + " missing");
                        List<Double> runs = row.runs.get(c.key());
                        assertNotNull(runs, what + " has no runs");
                        // One value per interleaved round, or per seed or campaign (B7, B9, B10); never none.
                        assertFalse(runs.isEmpty(), what + " runs");
                        if (c.mayBeZero()) {
                            // Counts a short stress run may legitimately not find (e.g. race reproductions).
                            assertTrue(Double.isFinite(v) && v >= 0, what + " = " + v);
                        } else {
                            assertPositive(v, what);
                            runs.forEach(x -> assertPositive(x, what + " (a run)"));
                        }
                    }
                }
            }
            for (Ratio ratio : f.ratios) {
                if (ratio.target() == 0 && "<=".equals(ratio.comparator())) {
                    // A count that must stay at zero (livelocks, violations).
                    assertTrue(Double.isFinite(ratio.value()) && ratio.value() >= 0, f.id + " ratio " + ratio.name());
                } else {
                    assertPositive(ratio.value(), f.id + " ratio " + ratio.name());
                }
            }
        }
        FigureResult b1 = r.figures.stream().filter(f -> f.id.equals("B1")).findFirst().orElseThrow();
        if (new BenchContext(Sizes.SMOKE, "", true, false, System.err).canPin()) {
            assertEquals(2, b1.tables.size(), "B1 is measured unpinned and pinned to one vCPU (child JVM)");
        }

        String md = Files.readString(out.resolve("benchmarks.md"), StandardCharsets.UTF_8);
        for (String id : expected) {
            assertTrue(md.contains("## " + id + ": "), "benchmarks.md has a section for " + id);
        }
        assertTrue(md.contains(Report.ANALYSIS_BEGIN) && md.contains(Report.ANALYSIS_END));
    }

    private static void assertPositive(double v, String what) {
        assertTrue(Double.isFinite(v) && v > 0, what + " = " + v);
    }
}
