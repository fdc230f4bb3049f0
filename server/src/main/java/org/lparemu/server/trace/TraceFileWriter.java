package org.lparemu.server.trace;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.lparemu.core.trace.TraceRing;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.wire.ControlMapping;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams the daemon's trace to a file ({@code serve --trace-file}): one JSON object per line, each the proto3 JSON
 * of an {@code lparemu.v1.TraceRecord} exactly as GetTrace returns it, so any protobuf runtime reads it back and
 * {@code lparemu trace-convert} turns it into Chrome trace-event JSON for Perfetto.
 *
 * <p><b>Off the call path.</b> A single writer thread follows the trace ring the way a GetTrace client would: it
 * reads what is there in chunks, and when it has caught up it waits for the next record ({@link TraceRing#await},
 * woken by the append). The calls that produce the records never wait for the file. If the writer falls so far
 * behind that the ring overwrites records it has not read (a sustained load far above what a file can take), the
 * loss is written into the file as a STATE record named {@code trace-file: N records dropped}, never silently.
 *
 * <p><b>Bounded.</b> The file grows to {@code maxBytes}, then is rotated: {@code FILE} becomes {@code FILE.1},
 * {@code FILE.1} becomes {@code FILE.2}, and so on up to {@code keep} old files (the oldest is deleted). The disk
 * used is at most {@code (keep + 1) * maxBytes} (a line never splits across files).
 *
 * <p><b>Flushed.</b> The writer flushes whenever it has caught up, so {@code tail -f} sees records within moments,
 * and {@link #close()} (the daemon's shutdown, on SIGTERM) writes everything the ring still holds and flushes it.
 */
public final class TraceFileWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TraceFileWriter.class);
    /** Records read from the ring per chunk. */
    static final int CHUNK = 4096;
    /** How long the caught-up writer waits for a record before checking whether it was closed. */
    static final long IDLE_WAIT_MS = 250;

    /**
     * Where and how much.
     *
     * @param file     the file (created or appended to); rotated ones get {@code .1}, {@code .2}, ...
     * @param maxBytes size at which the file is rotated
     * @param keep     rotated files kept (0 = the file is truncated when full)
     */
    public record Settings(Path file, long maxBytes, int keep) {
        public static final long DEFAULT_MAX_BYTES = 64L << 20;
        public static final int DEFAULT_KEEP = 4;

        public Settings {
            if (maxBytes < 4096) {
                throw new IllegalArgumentException("trace file size must be at least 4096 bytes, got " + maxBytes);
            }
            if (keep < 0 || keep > 1000) {
                throw new IllegalArgumentException("rotated trace files kept must be 0..1000, got " + keep);
            }
        }

        public static Settings of(Path file) {
            return new Settings(file, DEFAULT_MAX_BYTES, DEFAULT_KEEP);
        }
    }

    private final Settings settings;
    private final TraceRing ring;
    private final JsonFormat.Printer json = JsonFormat.printer().omittingInsignificantWhitespace();
    private final Thread thread;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    /** Completed by {@link #close()}: wakes the writer at once. */
    private final CompletableFuture<Void> wake = new CompletableFuture<>();
    // writer thread only
    private BufferedWriter out;
    private long bytes;
    private long sinceSeq;
    private long written;
    private long dropped;
    private volatile boolean closing;

    private TraceFileWriter(Settings settings, TraceRing ring) throws IOException {
        this.settings = settings;
        this.ring = ring;
        Path parent = settings.file().toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        open();
        this.sinceSeq = ring.nextSeq() - 1;
        this.thread = new Thread(this::run, "lparemu-trace-file");
        thread.setDaemon(true);
    }

    /** Opens (appends to) the file and starts following the ring from its next record. */
    public static TraceFileWriter start(Settings settings, TraceRing ring) throws IOException {
        TraceFileWriter w = new TraceFileWriter(settings, ring);
        w.thread.start();
        LOG.info("streaming the trace to {} (rotated at {} bytes, {} old file(s) kept)", settings.file(),
                settings.maxBytes(), settings.keep());
        return w;
    }

    private void open() throws IOException {
        out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(settings.file(), StandardOpenOption.CREATE,
                StandardOpenOption.APPEND), StandardCharsets.UTF_8), 1 << 16);
        bytes = Files.size(settings.file());
    }

    private void run() {
        try {
            while (true) {
                boolean caughtUp = drain();
                if (closing) {
                    drain();
                    out.flush();
                    return;
                }
                if (caughtUp) {
                    out.flush();
                    awaitNext();
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.error("trace file {}: writing stopped after {} records: {}", settings.file(), written, e.toString());
        } finally {
            try {
                out.close();
            } catch (IOException e) {
                LOG.warn("trace file {}: close failed: {}", settings.file(), e.toString());
            }
            stopped.complete(null);
        }
    }

    /** Writes one chunk; true when the ring had nothing more. */
    private boolean drain() throws IOException {
        TraceRing.Chunk c = ring.read(sinceSeq, CHUNK, null);
        if (c.dropped() > 0) {
            dropped += c.dropped();
            write(TraceRecord.newBuilder().setSeq(sinceSeq + 1).setKind(TraceKind.STATE).setVcpu(-1)
                    .setName("trace-file: " + c.dropped() + " records dropped")
                    .setDetail("the ring overwrote them before the trace-file writer read them").build());
        }
        for (var r : c.records()) {
            write(ControlMapping.toProto(r));
        }
        sinceSeq = Math.max(sinceSeq, c.lastSeq());
        return c.records().isEmpty() || c.records().size() < CHUNK;
    }

    private void awaitNext() {
        CompletableFuture<?> next = ring.await(null, sinceSeq, r -> true);
        try {
            CompletableFuture.anyOf(next, wake).get(IDLE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            closing = true;
        } catch (ExecutionException | TimeoutException e) {
            // nothing new yet, or the daemon is closing: the loop looks again
        } finally {
            next.cancel(false);
        }
    }

    private void write(TraceRecord r) throws IOException {
        String line;
        try {
            line = json.print(r);
        } catch (InvalidProtocolBufferException e) {
            throw new IOException("trace record " + r.getSeq() + " does not print as JSON", e);
        }
        long n = line.getBytes(StandardCharsets.UTF_8).length + 1L;
        if (bytes > 0 && bytes + n > settings.maxBytes()) {
            rotate();
        }
        out.write(line);
        out.write('\n');
        bytes += n;
        written++;
    }

    private void rotate() throws IOException {
        out.close();
        Path f = settings.file();
        if (settings.keep() == 0) {
            Files.delete(f);
        } else {
            Files.deleteIfExists(rotated(settings.keep()));
            for (int i = settings.keep() - 1; i >= 1; i--) {
                if (Files.exists(rotated(i))) {
                    Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.move(f, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        }
        open();
    }

    /** The rotated file number {@code n} ({@code FILE.n}). */
    public Path rotated(int n) {
        return settings.file().resolveSibling(settings.file().getFileName() + "." + n);
    }

    /** Records written so far (writer thread's count; for tests and the shutdown log). */
    public long written() {
        return written;
    }

    /**
     * Writes every record the ring still holds, flushes and closes the file; waits up to 5 s for the writer (the
     * daemon's shutdown calls this after the last call was answered).
     */
    @Override
    public void close() {
        closing = true;
        wake.complete(null);
        try {
            stopped.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("trace file {}: the writer did not finish within 5 s", settings.file());
        }
        LOG.info("trace file {}: {} records written{}", settings.file(), written,
                dropped > 0 ? ", " + dropped + " dropped (the ring overwrote them first)" : "");
    }
}
