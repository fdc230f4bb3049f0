package org.lparemu.core.papr;

/** IBM bit numbering: bit 0 is the most significant bit of a 64-bit word. */
public final class PprBits {
    private PprBits() {
    }

    /** {@code PPC_BIT(n) = 1 << (63 - n)}. */
    public static long ppcBit(int n) {
        if (n < 0 || n > 63) {
            throw new IllegalArgumentException("bit " + n);
        }
        return 1L << (63 - n);
    }
}
