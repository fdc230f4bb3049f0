package org.lparemu.core.papr;

import java.nio.ByteBuffer;

/**
 * The fixed part of an RTAS error log ({@code struct rtas_error_log}), as event-scan returns it: byte 0 the
 * version, byte 1 severity (top 3 bits), disposition and the extended flag, byte 2 initiator and target, byte 3 the
 * type, bytes 4..7 the extended log length (big-endian). For a PRRN ({@link #TYPE_PRRN}) the extended log length
 * carries the scope to pass, negated, to ibm,update-nodes (papr-notes 7.1); no extended log follows.
 */
public record RtasErrorLog(int version, int severity, int type, int extendedLogLength) {
    /** Bytes of the fixed part. */
    public static final int FIXED_BYTES = 8;
    /** RTAS_TYPE_PRRN: platform resource reassignment notification. */
    public static final int TYPE_PRRN = 0xA0;
    /** Version of the logs lparemu writes (PAPR's version 6 event logs). */
    public static final int VERSION = 6;
    /** RTAS_SEVERITY_EVENT: an informational event, not an error. */
    public static final int SEVERITY_EVENT = 0x2;

    /** The log of a PRRN with {@code scope}. */
    public static RtasErrorLog prrn(int scope) {
        return new RtasErrorLog(VERSION, SEVERITY_EVENT, TYPE_PRRN, scope);
    }

    /** Writes the fixed part at the start of {@code buffer} (which must hold {@link #FIXED_BYTES}). */
    public void encodeInto(byte[] buffer) {
        ByteBuffer b = ByteBuffer.wrap(buffer);
        b.put(0, (byte) version);
        b.put(1, (byte) (severity << 5));
        b.put(2, (byte) 0);
        b.put(3, (byte) type);
        b.putInt(4, extendedLogLength);
    }

    /** Reads the fixed part from the start of {@code buffer}. */
    public static RtasErrorLog decode(byte[] buffer) {
        if (buffer == null || buffer.length < FIXED_BYTES) {
            throw new IllegalArgumentException("an RTAS error log needs " + FIXED_BYTES + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(buffer);
        return new RtasErrorLog(b.get(0) & 0xFF, (b.get(1) & 0xFF) >>> 5, b.get(3) & 0xFF, b.getInt(4));
    }
}
