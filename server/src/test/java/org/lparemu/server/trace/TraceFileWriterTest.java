package org.lparemu.server.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.server.ServerSettings;

/** {@code serve --trace-file}: every record reaches the file by the time the daemon has stopped, and the file rotates. */
class TraceFileWriterTest {
    static final long NOP = 0x4444;

    @Test
    void everyRecordIsInTheFileOnceTheDaemonHasStopped(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("trace.jsonl");
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(),
                ServerSettings.ephemeral().withTraceFile(TraceFileWriter.Settings.of(file)));
             GuestConnection g = d.guest("lpar1")) {
            for (int i = 0; i < 50; i++) {
                assertEquals(-2, g.hcall(i % 4, NOP).status());
            }
        }
        List<TraceRecord> records = TraceFileReader.read(file, 100_000);
        assertEquals(List.of(file), TraceFileReader.files(file));
        long calls = records.stream().filter(r -> r.getKind() == TraceKind.CALL_END && r.getName().equals("hcall 0x4444"))
                .count();
        assertEquals(50, calls, "every answered call, the last ones included (flushed at close)");
        for (int i = 1; i < records.size(); i++) {
            assertEquals(records.get(i - 1).getSeq() + 1, records.get(i).getSeq(), "no gap at " + i);
        }
        assertTrue(records.stream().anyMatch(r -> r.getKind() == TraceKind.CONNECTION), "connection records too");
    }

    @Test
    void theFileRotatesAtItsSizeAndKeepsTheNewestFiles(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.jsonl");
        TraceFileWriter.Settings s = new TraceFileWriter.Settings(file, 4096, 2);
        try (EmbeddedDaemon d = EmbeddedDaemon.start(PlatformConfig.defaults(), ServerSettings.ephemeral().withTraceFile(s));
             GuestConnection g = d.guest("lpar1")) {
            for (int i = 0; i < 300; i++) {
                g.hcall(i % 4, NOP);
            }
        }
        assertTrue(Files.exists(file.resolveSibling("t.jsonl.1")));
        assertTrue(Files.exists(file.resolveSibling("t.jsonl.2")));
        assertFalse(Files.exists(file.resolveSibling("t.jsonl.3")), "only two rotated files are kept");
        for (Path p : TraceFileReader.files(file)) {
            assertTrue(Files.size(p) <= 4096, p + " is " + Files.size(p) + " bytes");
        }
        List<TraceRecord> records = TraceFileReader.read(file, 100_000);
        for (int i = 1; i < records.size(); i++) {
            assertEquals(records.get(i - 1).getSeq() + 1, records.get(i).getSeq(), "the kept files are contiguous");
        }
        TraceRecord last = records.stream().filter(r -> r.getKind() == TraceKind.CALL_END).reduce((a, b) -> b)
                .orElseThrow();
        assertEquals("hcall 0x4444", last.getName(), "the newest records are kept");
    }
}
