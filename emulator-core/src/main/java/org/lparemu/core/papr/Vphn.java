package org.lparemu.core.papr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The packed associativity format H_HOME_NODE_ASSOCIATIVITY returns in its six return registers (VPHN):
 * 24 big-endian 16-bit fields, read left to right. A field with its top bit set carries one 15-bit domain
 * number; a field with the top bit clear is the high half of a 31-bit domain number whose low half is the
 * next field; 0xFFFF ends the list (and pads the rest).
 */
public final class Vphn {
    /** H_HOME_NODE_ASSOCIATIVITY flags value: the id argument is a vCPU (VPHN_FLAG_VCPU). */
    public static final long FLAG_VCPU = 1;
    public static final int REGISTERS = 6;
    private static final int FIELDS = REGISTERS * 4;
    private static final int UNUSED = 0xFFFF;
    private static final int MSB = 0x8000;

    private Vphn() {
    }

    /** Packs domain numbers (without the leading count cell) into six registers. */
    public static long[] pack(int... domains) {
        int[] fields = new int[FIELDS];
        Arrays.fill(fields, UNUSED);
        int f = 0;
        for (int d : domains) {
            if (d < 0) {
                throw new IllegalArgumentException("negative domain " + d);
            }
            if (d < MSB) {
                if (f >= FIELDS) {
                    throw new IllegalArgumentException("too many domains to pack");
                }
                fields[f++] = MSB | d;
            } else {
                if (f + 1 >= FIELDS) {
                    throw new IllegalArgumentException("too many domains to pack");
                }
                fields[f++] = (d >>> 16) & 0x7FFF;
                fields[f++] = d & 0xFFFF;
            }
        }
        long[] regs = new long[REGISTERS];
        for (int i = 0; i < FIELDS; i++) {
            regs[i / 4] |= ((long) fields[i]) << (48 - 16 * (i % 4));
        }
        return regs;
    }

    /** Unpacks six registers into domain numbers (without a count cell). */
    public static int[] unpack(long... regs) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < FIELDS; i++) {
            int field = field(regs, i);
            if (field == UNUSED) {
                break;
            }
            if ((field & MSB) != 0) {
                out.add(field & 0x7FFF);
            } else if (i + 1 < FIELDS) {
                out.add((field << 16) | field(regs, ++i));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int field(long[] regs, int i) {
        long r = i / 4 < regs.length ? regs[i / 4] : -1L;
        return (int) ((r >>> (48 - 16 * (i % 4))) & 0xFFFF);
    }
}
