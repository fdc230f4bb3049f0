package org.lparemu.core.port;

import java.nio.ByteBuffer;
import org.lparemu.core.papr.Associativity;

/**
 * Which NUMA node a device tree puts a thread on: the {@code ibm,associativity} of the cpu node whose
 * {@code ibm,ppc-interrupt-server#s} lists the thread, read at the depth the tree's {@code /rtas
 * ibm,associativity-reference-points} gives ({@link Associativity}). The guest's boot-time map and the CPU-affinity
 * oracle both read a tree through this.
 */
public final class CpuNodes {
    public static final String INTERRUPT_SERVERS = "ibm,ppc-interrupt-server#s";

    private CpuNodes() {
    }

    /** The tree's node depth ({@code min_common_depth}); 0 when it has no reference points (NUMA disabled). */
    public static int depth(DeviceTree t) {
        DeviceTree.Node rtas = t.node("/rtas");
        return Associativity.primaryDepth(rtas == null ? null : rtas.property(Associativity.REFERENCE_POINTS));
    }

    /**
     * The node of thread {@code cpu} at {@code depth}: 0 with NUMA disabled; {@link Associativity#NO_NODE} when no cpu
     * node lists the thread or its associativity is shorter than the depth.
     */
    public static int nodeOf(DeviceTree t, int cpu, int depth) {
        if (depth <= 0) {
            return 0;
        }
        DeviceTree.Node core = coreOf(t, cpu);
        return core == null ? Associativity.NO_NODE : Associativity.nid(core.property(Associativity.PROPERTY), depth);
    }

    /** {@code of_get_cpu_node}: the cpu node under {@code /cpus} whose interrupt servers list thread {@code cpu}, or null. */
    public static DeviceTree.Node coreOf(DeviceTree t, int cpu) {
        if (t.node("/cpus") == null) {
            return null;
        }
        for (DeviceTree.Node core : t.children("/cpus")) {
            byte[] servers = core.property(INTERRUPT_SERVERS);
            if (servers != null && lists(servers, cpu)) {
                return core;
            }
        }
        return null;
    }

    private static boolean lists(byte[] servers, int cpu) {
        ByteBuffer b = ByteBuffer.wrap(servers);
        while (b.remaining() >= 4) {
            if (b.getInt() == cpu) {
                return true;
            }
        }
        return false;
    }
}
