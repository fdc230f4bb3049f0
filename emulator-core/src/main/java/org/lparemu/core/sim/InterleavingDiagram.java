package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run drawn as the interleaving a kernel engineer pastes into a mail: one column per task, time going down, one
 * row per step (a lock taken, an hcall issued and its answer, a flag read or written, a wait), in the style of the
 * linuxppc-dev report on the 2023 race ({@code t1: Allocate and open VAS window | t2: Migration event}).
 *
 * <p>Boot, the quiescent check and bookkeeping steps (entering the kernel, waiting for a vCPU or for work) are left
 * out; the stop_machine stoppers ({@code migration/N}) share one column, each row prefixed with its vCPU. An hcall
 * answered before any other task moved is drawn on one row ({@code H_JOIN -> H_CONTINUE}).
 */
public final class InterleavingDiagram {
    /** Tasks that are not part of the story. */
    private static final Set<String> HIDDEN_TASKS = Set.of("swapper", "check", SimScheduler.EVENT_TASK);
    /** Locks taken by accessors around every field read; drawn only when a task has to wait for one. */
    private static final Set<String> QUIET_LOCKS = Set.of("mmap_mutex");
    private static final String STOPPERS = "stop_machine";
    private static final int MAX_WIDTH = 48;

    private InterleavingDiagram() {
    }

    /**
     * The diagram of a run; each column as wide as its longest row, at most {@value #MAX_WIDTH} characters; then, for
     * a failing run, what failed (the oracle's finding, or the verdict and what was blocked).
     */
    public static String render(RunResult r) {
        String d = render(r.log());
        return r.failed() ? d + "=> " + r.failureDetail() + '\n' : d;
    }

    public static String render(ScheduleLog log) {
        List<Row> rows = rows(log);
        Map<String, Integer> columns = new LinkedHashMap<>();
        int width = 12;
        for (Row row : rows) {
            columns.putIfAbsent(row.column, columns.size());
            width = Math.max(width, Math.max(row.text.length(), row.column.length() + 4));
        }
        width = Math.min(width, MAX_WIDTH);
        StringBuilder sb = new StringBuilder();
        List<String> header = new ArrayList<>();
        int t = 1;
        for (String c : columns.keySet()) {
            header.add("t" + t++ + ": " + c);
        }
        line(sb, header, width);
        List<String> rule = new ArrayList<>();
        for (int i = 0; i < columns.size(); i++) {
            rule.add("-".repeat(width));
        }
        sb.append(String.join("-+-", rule)).append('\n');
        for (Row row : rows) {
            List<String> cells = new ArrayList<>();
            for (int i = 0; i < columns.size(); i++) {
                cells.add(i == columns.get(row.column) ? row.text : "");
            }
            line(sb, cells, width);
        }
        return sb.toString();
    }

    private record Row(String column, String text) {
    }

    private static List<Row> rows(ScheduleLog log) {
        List<ScheduleLog.Step> steps = new ArrayList<>();
        for (ScheduleLog.Step s : log.steps()) {
            if (!HIDDEN_TASKS.contains(s.task()) && shown(s.label())) {
                steps.add(s);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            ScheduleLog.Step s = steps.get(i);
            String column = column(s.task());
            String text = text(s);
            // An answer right after its issue, with nothing in between, shares the row.
            if (isIssue(s.label()) && i + 1 < steps.size() && steps.get(i + 1).taskId() == s.taskId()
                    && steps.get(i + 1).label().startsWith("-> ")) {
                text = text + " " + steps.get(i + 1).label();
                i++;
            }
            rows.add(new Row(column, text));
        }
        return rows;
    }

    private static boolean shown(String label) {
        for (String quiet : QUIET_LOCKS) {
            if (label.equals("lock " + quiet) || label.equals("unlock " + quiet)) {
                return false;
            }
        }
        return !label.equals("enter kernel") && !label.startsWith("wait a vCPU") && !label.startsWith("wait vCPU ")
                && !label.startsWith("wait work for ") && !label.endsWith(" returned") && !label.equals("exit")
                && !label.equals("wait the hypervisor") && !label.equals("wait the platform");
    }

    private static boolean isIssue(String label) {
        return label.startsWith("hcall ") || label.startsWith("rtas ");
    }

    private static String column(String task) {
        return task.startsWith("migration/") ? STOPPERS : task;
    }

    private static String text(ScheduleLog.Step s) {
        String label = s.label();
        if (label.startsWith("hcall ")) {
            label = label.substring("hcall ".length());
        } else if (label.startsWith("rtas ")) {
            label = label.substring("rtas ".length());
        }
        if (s.task().startsWith("migration/")) {
            label = "cpu" + s.task().substring("migration/".length()) + ": " + label;
        }
        return label;
    }

    private static void line(StringBuilder sb, List<String> cells, int width) {
        StringBuilder ln = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            if (c.length() > width) {
                c = c.substring(0, width - 1) + "~";
            }
            ln.append(c);
            if (i + 1 < cells.size()) {
                ln.append(" ".repeat(width - c.length())).append(" | ");
            }
        }
        sb.append(ln.toString().stripTrailing()).append('\n');
    }
}
