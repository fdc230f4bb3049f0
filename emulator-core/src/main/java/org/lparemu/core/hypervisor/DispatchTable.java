package org.lparemu.core.hypervisor;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.lparemu.core.papr.Hcall;

/**
 * The one table from hcall opcode and RTAS service name to handler (after QEMU's
 * {@code spapr_register_hypercall}): families register their handlers at start, a duplicate registration is
 * a programming error, and an opcode with no handler answers H_FUNCTION.
 */
public final class DispatchTable {
    private final Map<Long, HcallHandler> hcalls = new TreeMap<>();
    private final Map<String, RtasHandler> rtas = new TreeMap<>();
    private volatile boolean sealed;

    public void register(long opcode, HcallHandler handler) {
        checkOpen();
        if (hcalls.putIfAbsent(opcode, handler) != null) {
            throw new IllegalStateException("duplicate handler for " + Hcall.name(opcode));
        }
    }

    public void registerRtas(String service, RtasHandler handler) {
        checkOpen();
        if (rtas.putIfAbsent(service, handler) != null) {
            throw new IllegalStateException("duplicate handler for RTAS " + service);
        }
    }

    private void checkOpen() {
        if (sealed) {
            throw new IllegalStateException("dispatch table is sealed");
        }
    }

    /** No more registrations: after this the table is read without locks. */
    public void seal() {
        sealed = true;
    }

    public HcallHandler hcall(long opcode) {
        return hcalls.get(opcode);
    }

    public RtasHandler rtas(String service) {
        return rtas.get(service);
    }

    public Map<Long, HcallHandler> hcalls() {
        return Collections.unmodifiableMap(hcalls);
    }

    public Map<String, RtasHandler> rtasServices() {
        return Collections.unmodifiableMap(rtas);
    }
}
