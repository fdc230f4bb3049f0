package org.lparemu.core.papr;

/**
 * PAPR's NUMA affinity (papr-notes 7): a resource's {@code ibm,associativity} is a count followed by that many
 * domain numbers, from the widest to the narrowest; the first cell of {@code /rtas}'s
 * {@code ibm,associativity-reference-points} (form 1) says which of them is the NUMA node. The guest's
 * {@code associativity_to_nid} and the CPU-affinity oracle both read nodes through this one rule, so they cannot
 * disagree on how, only on what.
 */
public final class Associativity {
    /** The property a resource's domains live in. */
    public static final String PROPERTY = "ibm,associativity";
    /** The /rtas property whose first cell is the primary (node) domain's index ({@code min_common_depth}). */
    public static final String REFERENCE_POINTS = "ibm,associativity-reference-points";
    /** {@code NUMA_NO_NODE}. */
    public static final int NO_NODE = -1;

    private Associativity() {
    }

    /**
     * {@code find_min_common_depth}: the node domain's index, from the reference points' value; 0 when the tree
     * has none, which is the kernel's "NUMA disabled" (every CPU on node 0).
     */
    public static int primaryDepth(byte[] referencePoints) {
        if (referencePoints == null || referencePoints.length < 4) {
            return 0;
        }
        int depth = cell(referencePoints, 0);
        return depth > 0 ? depth : 0;
    }

    /**
     * {@code associativity_to_nid}: the node of an {@code ibm,associativity} value at {@code depth}; node 0 with NUMA
     * disabled; {@link #NO_NODE} when the value is missing or shorter than the depth.
     */
    public static int nid(byte[] associativity, int depth) {
        if (depth <= 0) {
            return 0;
        }
        if (associativity == null || associativity.length < 4) {
            return NO_NODE;
        }
        int count = Math.min(cell(associativity, 0), associativity.length / 4 - 1);
        return count >= depth ? cell(associativity, depth) : NO_NODE;
    }

    /** The node of a VPHN answer (domains without the count cell, as {@link Vphn#unpack} gives them). */
    public static int nidOfDomains(int[] domains, int depth) {
        if (depth <= 0) {
            return 0;
        }
        return domains != null && domains.length >= depth ? domains[depth - 1] : NO_NODE;
    }

    private static int cell(byte[] b, int i) {
        return ((b[4 * i] & 0xFF) << 24) | ((b[4 * i + 1] & 0xFF) << 16) | ((b[4 * i + 2] & 0xFF) << 8)
                | (b[4 * i + 3] & 0xFF);
    }
}
