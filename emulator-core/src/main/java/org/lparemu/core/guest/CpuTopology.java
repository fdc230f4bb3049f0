package org.lparemu.core.guest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.CpuNodes;
import org.lparemu.core.port.DeviceTree;

/**
 * The vCPUs a booting guest brings online: the threads its device tree lists under {@code /cpus} in each core's
 * {@code ibm,ppc-interrupt-server#s}, as Linux's {@code smp_setup_cpu_maps} finds them; a tree without them (a
 * minimal test platform) gives vCPUs {@code 0 .. vcpus-1} from the Welcome.
 */
public final class CpuTopology {
    static final String INTERRUPT_SERVERS = CpuNodes.INTERRUPT_SERVERS;

    private CpuTopology() {
    }

    /** Online vCPU ids at boot, ascending. */
    public static List<Integer> onlineCpus(BootInfo boot) {
        TreeSet<Integer> cpus = new TreeSet<>();
        DeviceTree t = boot.deviceTree();
        if (t != null && t.node("/cpus") != null) {
            for (DeviceTree.Node core : t.children("/cpus")) {
                byte[] servers = core.property(INTERRUPT_SERVERS);
                if (servers != null) {
                    cpus.addAll(cells(servers));
                }
            }
        }
        if (cpus.isEmpty()) {
            for (int i = 0; i < Math.max(1, boot.vcpus()); i++) {
                cpus.add(i);
            }
        }
        return List.copyOf(cpus);
    }

    static List<Integer> cells(byte[] value) {
        List<Integer> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(value);
        while (b.remaining() >= 4) {
            out.add(b.getInt());
        }
        return out;
    }
}
