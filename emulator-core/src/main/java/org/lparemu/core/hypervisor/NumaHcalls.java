package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;

import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vphn;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;

/** The NUMA family: H_HOME_NODE_ASSOCIATIVITY. Handlers run under the partition lock. */
final class NumaHcalls {
    private NumaHcalls() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.register(Hcall.H_HOME_NODE_ASSOCIATIVITY, NumaHcalls::hHomeNodeAssociativity);
    }

    /**
     * H_HOME_NODE_ASSOCIATIVITY(flags, id) -> six registers in the VPHN packed format ({@link Vphn}) holding
     * the associativity domains of the core that hosts the vCPU, as the partition's tree on its current
     * system has them. Only flags = 1 (id is a vCPU number) is supported; another flag or an id that is not
     * a vCPU of the partition answers H_PARAMETER. vCPU v is a thread of core {@code v / threadsPerCore}.
     */
    @GuardedBy("p.lock")
    static HcallResult hHomeNodeAssociativity(Partition p, CallContext ctx) {
        long flags = ctx.arg(0);
        long id = ctx.arg(1);

        if (flags != Vphn.FLAG_VCPU || !p.vcpus.exists(id)) {
            return HcallResult.of(H_PARAMETER);
        }
        int tpc = p.vcpus.threadsPerCore();
        int core = (int) (id / tpc);
        DeviceTree.Node node = p.deviceTreeLocked().node(PartitionTrees.cpuPath(core, tpc));
        byte[] assoc = node == null ? null : node.property("ibm,associativity");
        int[] domains = assoc == null
                ? cellsWithoutCount(PartitionTrees.associativity(p.systemLocked(), core))
                : cellsWithoutCount(assoc);
        return HcallResult.success(Vphn.pack(domains));
    }

    /** The domains of an ibm,associativity value (its first cell is their count). */
    static int[] cellsWithoutCount(byte[] value) {
        int n = value.length / 4;
        int count = n == 0 ? 0 : Math.min(cell(value, 0), n - 1);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = cell(value, i + 1);
        }
        return out;
    }

    private static int cell(byte[] b, int i) {
        return ((b[4 * i] & 0xFF) << 24) | ((b[4 * i + 1] & 0xFF) << 16) | ((b[4 * i + 2] & 0xFF) << 8)
                | (b[4 * i + 3] & 0xFF);
    }
}
