package org.lparemu.core.port;

import java.util.Arrays;
import org.lparemu.core.papr.RtasStatus;

/** What an RTAS call returns: status, output cells and the work area as the service left it. */
public record RtasResult(int status, long[] rets, byte[] workArea) implements CallResult {
    private static final long[] NO_RETS = new long[0];
    private static final byte[] NO_BYTES = new byte[0];

    public RtasResult {
        rets = rets == null ? NO_RETS : rets;
        workArea = workArea == null ? NO_BYTES : workArea;
    }

    public static RtasResult of(int status) {
        return new RtasResult(status, NO_RETS, NO_BYTES);
    }

    public static RtasResult withWorkArea(int status, byte[] workArea) {
        return new RtasResult(status, NO_RETS, workArea);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RtasResult r && r.status == status && Arrays.equals(r.rets, rets)
                && Arrays.equals(r.workArea, workArea);
    }

    @Override
    public int hashCode() {
        return status * 31 + Arrays.hashCode(rets);
    }

    @Override
    public String toString() {
        return RtasStatus.name(status) + (rets.length > 0 ? " rets=" + Arrays.toString(rets) : "");
    }
}
