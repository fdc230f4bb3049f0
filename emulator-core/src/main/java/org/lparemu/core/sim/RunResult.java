package org.lparemu.core.sim;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.lparemu.core.trace.TraceRecord;

/**
 * One simulated run: how it ended, what the oracles found, the outcome line, and what replays and draws it (the
 * schedule log and the platform's trace, whose hash identifies the run).
 *
 * @param seed         the strategy's seed (-1 for a guided replay)
 * @param strategy     the strategy's name
 * @param verdict      how the scheduler ended the run
 * @param detail       the verdict's detail (what was blocked, what threw, which oracle stopped it)
 * @param findings     what the oracles found (live ones stop the run at the first)
 * @param outcome      the scenario's outcome line (empty when the run did not reach quiescence)
 * @param steps        scheduler decisions
 * @param virtualNanos virtual time at the end
 * @param log          the decisions and steps
 * @param trace        the platform's trace (virtual time)
 * @param failure      what a task threw ({@link SimScheduler.Verdict#TASK_FAILED}), or null
 */
public record RunResult(long seed, String strategy, SimScheduler.Verdict verdict, String detail,
                        List<SimOracle.Finding> findings, String outcome, long steps, long virtualNanos,
                        ScheduleLog log, List<TraceRecord> trace, Throwable failure) {

    /** A violation: an oracle finding, a deadlock, a livelock or a task that threw. */
    public boolean failed() {
        return !findings.isEmpty() || verdict == SimScheduler.Verdict.DEADLOCK
                || verdict == SimScheduler.Verdict.LIVELOCK || verdict == SimScheduler.Verdict.TASK_FAILED;
    }

    /** The failure's name: the first finding's oracle, or the verdict ("deadlock", "livelock", "task-failed"). */
    public String failureName() {
        if (!findings.isEmpty()) {
            return findings.get(0).name();
        }
        return failed() ? verdict.name().toLowerCase(Locale.ROOT).replace('_', '-') : "";
    }

    /** The first finding, or the verdict and its detail. */
    public String failureDetail() {
        if (!findings.isEmpty()) {
            return findings.get(0).toString();
        }
        return verdict + (detail.isEmpty() ? "" : ": " + detail);
    }

    /** SHA-256 of the trace, in hex: two runs with the same hash did the same thing, to the nanosecond. */
    public String traceHash() {
        return hash(trace);
    }

    static String hash(List<TraceRecord> trace) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            StringBuilder sb = new StringBuilder(256);
            for (TraceRecord r : trace) {
                sb.setLength(0);
                sb.append(r.seq()).append('|').append(r.nanos()).append('|').append(r.kind()).append('|')
                        .append(r.vcpu()).append('|').append(r.task()).append('|').append(r.name()).append('|');
                if (r.args() != null) {
                    for (long a : r.args()) {
                        sb.append(a).append(',');
                    }
                }
                sb.append('|').append(r.status()).append('|').append(r.beginSeq()).append('|').append(r.detail())
                        .append('\n');
                md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
