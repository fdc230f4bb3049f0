package org.lparemu.core.hypervisor;

import java.util.Arrays;
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
    /**
     * Built by {@link #seal()}: the hcall handlers by opcode without boxing the opcode or walking the tree (the
     * lookup ran on every call and was an eighth of the daemon's per-call CPU). PAPR opcodes below
     * {@value #DIRECT_OPCODES} are indexed directly; lparemu's own ones above it are found by binary search.
     */
    private volatile Sealed lookup;

    private static final int DIRECT_OPCODES = 0x1000;

    /** The sealed table's hcall handlers as arrays. */
    private record Sealed(HcallHandler[] direct, long[] otherCodes, HcallHandler[] others) {
        HcallHandler get(long opcode) {
            if (opcode >= 0 && opcode < DIRECT_OPCODES) {
                return direct[(int) opcode];
            }
            int i = Arrays.binarySearch(otherCodes, opcode);
            return i >= 0 ? others[i] : null;
        }
    }

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
        HcallHandler[] direct = new HcallHandler[DIRECT_OPCODES];
        Map<Long, HcallHandler> above = new TreeMap<>();
        hcalls.forEach((op, h) -> {
            if (op >= 0 && op < DIRECT_OPCODES) {
                direct[(int) (long) op] = h;
            } else {
                above.put(op, h);
            }
        });
        lookup = new Sealed(direct, above.keySet().stream().mapToLong(Long::longValue).toArray(),
                above.values().toArray(new HcallHandler[0]));
    }

    public HcallHandler hcall(long opcode) {
        Sealed l = lookup;
        return l != null ? l.get(opcode) : hcalls.get(opcode);
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
