package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_CLOSED;
import static org.lparemu.core.papr.HStatus.H_CONSTRAINED;
import static org.lparemu.core.papr.HStatus.H_COP_HW;
import static org.lparemu.core.papr.HStatus.H_FUNCTION;
import static org.lparemu.core.papr.HStatus.H_P2;
import static org.lparemu.core.papr.HStatus.H_P3;
import static org.lparemu.core.papr.HStatus.H_P4;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_PRIVILEGE;
import static org.lparemu.core.papr.HStatus.H_RESOURCE;
import static org.lparemu.core.papr.HStatus.H_STATE;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

@Timeout(20)
class VasHcallsTest {
    private Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void overallCapabilitiesListBothFeatures() {
        HcallResult r = g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_OVERALL, Rig.BUF);
        assertEquals(H_SUCCESS, r.status());
        Vas.AllCaps caps = Vas.AllCaps.decode(r.buffer());
        assertEquals(Vas.DESCRIPTOR_OVERALL, caps.descriptor());
        assertEquals(Vas.FEAT_GZIP_DEFAULT | Vas.FEAT_GZIP_QOS, caps.featType());
    }

    @Test
    void defaultCapabilitiesTargetIsCoresTimesCreditsPerCore() {
        Vas.CopFeatCaps c = g.caps(Vas.QUERY_GZIP_DEFAULT);
        assertEquals(Vas.DESCRIPTOR_DEFAULT, c.descriptor());
        assertEquals(Vas.WIN_TYPE_DEFAULT, c.winType());
        assertEquals(Vas.USER_MODE_COPY_PASTE, c.userMode());
        assertEquals(2 * 20, c.targetLparCreds());
        assertEquals(2 * 20, c.defLparCreds());
        assertEquals(2048, c.maxLparCreds());
        assertEquals(1, c.maxWinCreds());
    }

    @Test
    void qosCapabilitiesTargetIsThePartitionsQosCredits() {
        Vas.CopFeatCaps c = g.caps(Vas.QUERY_GZIP_QOS);
        assertEquals(Vas.DESCRIPTOR_QOS, c.descriptor());
        assertEquals(Vas.WIN_TYPE_QOS, c.winType());
        assertEquals(3, c.targetLparCreds());
    }

    @Test
    void capabilitiesRejectBadTypeAndBadBuffer() {
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, 3, Rig.BUF).status());
        assertEquals(H_PRIVILEGE, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, 2, 0).status());
        assertEquals(H_PRIVILEGE, g.hcall(0, Hcall.H_QUERY_VAS_CAPABILITIES, 2, Rig.BUF + 8).status());
    }

    @Test
    void allocateReturnsIdPasteAddressAndIrqsAndTheWindowWaitsForModify() {
        HcallResult r = g.allocate(Vas.WIN_TYPE_DEFAULT);
        long id = r.ret(0);
        ManagedSystem source = rig.platform.system("source");
        assertEquals(source.pasteAddress(id), r.ret(1));
        assertNotEquals(r.ret(2), r.ret(3), "completion and fault IRQs differ");

        PartitionView.WindowView w = rig.state("lpar1").windows().get(0);
        assertEquals(id, w.winId());
        assertEquals(Vas.HV_WIN_MOD_IN_PROCESS, w.status());
        assertEquals(g.port.session().id(), w.ownerConnection());
        assertEquals((int) r.ret(3), w.faultIrq());
        assertEquals(1, rig.state("lpar1").credits().get(Vas.WIN_TYPE_DEFAULT).used());
    }

    @Test
    void allocateRejectsBadTypeAndCredits() {
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, 2, 1, Vas.DEFAULT_DOMAIN_ID).status());
        assertEquals(H_P2, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 0).status());
        assertEquals(H_P2, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 2).status());
        assertTrue(rig.state("lpar1").windows().isEmpty());
    }

    @Test
    void allocateBeyondTargetAnswersTheConfiguredStatus() {
        for (int i = 0; i < 3; i++) {
            g.allocate(Vas.WIN_TYPE_QOS);
        }
        assertEquals(H_CONSTRAINED, g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1).status());
        assertEquals(3, rig.state("lpar1").credits().get(Vas.WIN_TYPE_QOS).used());

        rig.close();
        PlatformConfig.HypervisorOptions o = PlatformConfig.HypervisorOptions.DEFAULT;
        rig = new Rig(new PlatformConfig.HypervisorOptions(o.suspendWithWindows(), o.suspendRefusalStatus(),
                H_RESOURCE, 0, 0, 0, 60_000, 0, 0));
        Rig.Guest g2 = rig.guest("lpar2");
        assertEquals(H_RESOURCE, g2.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1).status());
    }

    @Test
    void allocateAtTheWindowLimitAnswersHResource() {
        rig.close();
        PlatformConfig.Limits l = PlatformConfig.Limits.DEFAULT;
        rig = new Rig(Rig.config(PlatformConfig.HypervisorOptions.DEFAULT, l.withMaxWindowsPerPartition(2)));
        Rig.Guest g2 = rig.guest("lpar1");
        g2.allocate(Vas.WIN_TYPE_DEFAULT);
        g2.allocate(Vas.WIN_TYPE_DEFAULT);
        assertEquals(H_RESOURCE, g2.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1).status());
    }

    @Test
    void allocateWithoutUserModeCopyPasteAnswersHCopHw() {
        rig.close();
        PlatformConfig.SystemConfig s = PlatformConfig.SystemConfig.named("nocp", 0);
        PlatformConfig.SystemConfig nocp = new PlatformConfig.SystemConfig(s.name(), 20, 2048, 1, true, false,
                s.nxReqMaxProcessedLen(), s.nxMinCompressLen(), s.nxMinDecompressLen(), s.pasteAddressBase(), 0,
                s.deviceTreeOverlay());
        rig = new Rig(new PlatformConfig(List.of(nocp), List.of(PartitionSpec.named("lpar1")),
                PlatformConfig.PartitionDefaults.DEFAULT, PlatformConfig.HypervisorOptions.DEFAULT,
                PlatformConfig.Limits.DEFAULT));
        Rig.Guest g2 = rig.guest("lpar1");
        assertEquals(H_COP_HW, g2.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1).status());
        assertEquals(0, g2.caps(Vas.QUERY_GZIP_DEFAULT).userMode());
    }

    @Test
    void modifyActivatesAndClosesAndChecksEachArgument() {
        long id = g.allocate(Vas.WIN_TYPE_DEFAULT).ret(0);
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id + 1000, 42, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(H_P2, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 0, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(H_P2, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 1L << 32, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(H_P3, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 42, 1L << 32, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(H_P4, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 42, 0, Vas.MOD_WIN_FLAGS | 1, 0).status());
        assertEquals(Vas.HV_WIN_MOD_IN_PROCESS, rig.state("lpar1").windows().get(0).status());

        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 42, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(Vas.HV_WIN_ACTIVE, rig.state("lpar1").windows().get(0).status());
        assertEquals(42, rig.state("lpar1").windows().get(0).pid());

        // pid is ignored with CLOSE
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 0, 0, Vas.MOD_WIN_CLOSE, 0).status());
        assertEquals(Vas.HV_WIN_CLOSED, rig.state("lpar1").windows().get(0).status());
        assertEquals(H_STATE, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 42, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(1, rig.state("lpar1").credits().get(Vas.WIN_TYPE_DEFAULT).used(), "a closed window keeps its credit");
    }

    @Test
    void deallocateFreesTheWindowAndItsCreditOnce() {
        long id = g.openWindow(Vas.WIN_TYPE_DEFAULT);
        assertEquals(H_SUCCESS, g.deallocate(id));
        assertEquals(H_PARAMETER, g.deallocate(id));
        assertTrue(rig.state("lpar1").windows().isEmpty());
        assertEquals(0, rig.state("lpar1").credits().get(Vas.WIN_TYPE_DEFAULT).used());
    }

    @Test
    void queryWindowWritesWinLpar() {
        long id = g.openWindow(Vas.WIN_TYPE_QOS);
        HcallResult r = g.hcall(0, Hcall.H_QUERY_VAS_WINDOW, id, Rig.BUF);
        assertEquals(H_SUCCESS, r.status());
        Vas.WinLpar w = Vas.WinLpar.decode(r.buffer());
        assertEquals(Vas.WIN_TYPE_QOS, w.winType());
        assertEquals(Vas.HV_WIN_ACTIVE, w.status());
        assertEquals(42, w.pid());
        assertEquals(rig.platform.system("source").pasteAddress(id), w.winAddr());
        assertArrayEquals(new long[] {Vas.DEFAULT_DOMAIN_ID, 0, 0, 0, 0, 0}, w.domain());

        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_QUERY_VAS_WINDOW, id + 1, Rig.BUF).status());
        assertEquals(H_PRIVILEGE, g.hcall(0, Hcall.H_QUERY_VAS_WINDOW, id, 0).status());
    }

    @Test
    void windowIdsNeverCrossPartitions() {
        long id = g.openWindow(Vas.WIN_TYPE_DEFAULT);
        Rig.Guest other = rig.guest("lpar2");
        assertEquals(H_PARAMETER, other.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 7, 0, Vas.MOD_WIN_CLOSE, 0).status());
        assertEquals(H_PARAMETER, other.hcall(0, Hcall.H_QUERY_VAS_WINDOW, id, Rig.BUF).status());
        assertEquals(H_PARAMETER, other.deallocate(id));
        long paste = rig.platform.system("source").pasteAddress(id);
        assertEquals(H_CLOSED, other.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 4096).status());

        PartitionView.WindowView w = rig.state("lpar1").windows().get(0);
        assertEquals(Vas.HV_WIN_ACTIVE, w.status(), "lpar2 could not touch lpar1's window");
        assertEquals(0, w.bytesProcessed());
        assertTrue(rig.state("lpar2").windows().isEmpty());
    }

    @Test
    void unregisteredOpcodeAnswersHFunction() {
        // H_COP drives the in-kernel NX-842 path, which lparemu does not model (papr-notes 2.2).
        assertEquals(H_FUNCTION, g.hcall(0, Hcall.H_COP, 1, Rig.BUF).status());
    }
}
