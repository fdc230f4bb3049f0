package org.lparemu.core.sim;

import java.util.Map;
import java.util.TreeMap;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;

/**
 * A saved schedule: the scenario, the policies and the decisions a replay must force (the others are the default
 * choice), as plain text a user can read, diff and attach to a bug report:
 *
 * <pre>
 * # lparemu schedule v1
 * scenario vas-open-vs-migration
 * vas-policy PRE_FIX
 * prrn-policy DRAIN_BEFORE_SUSPEND
 * failure window-open-at-suspend
 * trace-hash 3f1c...
 * force 7 3 opener
 * force 12 -1 hypervisor
 * </pre>
 *
 * {@code force I T NAME}: at decision I run the task created T-th (-1: the hypervisor's queued work); the name is
 * for the reader.
 *
 * @param failure   the failure the schedule reproduces (empty for a passing run)
 * @param traceHash the run's trace hash, which a replay must reproduce
 * @param forced    decision index -> task id
 */
public record ScheduleFile(String scenario, VasPolicy vasPolicy, PrrnPolicy prrnPolicy, String failure,
                           String traceHash, Map<Integer, Integer> forced, Map<Integer, String> names) {
    public static final String HEADER = "# lparemu schedule v1";

    /** The schedule of a run (its forced decisions). */
    public static ScheduleFile of(SimScenario s, VasPolicy v, PrrnPolicy p, RunResult r) {
        Map<Integer, Integer> forced = r.log().forced();
        Map<Integer, String> names = new TreeMap<>();
        for (ScheduleLog.Decision d : r.log().decisions()) {
            if (forced.containsKey(d.index())) {
                names.put(d.index(), d.chosen());
            }
        }
        return new ScheduleFile(s.id(), v, p, r.failureName(), r.traceHash(), forced, names);
    }

    public String format() {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        sb.append("scenario ").append(scenario).append('\n');
        sb.append("vas-policy ").append(vasPolicy).append('\n');
        sb.append("prrn-policy ").append(prrnPolicy).append('\n');
        if (!failure.isEmpty()) {
            sb.append("failure ").append(failure).append('\n');
        }
        sb.append("trace-hash ").append(traceHash).append('\n');
        for (Map.Entry<Integer, Integer> e : new TreeMap<>(forced).entrySet()) {
            sb.append("force ").append(e.getKey()).append(' ').append(e.getValue()).append(' ')
                    .append(names.getOrDefault(e.getKey(), "?")).append('\n');
        }
        return sb.toString();
    }

    /** Parses {@link #format}'s output; a malformed line is an IllegalArgumentException naming it. */
    public static ScheduleFile parse(String text) {
        String scenario = null;
        VasPolicy v = null;
        PrrnPolicy p = null;
        String failure = "";
        String hash = "";
        Map<Integer, Integer> forced = new TreeMap<>();
        Map<Integer, String> names = new TreeMap<>();
        String[] lines = text.split("\n", -1);
        if (lines.length == 0 || !lines[0].strip().equals(HEADER)) {
            throw new IllegalArgumentException("not a schedule file: the first line must be '" + HEADER + "'");
        }
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            try {
                switch (f[0]) {
                    case "scenario" -> scenario = f[1];
                    case "vas-policy" -> v = VasPolicy.valueOf(f[1]);
                    case "prrn-policy" -> p = PrrnPolicy.valueOf(f[1]);
                    case "failure" -> failure = f[1];
                    case "trace-hash" -> hash = f[1];
                    case "force" -> {
                        int at = Integer.parseInt(f[1]);
                        forced.put(at, Integer.parseInt(f[2]));
                        names.put(at, f.length > 3 ? f[3] : "?");
                    }
                    default -> throw new IllegalArgumentException("unknown key '" + f[0] + "'");
                }
            } catch (ArrayIndexOutOfBoundsException | IllegalArgumentException e) {
                throw new IllegalArgumentException("schedule line " + (i + 1) + " '" + line + "': " + e.getMessage(), e);
            }
        }
        if (scenario == null || v == null || p == null) {
            throw new IllegalArgumentException("schedule file needs scenario, vas-policy and prrn-policy lines");
        }
        return new ScheduleFile(scenario, v, p, failure, hash, forced, names);
    }
}
