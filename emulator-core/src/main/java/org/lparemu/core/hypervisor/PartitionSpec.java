package org.lparemu.core.hypervisor;

import java.util.regex.Pattern;

/**
 * A partition as the operator asks for it. Null fields take the daemon's defaults ({@link #withDefaults}).
 *
 * @param vcpus      virtual processors: {@code cores} x threads per core, the threads of core {@code c} being vCPUs
 *                   {@code c * tpc .. c * tpc + tpc - 1} (tpc = vcpus / cores, 1, 2, 4 or 8)
 * @param cores      dedicated cores (or entitled whole cores when shared); credits follow them, and DLPAR adds
 *                   and removes them with their threads
 * @param qosCredits QoS credits assigned by the administrator
 * @param system     managed system to start on
 */
public record PartitionSpec(String name, Integer vcpus, Integer cores, boolean sharedProcessor, Integer qosCredits,
                            String system) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    /** Upper bounds that keep one partition's footprint reasonable. */
    public static final int MAX_VCPUS = 1024;
    public static final int MAX_CORES = 256;
    /** POWER10 cores run up to 8 hardware threads (SMT8). */
    public static final int MAX_THREADS_PER_CORE = 8;

    public static PartitionSpec named(String name) {
        return new PartitionSpec(name, null, null, false, null, null);
    }

    /** Fills unset fields from the defaults and validates; throws BAD_SPEC naming the field. */
    public PartitionSpec withDefaults(PlatformConfig.PartitionDefaults d, String firstSystem) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ControlException(ControlError.BAD_SPEC,
                    "partition name must be 1..64 characters of [A-Za-z0-9_.-], got '" + name + "'");
        }
        boolean vUnset = vcpus == null || vcpus == 0;
        boolean cUnset = cores == null || cores == 0;
        // One of the two given: the other follows at the defaults' threads per core (SMT1 when that does not
        // divide), so "--cores 16" alone is 16 cores of SMT2, not 4 vCPUs on 16 cores.
        int defaultThreads = Math.max(1, d.vcpus() / Math.max(1, d.cores()));
        int v;
        int c;
        if (vUnset && cUnset) {
            v = d.vcpus();
            c = d.cores();
        } else if (vUnset) {
            c = cores;
            v = c * defaultThreads;
        } else if (cUnset) {
            v = vcpus;
            c = v % defaultThreads == 0 ? v / defaultThreads : v;
        } else {
            v = vcpus;
            c = cores;
        }
        int q = qosCredits == null ? d.qosCredits() : qosCredits;
        if (v < 1 || v > MAX_VCPUS) {
            throw new ControlException(ControlError.BAD_SPEC, "vcpus must be 1.." + MAX_VCPUS + ", got " + v);
        }
        if (c < 1 || c > MAX_CORES) {
            throw new ControlException(ControlError.BAD_SPEC, "cores must be 1.." + MAX_CORES + ", got " + c);
        }
        if (v % c != 0 || Integer.bitCount(v / c) != 1 || v / c > MAX_THREADS_PER_CORE) {
            throw new ControlException(ControlError.BAD_SPEC, "vcpus must be cores x 1, 2, 4 or 8 threads per core, got "
                    + v + " vcpus on " + c + " cores");
        }
        if (q < 0 || q > 0xFFFF) {
            throw new ControlException(ControlError.BAD_SPEC, "qos_credits must be 0..65535, got " + q);
        }
        String s = system == null || system.isEmpty() ? firstSystem : system;
        return new PartitionSpec(name, v, c, sharedProcessor, q, s);
    }

    /** Hardware threads per core (vcpus / cores); only meaningful after {@link #withDefaults}. */
    public int threadsPerCore() {
        return vcpus / cores;
    }
}
