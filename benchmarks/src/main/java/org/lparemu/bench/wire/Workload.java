package org.lparemu.bench.wire;

import java.util.Arrays;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;

/**
 * The hcall that the socket figures (B1, B2) and the in-process JMH benchmark measure, and the frames that
 * carry it. Every contender (daemon, raw Netty floor, gRPC) sends exactly these request bytes.
 */
public final class Workload {
    /** Which hcall to measure. */
    public enum Kind {
        /**
         * H_QUERY_VAS_WINDOW's opcode on a build whose dispatch table has no handler for it: the daemon answers
         * H_FUNCTION through the same decode, dispatch, trace and encode path as any other call.
         */
        UNHANDLED_OPCODE,
        /**
         * Issue 6's call: H_QUERY_VAS_WINDOW(winid, buffer 0x10000000) on a window opened first with
         * H_ALLOCATE_VAS_WINDOW + H_MODIFY_VAS_WINDOW; it answers H_SUCCESS and the 88-byte window record.
         */
        QUERY_OPEN_WINDOW
    }

    /** The one line to change when the measured hcall changes. */
    public static final Kind CURRENT = Kind.QUERY_OPEN_WINDOW;

    /** The partition every benchmark connection binds to (the daemon's default configuration has it). */
    public static final String PARTITION = "lpar1";
    /** The guest buffer address passed to H_QUERY_VAS_WINDOW (4 KiB aligned). */
    public static final long BUFFER_ADDRESS = 0x10000000L;
    /** The guest task name in every request; benchmark threads are named the same so GuestConnection matches. */
    public static final String TASK = "bench";

    public final Kind kind;
    public final String description;
    public final long opcode;
    public final long[] args;
    public final long expectedStatus;

    /** Describes {@link #armNonMatchingFaultRule} for the reports. */
    public static final String FAULT_RULE_NOTE = "one fault rule is armed that never matches the measured call "
            + "(H_JOIN answered H_HARDWARE), so the fault-rule check runs on every call";

    private Workload(Kind kind, String description, long opcode, long[] args, long expectedStatus) {
        this.kind = kind;
        this.description = description;
        this.opcode = opcode;
        this.args = args;
        this.expectedStatus = expectedStatus;
    }

    /**
     * Prepares the {@link #CURRENT} workload on a partition through {@code port} (opens the window when the call
     * needs one) and checks that one call answers as expected.
     */
    public static Workload prepare(HcallPort port) {
        return prepare(CURRENT, port);
    }

    public static Workload prepare(Kind kind, HcallPort port) {
        Workload w = switch (kind) {
            case UNHANDLED_OPCODE -> new Workload(kind, "H_QUERY_VAS_WINDOW(winid 1, buffer 0x10000000) with no "
                    + "handler registered in this build: answered H_FUNCTION through decode, dispatch table, trace "
                    + "and encode", Hcall.H_QUERY_VAS_WINDOW, new long[] {1, BUFFER_ADDRESS}, HStatus.H_FUNCTION);
            case QUERY_OPEN_WINDOW -> {
                long winId = openWindow(port);
                yield new Workload(kind, "H_QUERY_VAS_WINDOW(winid " + winId + ", buffer 0x10000000) on a window "
                        + "opened with H_ALLOCATE_VAS_WINDOW + H_MODIFY_VAS_WINDOW: answers H_SUCCESS and the "
                        + "window record", Hcall.H_QUERY_VAS_WINDOW, new long[] {winId, BUFFER_ADDRESS},
                        HStatus.H_SUCCESS);
            }
        };
        HcallResult r = port.hcall(0, w.opcode, w.args, null);
        if (r.status() != w.expectedStatus) {
            throw new IllegalStateException(w.name() + " answered " + r + ", expected " + HStatus.name(w.expectedStatus));
        }
        return w;
    }

    private static long openWindow(HcallPort port) {
        long d = Vas.DEFAULT_DOMAIN_ID;
        HcallResult a = port.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, Vas.DEF_WIN_CREDS, d, d, d, d,
                d, d);
        if (!a.ok()) {
            throw new IllegalStateException("H_ALLOCATE_VAS_WINDOW answered " + a);
        }
        long winId = a.ret(0);
        HcallResult m = port.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, winId, 1, 0, Vas.MOD_WIN_FLAGS, 0);
        if (!m.ok()) {
            throw new IllegalStateException("H_MODIFY_VAS_WINDOW answered " + m);
        }
        return winId;
    }

    public String name() {
        return Hcall.name(opcode) + Arrays.toString(args);
    }

    public HcallRequest request(long callId) {
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(callId).setVcpu(0).setOpcode(opcode)
                .setTask(TASK);
        for (long a : args) {
            b.addArgs(a);
        }
        return b.build();
    }

    public GuestFrame frame(long callId) {
        return GuestFrame.newBuilder().setHcall(request(callId)).build();
    }

    /**
     * Arms one fault rule that never matches the workload (H_JOIN answered H_HARDWARE), so that the dispatcher's
     * fault-rule check really runs on every measured call instead of being skipped for an empty plan.
     */
    public static void armNonMatchingFaultRule(Platform platform) {
        platform.addFault(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN).partition(PARTITION),
                new FaultAction.ReturnStatus(HStatus.H_HARDWARE, null, When.BEFORE)));
    }

    /** The Hello every benchmark connection sends: calls only, no platform events. */
    public static GuestFrame hello(String clientName) {
        return hello(PARTITION, clientName);
    }

    public static GuestFrame hello(String partition, String clientName) {
        return GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition(partition).setProtocolVersion(1)
                .setClientName(clientName).setNoEvents(true)).build();
    }
}
