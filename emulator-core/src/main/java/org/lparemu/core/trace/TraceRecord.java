package org.lparemu.core.trace;

/**
 * One immutable trace record, as read from a {@link TraceRing}. The ring does not keep these: it stores their
 * fields in primitive slots and builds a record when it is read or offered to an {@code await} waiter, so each
 * one is a fresh copy ({@code args} included).
 *
 * @param seq        position in the daemon-wide sequence (1, 2, ...)
 * @param nanos      monotonic nanoseconds since the trace started
 * @param vcpu       calling vCPU, or -1
 * @param task       guest task (thread) name, or ""
 * @param name       decoded name ("H_MODIFY_VAS_WINDOW", "ibm,suspend-me", "VASI SUSPENDING -> SUSPENDED")
 * @param status     PAPR / RTAS status for CALL_END, 0 otherwise
 * @param beginSeq   for CALL_END, the seq of the matching CALL_BEGIN
 * @param beginNanos for CALL_END, when the call began
 * @param opcode     hcall opcode, 0 for anything else
 */
public record TraceRecord(long seq, long nanos, TraceKind kind, String partition, int vcpu, String task, String name,
                          long[] args, long status, long beginSeq, long beginNanos, String detail, long opcode) {
    private static final long[] NO_ARGS = new long[0];

    public TraceRecord {
        args = args == null ? NO_ARGS : args;
        task = task == null ? "" : task;
        detail = detail == null ? "" : detail;
        partition = partition == null ? "" : partition;
    }
}
