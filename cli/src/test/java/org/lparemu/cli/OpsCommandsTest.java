package org.lparemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.Scenarios;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.ServerSettings;
import org.lparemu.server.trace.TraceFileWriter;

/** The operator-facing pieces of the CLI: trace-convert, the progress line, the matrix's short cells, serve's flags. */
class OpsCommandsTest {
    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    @Test
    void traceConvertTurnsATraceFileIntoChromeJson(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("trace.jsonl");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(),
                ServerSettings.ephemeral().withTraceFile(TraceFileWriter.Settings.of(file)));
             GuestConnection g = d.guest("lpar1")) {
            g.hcall(0, 0x4444);
        }
        Path out = dir.resolve("chrome.json");
        CliRun r = run("trace-convert", file.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("-> " + out), r.out());
        String json = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"displayTimeUnit\"") && json.contains("\"name\":\"hcall 0x4444\""), json);

        CliRun missing = run("trace-convert", dir.resolve("nothing.jsonl").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no trace file"), missing.err());
    }

    @Test
    void theProgressLineDrawsInPlaceAndErasesItselfOrDoesNothing() {
        StringWriter text = new StringWriter();
        ProgressLine off = new ProgressLine(new PrintWriter(text), false);
        off.update(1, 3, "vas-open-vs-migration under pre-fix");
        off.clear();
        off.redraw();
        assertEquals("", text.toString(), "not at a terminal, or --json: not one byte");

        ProgressLine on = new ProgressLine(new PrintWriter(text), true);
        on.update(1, 3, "vas-open-vs-migration under pre-fix");
        assertTrue(text.toString().startsWith("\r[1/3 ") && text.toString().endsWith("pre-fix\u001b[K"), text.toString());
        on.clear();
        assertTrue(text.toString().endsWith("\r\u001b[K"));
        int before = text.toString().length();
        on.clear();
        assertEquals(before, text.toString().length(), "clearing twice prints nothing more");
        on.redraw();
        assertTrue(text.toString().endsWith("pre-fix\u001b[K"), "redrawn after other output");
        on.show("x".repeat(500));
        String last = text.toString().substring(text.toString().lastIndexOf('\r'));
        assertTrue(last.length() <= ProgressLine.DEFAULT_WIDTH + 4, "cut to the terminal's width: " + last.length());
    }

    @Test
    void aMatrixCellSaysItsOutcomeAndWhetherItWasExpected() {
        Scenario s = Scenarios.all().get(0);
        String verdict = "migration cancelled; suspend-me -9006 x5; open ok; window never closed before suspend; no leak";
        Scenarios.Cell expected = new Scenarios.Cell(s, "PRE_FIX", new Scenario.Expectation(verdict, "why"),
                new Scenario.Result(verdict, List.of()), null, 1, null);
        assertEquals("ok refused -9006 x5", DemoCommand.gridCell(expected));
        Scenarios.Cell differs = new Scenarios.Cell(s, "PRE_FIX", new Scenario.Expectation(verdict, "why"),
                new Scenario.Result("migrated; suspend-me 0; open ok; no leak", List.of()), null, 1, null);
        assertEquals("DIFF migrated", DemoCommand.gridCell(differs));
        Scenarios.Cell failed = new Scenarios.Cell(s, "PRE_FIX", new Scenario.Expectation(verdict, "why"), null, null, 1,
                "boom");
        assertEquals("DIFF error", DemoCommand.gridCell(failed));
    }

    @Test
    void serveRefusesABadMetricsPortOrTraceFileSize(@TempDir Path dir) {
        CliRun port = run("serve", "--metrics-port", "70000");
        assertEquals(2, port.code(), port.err());
        assertTrue(port.err().contains("--metrics-port"), port.err());
        CliRun size = run("serve", "--guest-port", "0", "--control-port", "0", "--trace-file",
                dir.resolve("t.jsonl").toString(), "--trace-file-max-mb", "0");
        assertEquals(2, size.code(), size.err());
        assertTrue(size.err().contains("trace file size"), size.err());
    }

    @Test
    void shellSupportInstallsCompletionAndManPagesGeneratedFromTheCommandModel(@TempDir Path dir) throws Exception {
        CliRun r = run("shell-support", "--prefix", dir.toString());
        assertEquals(0, r.code(), r.err());
        String completion = Files.readString(dir.resolve("share/bash-completion/completions/lparemu"));
        for (String word : List.of("serve", "ctl", "demo", "trace-convert", "--metrics-port", "--trace-file")) {
            assertTrue(completion.contains(word), "completion offers " + word);
        }
        assertTrue(completion.contains("complete -F"), "a bash completion function");
        Path serveAdoc = dir.resolve("share/lparemu/man/lparemu-serve.adoc");
        assertTrue(Files.readString(serveAdoc).contains("--metrics-port"), "one page per subcommand, with its options");
        assertTrue(Files.isRegularFile(dir.resolve("share/lparemu/man/lparemu.adoc")));
        Path troff = dir.resolve("share/man/man1/lparemu-serve.1");
        if (r.out().contains("AsciiDoc sources")) {
            assertTrue(r.out().contains("apt-get install asciidoctor"), r.out());
        } else {
            assertTrue(Files.readString(troff).contains(".TH \"LPAREMU\\-SERVE\""), "troff from asciidoctor");
        }

        CliRun printed = run("shell-support", "--completion-only");
        assertEquals(0, printed.code(), printed.err());
        assertEquals(completion, printed.out());
        CliRun none = run("shell-support", "--prefix", dir.resolve("b").toString(), "--asciidoctor", "none");
        assertTrue(none.out().contains("AsciiDoc sources"), none.out());
        assertTrue(Files.notExists(dir.resolve("b/share/man/man1/lparemu.1")));
    }
}
