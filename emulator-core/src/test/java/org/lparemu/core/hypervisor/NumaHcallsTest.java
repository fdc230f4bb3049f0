package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vphn;
import org.lparemu.core.port.HcallResult;

@Timeout(20)
class NumaHcallsTest {
    private final Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void homeNodeIsTheAssociativityOfTheVcpusCoreInVphnFormat() {
        for (int vcpu = 0; vcpu < 4; vcpu++) {
            HcallResult r = g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, Vphn.FLAG_VCPU, vcpu);
            assertEquals(H_SUCCESS, r.status());
            assertEquals(6, r.rets().length);
            int core = vcpu / 2; // two threads per core: vCPUs 0,1 on core 0 and 2,3 on core 1
            byte[] assoc = g.platformNode(PartitionTrees.cpuPath(core, 2)).get("ibm,associativity");
            assertArrayEquals(NumaHcalls.cellsWithoutCount(assoc), Vphn.unpack(r.rets()), "vcpu " + vcpu);
        }
        // source NUMA base 0: (0, 0, core, core)
        HcallResult r = g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, Vphn.FLAG_VCPU, 2);
        assertArrayEquals(new int[] {0, 0, 1, 1}, Vphn.unpack(r.rets()));
    }

    @Test
    void rejectsOtherFlagsAndUnknownVcpus() {
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, 2, 0).status());
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, Vphn.FLAG_VCPU, 4).status());
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_HOME_NODE_ASSOCIATIVITY, Vphn.FLAG_VCPU, -1).status());
    }
}
