package org.lparemu.server.trace;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Reads back what {@link TraceFileWriter} wrote: the rotated files oldest first ({@code FILE.N} ... {@code FILE.1}),
 * then {@code FILE}, one {@code lparemu.v1.TraceRecord} per line, in sequence order.
 */
public final class TraceFileReader {
    /** Rotated files looked for (the writer keeps at most 1000). */
    static final int MAX_ROTATED = 1000;

    private TraceFileReader() {
    }

    /** The files that make up the trace of {@code file}, oldest first (only the ones that exist). */
    public static List<Path> files(Path file) {
        List<Path> out = new ArrayList<>();
        for (int i = MAX_ROTATED; i >= 1; i--) {
            Path r = file.resolveSibling(file.getFileName() + "." + i);
            if (Files.exists(r)) {
                out.add(r);
            }
        }
        if (Files.exists(file)) {
            out.add(file);
        }
        return out;
    }

    /**
     * Every record of {@code file} and its rotated predecessors.
     *
     * @param max stop after this many records (a bound for the caller's memory)
     * @throws IOException when a file cannot be read or a line is not a trace record (with its file and line)
     */
    public static List<TraceRecord> read(Path file, int max) throws IOException {
        List<TraceRecord> out = new ArrayList<>();
        JsonFormat.Parser parser = JsonFormat.parser().ignoringUnknownFields();
        for (Path p : files(file)) {
            try (BufferedReader in = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
                String line;
                int n = 0;
                while ((line = in.readLine()) != null && out.size() < max) {
                    n++;
                    if (line.isBlank()) {
                        continue;
                    }
                    TraceRecord.Builder b = TraceRecord.newBuilder();
                    try {
                        parser.merge(line, b);
                    } catch (InvalidProtocolBufferException e) {
                        throw new IOException(p + ":" + n + ": not a trace record: " + e.getMessage(), e);
                    }
                    out.add(b.build());
                }
            }
        }
        return out;
    }
}
