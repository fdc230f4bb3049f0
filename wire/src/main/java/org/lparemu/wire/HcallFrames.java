package org.lparemu.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.lparemu.core.port.HcallResult;

/**
 * The guest port's one hot frame pair, read and written without protobuf's message objects: a {@code GuestFrame}
 * whose only field is an {@code HcallRequest}, and the {@code HostFrame} carrying its {@code HcallResponse}.
 *
 * <p>Why: the daemon's per-call CPU was about a quarter parsing (a GuestFrame, an HcallRequest, their builders, a
 * boxed args list, the task string decoded from UTF-8) and a tenth building the reply (two builders, two messages,
 * a copy of the buffer). Here a request becomes one {@link HcallCall} and its args array; the reply is sized and
 * written into one byte array.
 *
 * <p>Exactness: {@link Reader#decode} accepts only what it reads the same way protobuf does (the fields of
 * guest.proto with their wire types, packed or unpacked args, the last value winning for a repeated scalar, an
 * all-ASCII task) and returns null for anything else (another frame kind, an unknown field, a non-ASCII task, a
 * malformed varint or length): the caller then parses the frame with protobuf, which accepts or rejects it as
 * before. {@link #encodeReply} writes the bytes {@code ProtoMapping.reply(callId, result).toByteArray()} writes
 * (tests compare the two).
 */
public final class HcallFrames {
    private static final int FRAME_HCALL_TAG = (2 << 3) | 2;
    private static final int WIRE_VARINT = 0;
    private static final int WIRE_LEN = 2;

    private HcallFrames() {
    }

    /**
     * Decodes hcall frames for one connection (not thread-safe: one per channel, used on its event loop). It keeps
     * the last task name, so that frames with the same task bytes share one String.
     */
    public static final class Reader {
        private byte[] a;
        private int pos;
        private boolean bad;
        /**
         * Arguments as they are read; copied once, to their count, into the call. A frame with more (the daemon
         * refuses more than nine) takes the generic path.
         */
        private final long[] argBuf = new long[16];
        private byte[] taskBytes = new byte[0];
        private String task = "";

        /** The hcall in the GuestFrame at {@code bytes[off, off+len)}, or null (see {@link HcallFrames}). */
        public HcallCall decode(byte[] bytes, int off, int len) {
            a = bytes;
            try {
                return decode(off, off + len);
            } finally {
                a = null;
            }
        }

        private HcallCall decode(int off, int end) {
            bad = false;
            pos = off;
            if (pos >= end || a[pos] != FRAME_HCALL_TAG) {
                return null;
            }
            pos++;
            long l = varint(end);
            if (bad || l != end - pos) {
                return null; // the frame has more than its hcall field, or a truncated one
            }
            long callId = 0;
            int vcpu = 0;
            long opcode = 0;
            int argc = 0;
            byte[] buffer = null;
            String taskName = "";
            boolean irqsOff = false;
            while (pos < end) {
                long tag = varint(end);
                if (bad || tag < 0 || tag > Integer.MAX_VALUE) {
                    return null;
                }
                int field = (int) tag >>> 3;
                int wire = (int) tag & 7;
                if (wire == WIRE_VARINT) {
                    long v = varint(end);
                    if (bad) {
                        return null;
                    }
                    switch (field) {
                        case 1 -> callId = v;
                        case 2 -> vcpu = (int) v;
                        case 3 -> opcode = v;
                        case 4 -> append(argc++, v);
                        case 7 -> irqsOff = v != 0;
                        default -> {
                            return null;
                        }
                    }
                    if (bad) {
                        return null;
                    }
                } else if (wire == WIRE_LEN) {
                    long n = varint(end);
                    if (bad || n < 0 || n > end - pos) {
                        return null;
                    }
                    int stop = pos + (int) n;
                    switch (field) {
                        case 4 -> {
                            while (pos < stop) {
                                long v = varint(stop);
                                if (bad) {
                                    return null;
                                }
                                append(argc++, v);
                                if (bad) {
                                    return null;
                                }
                            }
                        }
                        case 5 -> buffer = n == 0 ? null : Arrays.copyOfRange(a, pos, stop);
                        case 6 -> {
                            taskName = task(pos, (int) n);
                            if (taskName == null) {
                                return null;
                            }
                        }
                        default -> {
                            return null;
                        }
                    }
                    pos = stop;
                } else {
                    return null;
                }
            }
            return new HcallCall(callId, vcpu, opcode, argc == 0 ? null : Arrays.copyOf(argBuf, argc), buffer, taskName,
                    irqsOff);
        }

        /** A base-128 varint ending before {@code end}; sets {@link #bad} when it is longer than 10 bytes or cut. */
        private long varint(int end) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    bad = true;
                    return 0;
                }
                byte b = a[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            bad = true;
            return 0;
        }

        private String task(int off, int len) {
            if (len == taskBytes.length && Arrays.equals(a, off, off + len, taskBytes, 0, len)) {
                return task;
            }
            for (int i = off; i < off + len; i++) {
                if (a[i] < 0) {
                    return null; // not ASCII: protobuf validates and decodes the UTF-8
                }
            }
            taskBytes = Arrays.copyOfRange(a, off, off + len);
            task = new String(taskBytes, StandardCharsets.US_ASCII);
            return task;
        }

        private void append(int i, long v) {
            if (i < argBuf.length) {
                argBuf[i] = v;
            } else {
                bad = true;
            }
        }
    }

    /** The HostFrame answering call {@code callId} with {@code r}: what {@link ProtoMapping#reply} serializes to. */
    public static byte[] encodeReply(long callId, HcallResult r) {
        long status = r.status();
        long[] rets = r.rets();
        byte[] buffer = r.buffer();
        long zigzag = (status << 1) ^ (status >> 63);
        int retsLen = 0;
        for (long v : rets) {
            retsLen += varintSize(v);
        }
        int body = (callId != 0 ? 1 + varintSize(callId) : 0)
                + (zigzag != 0 ? 1 + varintSize(zigzag) : 0)
                + (rets.length > 0 ? 1 + varintSize(retsLen) + retsLen : 0)
                + (buffer.length > 0 ? 1 + varintSize(buffer.length) + buffer.length : 0);
        byte[] out = new byte[1 + varintSize(body) + body];
        int p = 0;
        out[p++] = (2 << 3) | 2; // HostFrame.hcall
        p = putVarint(out, p, body);
        if (callId != 0) {
            out[p++] = (1 << 3); // call_id
            p = putVarint(out, p, callId);
        }
        if (zigzag != 0) {
            out[p++] = (2 << 3); // status (sint64)
            p = putVarint(out, p, zigzag);
        }
        if (rets.length > 0) {
            out[p++] = (3 << 3) | 2; // rets, packed
            p = putVarint(out, p, retsLen);
            for (long v : rets) {
                p = putVarint(out, p, v);
            }
        }
        if (buffer.length > 0) {
            out[p++] = (4 << 3) | 2; // buffer
            p = putVarint(out, p, buffer.length);
            System.arraycopy(buffer, 0, out, p, buffer.length);
        }
        return out;
    }

    static int varintSize(long v) {
        return v == 0 ? 1 : (63 - Long.numberOfLeadingZeros(v)) / 7 + 1;
    }

    private static int putVarint(byte[] out, int p, long v) {
        while ((v & ~0x7FL) != 0) {
            out[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[p++] = (byte) v;
        return p;
    }
}
