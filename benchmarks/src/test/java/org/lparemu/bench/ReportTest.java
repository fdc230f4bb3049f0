package org.lparemu.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.bench.report.Column;
import org.lparemu.bench.report.FigureResult;
import org.lparemu.bench.report.Machine;
import org.lparemu.bench.report.Ratio;
import org.lparemu.bench.report.Report;
import org.lparemu.bench.report.ResultRow;
import org.lparemu.bench.report.ResultTable;

/** The report model: medians, target verdicts, JSON round trip, and the hand-written analysis kept on rewrite. */
class ReportTest {

    @Test
    void medianOfOddAndEvenCounts() {
        assertEquals(2.0, ResultRow.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, ResultRow.median(List.of(4.0, 1.0, 2.0, 3.0)));
    }

    @Test
    void ratiosJudgeTargetsBothWays() {
        assertTrue(Ratio.atMost("a", 1.2, 1.25, "x").met());
        assertFalse(Ratio.atMost("a", 1.5, 1.25, "x").met());
        assertEquals(1.2, Ratio.atMost("a", 1.5, 1.25, "x").gap(), 1e-9);
        assertTrue(Ratio.atLeast("b", 0.8, 0.7, "x").met());
        assertEquals(2.0, Ratio.atLeast("b", 0.35, 0.7, "x").gap(), 1e-9);
        assertEquals(null, Ratio.info("c", 3, "x").met());
    }

    @Test
    void jsonRoundTripsAndMarkdownKeepsTheAnalysis(@TempDir Path dir) throws Exception {
        Report r = sample();
        Path json = dir.resolve("benchmarks.json");
        r.writeJson(json);
        Report back = Report.fromJson(Files.readString(json));
        assertEquals(12.5, back.figures.get(0).tables.get(0).rows.get(0).get("p50_us"));
        assertEquals(List.of(12.0, 40.0, 12.5), back.figures.get(0).tables.get(0).rows.get(0).runs.get("p50_us"));

        Path md = dir.resolve("benchmarks.md");
        r.writeMarkdown(md);
        String first = Files.readString(md);
        assertTrue(first.contains("| X1 | p50 a / b | test | 0.50x | <= 1.25x | met |"), first);
        Files.writeString(md, first.replace("(No analysis written yet. Text between these markers survives regeneration.)",
                "Hand-written: the reason for the gap."));
        r.writeMarkdown(md);
        assertTrue(Files.readString(md).contains("Hand-written: the reason for the gap."));
    }

    private static Report sample() {
        Report r = new Report();
        r.mode = "smoke";
        r.command = "test";
        r.started = "2026-01-01T00:00:00Z";
        r.machine = new Machine(2, "0-1", "cpu", 1L << 30, "jdk", "vm", List.of("-Xmx1g"), 1L << 30, "Linux", "6",
                "amd64", "epoll", "4.2.18.Final", "4.36.2", "1.85.1", "1.37", "abc");
        FigureResult f = new FigureResult("X1", "sample");
        ResultTable t = new ResultTable("t", "test", List.of(new Column("p50_us", "p50 µs", 1)));
        t.rows.add(new ResultRow("a").put("p50_us", List.of(12.0, 40.0, 12.5)));
        t.rows.add(new ResultRow("b").put("p50_us", List.of(25.0, 25.0, 25.0)));
        f.tables.add(t);
        f.ratios.add(Ratio.atMost("p50 a / b", t.row("a").get("p50_us") / t.row("b").get("p50_us"), 1.25, "test"));
        r.figures.add(f);
        return r;
    }
}
