package org.lparemu.wire;

import org.lparemu.proto.v1.HcallRequest;

/**
 * One guest hcall as the daemon reads it off the wire: the fields of an {@code HcallRequest}, decoded by
 * {@link HcallFrames#decode} straight from the frame's bytes (no protobuf message objects), or copied from a
 * parsed {@link HcallRequest} when the frame took the generic path.
 */
public final class HcallCall {
    private static final long[] NO_ARGS = new long[0];

    final long callId;
    final int vcpu;
    final long opcode;
    final long[] args;
    /** Null when the request carried no buffer (as {@link ProtoMapping#bytes} maps an empty one). */
    final byte[] buffer;
    final String task;
    final boolean interruptsDisabled;

    HcallCall(long callId, int vcpu, long opcode, long[] args, byte[] buffer, String task, boolean interruptsDisabled) {
        this.callId = callId;
        this.vcpu = vcpu;
        this.opcode = opcode;
        this.args = args == null ? NO_ARGS : args;
        this.buffer = buffer;
        this.task = task;
        this.interruptsDisabled = interruptsDisabled;
    }

    /** The same call from a parsed request. */
    public static HcallCall of(HcallRequest r) {
        return new HcallCall(r.getCallId(), r.getVcpu(), r.getOpcode(), ProtoMapping.args(r),
                ProtoMapping.bytes(r.getBuffer()), r.getTask(), r.getInterruptsDisabled());
    }

    public long callId() {
        return callId;
    }

    public int vcpu() {
        return vcpu;
    }

    public long opcode() {
        return opcode;
    }

    /** The argument registers (the decoder's own array: the caller may hand it on, not share it). */
    public long[] args() {
        return args;
    }

    public int argCount() {
        return args.length;
    }

    /** The guest buffer, or null. */
    public byte[] buffer() {
        return buffer;
    }

    public String task() {
        return task;
    }

    public boolean interruptsDisabled() {
        return interruptsDisabled;
    }
}
