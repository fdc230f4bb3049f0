package org.lparemu.junit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.demo.ChromeTrace;
import org.lparemu.demo.TaskListing;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.wire.ControlMapping;

/** Writes a test's trace: Chrome trace-event JSON (Perfetto, chrome://tracing) and the plain-text listing. */
public final class TraceFiles {
    /** Records written at most per test (the ring holds fewer by default). */
    static final int MAX_RECORDS = 1_000_000;

    /** The two files of one trace. */
    public record Written(Path chrome, Path text, int records) {
        @Override
        public String toString() {
            return chrome.toAbsolutePath() + " (Chrome JSON, open in ui.perfetto.dev) and " + text.toAbsolutePath()
                    + " (plain text), " + records + " records";
        }
    }

    private TraceFiles() {
    }

    /** Every record since {@code sinceSeq}, converted to the wire form the exporters read. */
    static List<TraceRecord> records(Platform platform, long sinceSeq) {
        List<TraceRecord> out = new ArrayList<>();
        long since = sinceSeq;
        while (out.size() < MAX_RECORDS) {
            TraceRing.Chunk c = platform.trace().read(since, 100_000, null);
            c.records().forEach(r -> out.add(ControlMapping.toProto(r)));
            if (c.records().isEmpty() || c.lastSeq() == since) {
                break;
            }
            since = c.lastSeq();
        }
        return out;
    }

    /** Writes {@code dir/base.json} and {@code dir/base.txt}. */
    static Written write(Platform platform, long sinceSeq, Path dir, String base) throws IOException {
        return write(records(platform, sinceSeq), dir, base);
    }

    /** Writes {@code records} as {@code dir/base.json} and {@code dir/base.txt}. */
    static Written write(List<TraceRecord> records, Path dir, String base) throws IOException {
        Files.createDirectories(dir);
        Path chrome = dir.resolve(base + ".json");
        Path text = dir.resolve(base + ".txt");
        Files.writeString(chrome, ChromeTrace.toJson(records), StandardCharsets.UTF_8);
        Files.writeString(text, TaskListing.render(records), StandardCharsets.UTF_8);
        return new Written(chrome, text, records.size());
    }
}
