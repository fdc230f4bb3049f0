package org.lparemu.core.papr;

import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * PAPR hypervisor-call opcodes used by lparemu (values from Linux {@code asm/hvcall.h}, papr-notes 2.2).
 *
 * <p>Opcodes are multiples of 4 below 0x450; {@link #H_LPAREMU_NX_PASTE} is emulator-private and sits in
 * the platform-private range above 0xF000, like QEMU's {@code KVMPPC_H_*} calls.
 */
public final class Hcall {
    public static final long H_CEDE = 0xE0;
    public static final long H_CONFER = 0xE4;
    public static final long H_PROD = 0xE8;
    public static final long H_GET_PPP = 0xEC;
    public static final long H_SET_PPP = 0xF0;
    public static final long H_JOIN = 0x298;
    public static final long H_VASI_SIGNAL = 0x2A0;
    public static final long H_VASI_STATE = 0x2A4;
    public static final long H_HOME_NODE_ASSOCIATIVITY = 0x2EC;
    public static final long H_COP = 0x304;
    public static final long H_ALLOCATE_VAS_WINDOW = 0x388;
    public static final long H_MODIFY_VAS_WINDOW = 0x38C;
    public static final long H_DEALLOCATE_VAS_WINDOW = 0x390;
    public static final long H_QUERY_VAS_WINDOW = 0x394;
    public static final long H_QUERY_VAS_CAPABILITIES = 0x398;
    public static final long H_QUERY_NX_CAPABILITIES = 0x39C;
    public static final long H_GET_NX_FAULT = 0x3A0;
    /**
     * Emulator-private: a user-space paste of one coprocessor request to a paste address. Real hardware
     * does this with the {@code paste} instruction on the mapped page; the emulator routes it to the
     * hypervisor so the platform can tell whether the address still maps an active window.
     * Args: (paste address, request length). Status H_SUCCESS, or H_CLOSED when no active window of the
     * partition is mapped at that address on the current system.
     */
    public static final long H_LPAREMU_NX_PASTE = 0xF100;

    private static final Map<Long, String> NAMES = new TreeMap<>();
    /** The names of the opcodes below 0x1000 (PAPR's), indexed by opcode. */
    private static final String[] DIRECT = new String[0x1000];
    /** NAMES as sorted arrays: {@link #name} runs twice per traced call and must not box the opcode. */
    private static final long[] CODES;
    private static final String[] LABELS;

    static {
        NAMES.put(H_CEDE, "H_CEDE");
        NAMES.put(H_CONFER, "H_CONFER");
        NAMES.put(H_PROD, "H_PROD");
        NAMES.put(H_GET_PPP, "H_GET_PPP");
        NAMES.put(H_SET_PPP, "H_SET_PPP");
        NAMES.put(H_JOIN, "H_JOIN");
        NAMES.put(H_VASI_SIGNAL, "H_VASI_SIGNAL");
        NAMES.put(H_VASI_STATE, "H_VASI_STATE");
        NAMES.put(H_HOME_NODE_ASSOCIATIVITY, "H_HOME_NODE_ASSOCIATIVITY");
        NAMES.put(H_COP, "H_COP");
        NAMES.put(H_ALLOCATE_VAS_WINDOW, "H_ALLOCATE_VAS_WINDOW");
        NAMES.put(H_MODIFY_VAS_WINDOW, "H_MODIFY_VAS_WINDOW");
        NAMES.put(H_DEALLOCATE_VAS_WINDOW, "H_DEALLOCATE_VAS_WINDOW");
        NAMES.put(H_QUERY_VAS_WINDOW, "H_QUERY_VAS_WINDOW");
        NAMES.put(H_QUERY_VAS_CAPABILITIES, "H_QUERY_VAS_CAPABILITIES");
        NAMES.put(H_QUERY_NX_CAPABILITIES, "H_QUERY_NX_CAPABILITIES");
        NAMES.put(H_GET_NX_FAULT, "H_GET_NX_FAULT");
        NAMES.put(H_LPAREMU_NX_PASTE, "H_LPAREMU_NX_PASTE");
        CODES = NAMES.keySet().stream().mapToLong(Long::longValue).toArray();
        LABELS = NAMES.values().toArray(new String[0]);
        NAMES.forEach((code, label) -> {
            if (code >= 0 && code < DIRECT.length) {
                DIRECT[(int) (long) code] = label;
            }
        });
    }

    private Hcall() {
    }

    /** Decoded name, or {@code "hcall 0x<hex>"} for an opcode lparemu does not know. */
    public static String name(long opcode) {
        if (opcode >= 0 && opcode < DIRECT.length && DIRECT[(int) opcode] != null) {
            return DIRECT[(int) opcode]; // every call's trace records name it: no search for the PAPR opcodes
        }
        int i = Arrays.binarySearch(CODES, opcode);
        return i >= 0 ? LABELS[i] : "hcall 0x" + Long.toHexString(opcode);
    }

    /** Opcode for a name such as {@code H_MODIFY_VAS_WINDOW}, or -1. */
    public static long opcode(String name) {
        for (Map.Entry<Long, String> e : NAMES.entrySet()) {
            if (e.getValue().equalsIgnoreCase(name)) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** Every named opcode, ascending. */
    public static Map<Long, String> names() {
        return Collections.unmodifiableMap(NAMES);
    }
}
