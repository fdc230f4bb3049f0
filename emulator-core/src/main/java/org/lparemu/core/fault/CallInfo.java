package org.lparemu.core.fault;

import org.lparemu.core.papr.Hcall;

/** What a fault rule can see of a call. */
public record CallInfo(String partition, int vcpu, String task, long opcode, String rtasService, long[] args,
                       long connectionId, long traceSeq) {
    public boolean isRtas() {
        return rtasService != null;
    }

    /** Decoded name of the call. */
    public String name() {
        return rtasService != null ? rtasService : Hcall.name(opcode);
    }
}
