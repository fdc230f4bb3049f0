package org.lparemu.demo;

import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Converts trace records to Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one
 * process per partition, one track per guest task (or vCPU when the task is unknown), each call a complete
 * ("X") slice from its begin to its end, a call still in flight a begin ("B") slice, and platform events,
 * state changes and fault firings instants on a "platform" track.
 */
public final class ChromeTrace {
    private ChromeTrace() {
    }

    public static String toJson(List<TraceRecord> records) {
        Map<String, Integer> pids = new LinkedHashMap<>();
        Map<String, Integer> tids = new LinkedHashMap<>();
        Set<Long> ended = new HashSet<>();
        for (TraceRecord r : records) {
            if (r.getKind() == TraceKind.CALL_END) {
                ended.add(r.getBeginSeq());
            }
        }
        StringBuilder sb = new StringBuilder("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        boolean first = true;
        Map<Long, TraceRecord> begins = new HashMap<>();
        for (TraceRecord r : records) {
            String part = r.getPartition().isEmpty() ? "platform" : r.getPartition();
            int pid = pids.computeIfAbsent(part, k -> pids.size() + 1);
            String ev;
            switch (r.getKind()) {
                case CALL_BEGIN -> {
                    begins.put(r.getSeq(), r);
                    if (ended.contains(r.getSeq())) {
                        continue;
                    }
                    ev = slice("B", r, pid, tid(tids, part, track(r)), r.getNanos(), -1, "in flight at capture");
                }
                case CALL_END -> {
                    TraceRecord b = begins.get(r.getBeginSeq());
                    String track = track(b != null ? b : r);
                    boolean rtas = r.getOpcode() == 0; // RTAS records carry no opcode
                    String status = rtas ? RtasStatus.name(r.getStatus()) : HStatus.name(r.getStatus());
                    String args = b == null ? "" : b.getArgsList().stream().map(a -> "0x" + Long.toHexString(a))
                            .collect(Collectors.joining(", "));
                    ev = slice("X", r, pid, tid(tids, part, track), r.getBeginNanos(), r.getNanos() - r.getBeginNanos(),
                            "status " + status + (args.isEmpty() ? "" : "; args " + args)
                                    + (r.getDetail().isEmpty() ? "" : "; " + r.getDetail()));
                }
                case REFUSED -> ev = String.format("{\"name\":%s,\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,\"pid\":%d,"
                                + "\"tid\":%d,\"cat\":\"refused\",\"args\":{\"detail\":%s}}",
                        Json.string("REFUSED " + r.getName()), r.getNanos() / 1000.0, pid, tid(tids, part, track(r)),
                        Json.string(r.getDetail()));
                case GUEST -> ev = String.format("{\"name\":%s,\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,\"pid\":%d,"
                                + "\"tid\":%d,\"cat\":\"guest\",\"args\":{\"detail\":%s}}", Json.string(r.getName()),
                        r.getNanos() / 1000.0, pid, tid(tids, part, track(r)), Json.string(r.getDetail()));
                default -> ev = String.format("{\"name\":%s,\"ph\":\"i\",\"s\":\"p\",\"ts\":%.3f,\"pid\":%d,\"tid\":%d,"
                                + "\"cat\":%s,\"args\":{\"detail\":%s}}", Json.string(r.getKind() + " " + r.getName()),
                        r.getNanos() / 1000.0, pid, tid(tids, part, "platform"), Json.string(r.getKind().name()),
                        Json.string(r.getDetail()));
            }
            sb.append(first ? "" : ",\n").append(ev);
            first = false;
        }
        for (Map.Entry<String, Integer> p : pids.entrySet()) {
            sb.append(first ? "" : ",\n").append(String.format(
                    "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":%s}}", p.getValue(),
                    Json.string(p.getKey())));
            first = false;
        }
        for (Map.Entry<String, Integer> t : tids.entrySet()) {
            String[] pt = t.getKey().split("\u0000", 2);
            sb.append(",\n").append(String.format(
                    "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":%s}}",
                    pids.get(pt[0]), t.getValue(), Json.string(pt[1])));
        }
        return sb.append("\n]}\n").toString();
    }

    private static String track(TraceRecord r) {
        return !r.getTask().isEmpty() ? r.getTask() : "vcpu " + r.getVcpu();
    }

    private static int tid(Map<String, Integer> tids, String part, String track) {
        return tids.computeIfAbsent(part + "\u0000" + track, k -> tids.size() + 1);
    }

    private static String slice(String ph, TraceRecord r, int pid, int tid, long startNanos, long durNanos, String detail) {
        return String.format("{\"name\":%s,\"ph\":\"%s\",\"ts\":%.3f,%s\"pid\":%d,\"tid\":%d,\"cat\":\"call\","
                        + "\"args\":{\"vcpu\":%d,\"seq\":%d,\"detail\":%s}}", Json.string(r.getName()), ph, startNanos / 1000.0,
                durNanos >= 0 ? String.format("\"dur\":%.3f,", durNanos / 1000.0) : "", pid, tid, r.getVcpu(),
                r.getSeq(), Json.string(detail));
    }
}
