package org.lparemu.core.port;

import java.util.Arrays;
import org.lparemu.core.papr.HStatus;

/**
 * What an hcall returns: the PAPR status (R3), return registers (R4..) and the bytes the hypervisor wrote to
 * the guest's buffer, if any. Arrays are owned by the result; callers must not modify them.
 */
public record HcallResult(long status, long[] rets, byte[] buffer) implements CallResult {
    private static final long[] NO_RETS = new long[0];
    private static final byte[] NO_BYTES = new byte[0];

    public HcallResult {
        rets = rets == null ? NO_RETS : rets;
        buffer = buffer == null ? NO_BYTES : buffer;
    }

    public static HcallResult of(long status) {
        return new HcallResult(status, NO_RETS, NO_BYTES);
    }

    public static HcallResult success(long... rets) {
        return new HcallResult(HStatus.H_SUCCESS, rets, NO_BYTES);
    }

    public static HcallResult successWithBuffer(byte[] buffer) {
        return new HcallResult(HStatus.H_SUCCESS, NO_RETS, buffer);
    }

    /** Return register i, or 0 when the call returned fewer. */
    public long ret(int i) {
        return i < rets.length ? rets[i] : 0;
    }

    public boolean ok() {
        return status == HStatus.H_SUCCESS;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HcallResult r && r.status == status && Arrays.equals(r.rets, rets)
                && Arrays.equals(r.buffer, buffer);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(status) * 31 + Arrays.hashCode(rets);
    }

    @Override
    public String toString() {
        return HStatus.name(status) + (rets.length > 0 ? " rets=" + Arrays.toString(rets) : "")
                + (buffer.length > 0 ? " buffer=" + buffer.length + "B" : "");
    }
}
