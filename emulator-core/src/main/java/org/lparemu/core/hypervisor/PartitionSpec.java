package org.lparemu.core.hypervisor;

import java.util.regex.Pattern;

/**
 * A partition as the operator asks for it. Null fields take the daemon's defaults ({@link #withDefaults}).
 *
 * @param vcpus      virtual processors taking part in the H_JOIN rendezvous
 * @param cores      dedicated cores (or entitled whole cores when shared); credits follow them
 * @param qosCredits QoS credits assigned by the administrator
 * @param system     managed system to start on
 */
public record PartitionSpec(String name, Integer vcpus, Integer cores, boolean sharedProcessor, Integer qosCredits,
                            String system) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    /** Upper bounds that keep one partition's footprint reasonable. */
    public static final int MAX_VCPUS = 1024;
    public static final int MAX_CORES = 256;

    public static PartitionSpec named(String name) {
        return new PartitionSpec(name, null, null, false, null, null);
    }

    /** Fills unset fields from the defaults and validates; throws BAD_SPEC naming the field. */
    public PartitionSpec withDefaults(PlatformConfig.PartitionDefaults d, String firstSystem) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new ControlException(ControlError.BAD_SPEC,
                    "partition name must be 1..64 characters of [A-Za-z0-9_.-], got '" + name + "'");
        }
        int v = vcpus == null || vcpus == 0 ? d.vcpus() : vcpus;
        int c = cores == null || cores == 0 ? d.cores() : cores;
        int q = qosCredits == null ? d.qosCredits() : qosCredits;
        if (v < 1 || v > MAX_VCPUS) {
            throw new ControlException(ControlError.BAD_SPEC, "vcpus must be 1.." + MAX_VCPUS + ", got " + v);
        }
        if (c < 1 || c > MAX_CORES) {
            throw new ControlException(ControlError.BAD_SPEC, "cores must be 1.." + MAX_CORES + ", got " + c);
        }
        if (q < 0 || q > 0xFFFF) {
            throw new ControlException(ControlError.BAD_SPEC, "qos_credits must be 0..65535, got " + q);
        }
        String s = system == null || system.isEmpty() ? firstSystem : system;
        return new PartitionSpec(name, v, c, sharedProcessor, q, s);
    }
}
