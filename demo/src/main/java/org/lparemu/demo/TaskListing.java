package org.lparemu.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Trace records as plain text for a person reading a failure: first the interleaving, one column per guest task
 * (and one for the platform: events, state changes, faults, operator actions), time flowing down, so what ran
 * while a call was in flight is visible at a glance; then each task's own records in order, with every detail.
 * The Chrome JSON ({@link ChromeTrace}) is the same trace for Perfetto.
 */
public final class TaskListing {
    /** Task columns drawn in the interleaving; further tasks share the last column, named in their cells. */
    static final int MAX_COLUMNS = 6;
    static final int COLUMN_WIDTH = 36;
    static final String PLATFORM = "platform";

    private TaskListing() {
    }

    public static String render(List<TraceRecord> records) {
        StringBuilder sb = new StringBuilder();
        if (records.isEmpty()) {
            return "no trace records\n";
        }
        Map<String, List<TraceRecord>> byTask = new LinkedHashMap<>();
        for (TraceRecord r : records) {
            byTask.computeIfAbsent(track(r), k -> new ArrayList<>()).add(r);
        }
        List<String> columns = new ArrayList<>();
        for (String t : byTask.keySet()) {
            if (!t.equals(PLATFORM) && columns.size() < MAX_COLUMNS) {
                columns.add(t);
            }
        }
        boolean overflow = byTask.keySet().stream().anyMatch(t -> !t.equals(PLATFORM) && !columns.contains(t));
        if (overflow) {
            columns.add("(other tasks)");
        }
        columns.add(PLATFORM);
        sb.append(String.format(Locale.ROOT, "lparemu trace: %d records, seq %d..%d, partitions %s%n%n", records.size(),
                records.get(0).getSeq(), records.get(records.size() - 1).getSeq(), records.stream()
                        .map(TraceRecord::getPartition).filter(p -> !p.isEmpty()).distinct().toList()));
        sb.append("Interleaving (one column per task, time flows down):\n");
        StringBuilder head = new StringBuilder(String.format("%8s %10s", "seq", "ms"));
        for (String c : columns) {
            head.append(" | ").append(cell(c));
        }
        sb.append(head.toString().stripTrailing()).append('\n');
        for (TraceRecord r : records) {
            String t = track(r);
            int col = columns.indexOf(t);
            String text = brief(r);
            if (col < 0) {
                col = columns.size() - 2;
                text = t + ": " + text;
            }
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%8d %10.3f", r.getSeq(),
                    r.getNanos() / 1e6));
            for (int i = 0; i < columns.size(); i++) {
                line.append(" | ").append(cell(i == col ? text : ""));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        sb.append("\nPer task:\n");
        for (Map.Entry<String, List<TraceRecord>> e : byTask.entrySet()) {
            sb.append("\n== ").append(e.getKey()).append(" (").append(e.getValue().size()).append(" records)\n");
            for (TraceRecord r : e.getValue()) {
                sb.append(String.format(Locale.ROOT, "%8d %10.3f ms  %s%n", r.getSeq(), r.getNanos() / 1e6, full(r)));
            }
        }
        return sb.toString();
    }

    /** The column a record belongs to: its guest task, its vCPU when the task is unknown, or the platform. */
    static String track(TraceRecord r) {
        return switch (r.getKind()) {
            case CALL_BEGIN, CALL_END, REFUSED, GUEST -> !r.getTask().isEmpty() ? r.getTask()
                    : r.getVcpu() >= 0 ? "vcpu " + r.getVcpu() : PLATFORM;
            default -> PLATFORM;
        };
    }

    private static String cell(String s) {
        String t = s.length() > COLUMN_WIDTH ? s.substring(0, COLUMN_WIDTH - 1) + "~" : s;
        return t + " ".repeat(COLUMN_WIDTH - t.length());
    }

    private static String status(TraceRecord r) {
        return r.getOpcode() == 0 ? RtasStatus.name(r.getStatus()) : HStatus.name(r.getStatus());
    }

    private static String brief(TraceRecord r) {
        return switch (r.getKind()) {
            case CALL_BEGIN -> r.getName() + " ...";
            case CALL_END -> r.getName() + " -> " + status(r);
            case REFUSED -> "REFUSED " + r.getName();
            case GUEST -> "* " + r.getName();
            default -> r.getKind().name().toLowerCase(Locale.ROOT) + " " + r.getName();
        };
    }

    private static String full(TraceRecord r) {
        StringBuilder sb = new StringBuilder();
        switch (r.getKind()) {
            case CALL_BEGIN -> sb.append("vcpu ").append(r.getVcpu()).append(' ').append(r.getName())
                    .append(r.getArgsList().stream().map(a -> "0x" + Long.toHexString(a))
                            .collect(Collectors.joining(", ", "(", ")")));
            case CALL_END -> sb.append("vcpu ").append(r.getVcpu()).append(' ').append(r.getName()).append(" -> ")
                    .append(status(r)).append(String.format(Locale.ROOT, " (%.3f ms)",
                            (r.getNanos() - r.getBeginNanos()) / 1e6));
            case REFUSED -> sb.append("vcpu ").append(r.getVcpu()).append(" REFUSED ").append(r.getName());
            case GUEST -> sb.append("tracepoint ").append(r.getName());
            default -> sb.append(r.getKind() == TraceKind.STATE ? "state " : r.getKind().name().toLowerCase(Locale.ROOT)
                    + " ").append(r.getName());
        }
        if (!r.getPartition().isEmpty()) {
            sb.append("  [").append(r.getPartition()).append(']');
        }
        if (!r.getDetail().isEmpty()) {
            sb.append("  ").append(r.getDetail());
        }
        return sb.toString();
    }
}
