package org.lparemu.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.lparemu.demo.ChromeTrace;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.server.trace.TraceFileReader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lparemu trace-convert FILE}: turns a trace file written by {@code serve --trace-file} (with its rotated
 * predecessors) into Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open.
 */
@Command(name = "trace-convert", mixinStandardHelpOptions = true,
        description = "Convert a trace file of 'serve --trace-file' (JSON lines; FILE.N ... FILE.1 are read first) to "
                + "Chrome trace-event JSON for Perfetto or chrome://tracing.")
final class TraceConvertCommand implements Callable<Integer> {
    /** Records converted at most (a Chrome trace much larger than this does not open in a browser anyway). */
    static final int MAX_RECORDS = 5_000_000;

    @Parameters(index = "0", paramLabel = "FILE", description = "The trace file given to serve --trace-file.")
    Path file;

    @Option(names = {"-o", "--out"}, paramLabel = "OUT", description = "Write the Chrome JSON here (default: FILE.json).")
    Path out;

    @Option(names = "--partition", paramLabel = "P", description = "Only this partition's records.")
    String partition;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (TraceFileReader.files(file).isEmpty()) {
            throw new LparemuCli.CliException("no trace file " + file, 2);
        }
        List<TraceRecord> records = TraceFileReader.read(file, MAX_RECORDS);
        if (partition != null) {
            records = records.stream().filter(r -> r.getPartition().equals(partition) || r.getPartition().isEmpty())
                    .toList();
        }
        Path target = out != null ? out : file.resolveSibling(file.getFileName() + ".json");
        Files.writeString(target, ChromeTrace.toJson(records), StandardCharsets.UTF_8);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("%d records from %d file(s) -> %s (open in ui.perfetto.dev or chrome://tracing)%n", records.size(),
                TraceFileReader.files(file).size(), target);
        w.flush();
        return 0;
    }
}
