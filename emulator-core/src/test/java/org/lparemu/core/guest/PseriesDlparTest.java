package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;

/** Processor DLPAR through the device tree and the VAS notifier, and the QoS credit write. */
class PseriesDlparTest {
    private static final int NEW_DRC = 0x10000008;
    private static final String NEW_CPU = "/cpus/PowerPC,POWER10@8";

    private FakePlatform platform;
    private PseriesVas vas;
    private GuestDeviceTree tree;
    private PseriesDlpar dlpar;

    private void boot(boolean shared) {
        platform = new FakePlatform(4, shared);
        vas = new PseriesVas(KernelCalls.threaded(platform.port, new VirtualGuestClock()), VasPolicy.UPSTREAM, new ErrorCounters());
        vas.pseriesVasInit();
        tree = new GuestDeviceTree(FakePlatform.bootTree());
        if (vas.copypasteFeat()) {
            tree.addReconfigNotifier(vas::pseriesVasNotifier);
        }
        dlpar = new PseriesDlpar(vas.calls(), new DeviceTreeUpdate(vas.calls(), tree), vas);
        platform.connectors.put(NEW_DRC, FakePlatform.cpuNode(1, NEW_DRC, 0x11));
    }

    private List<VasWindow> open(int n, long flags) throws VasException {
        List<VasWindow> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(vas.allocateWindow(0, flags, 1));
        }
        return out;
    }

    @Test
    void coreAddAttachesTheNodeAndReopensWindowsFromTheNewTarget() throws Exception {
        boot(false);
        List<VasWindow> w = open(2, 0);
        vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1);
        assertEquals(Vas.VAS_WIN_NO_CRED_CLOSE, w.get(1).status());
        platform.defaultTarget = 4;
        platform.port.clearCalls();

        assertEquals(0, dlpar.dlparCpuAdd(NEW_DRC));

        assertNotNull(tree.properties(NEW_CPU));
        assertEquals(NEW_CPU, tree.pathOfPhandle(0x11));
        assertEquals(NEW_CPU, tree.pathOfDrcIndex(NEW_DRC));
        assertEquals(Vas.QUERY_GZIP_DEFAULT, platform.port.calls(Hcall.H_QUERY_VAS_CAPABILITIES).get(0).arg(0));
        assertEquals(Vas.VAS_WIN_ACTIVE, w.get(1).status());
        assertEquals(4, vas.snapshot(Vas.WIN_TYPE_DEFAULT).creditsTotal());
        assertEquals(List.of(), vas.checkInvariants());
    }

    @Test
    void coreRemoveDetachesTheNodeAndClosesExcessWindows() throws Exception {
        boot(false);
        List<VasWindow> w = open(3, 0);
        platform.defaultTarget = 1;

        assertEquals(0, dlpar.dlparCpuRemove(FakePlatform.CPU0_DRC));

        assertNull(tree.properties("/cpus/PowerPC,POWER10@0"));
        assertEquals(List.of(0, Vas.VAS_WIN_NO_CRED_CLOSE, Vas.VAS_WIN_NO_CRED_CLOSE), w.stream().map(VasWindow::status).toList());
        assertEquals(1, platform.windowsOpen());
    }

    @Test
    void sharedProcessorPartitionsIgnoreTheNotifier() {
        boot(true);
        platform.port.clearCalls();
        assertEquals(0, dlpar.dlparCpuAdd(NEW_DRC));
        assertNotNull(tree.properties(NEW_CPU));
        assertEquals(0, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));
    }

    @Test
    void withoutCopyPasteThereIsNoVasWork() {
        FakePlatform p = new FakePlatform();
        p.qosFeature = false;
        p.defaultFeature = false;
        platform = p;
        vas = new PseriesVas(KernelCalls.threaded(p.port, new VirtualGuestClock()), VasPolicy.UPSTREAM, new ErrorCounters());
        vas.pseriesVasInit();
        tree = new GuestDeviceTree(FakePlatform.bootTree());
        tree.addReconfigNotifier(vas::pseriesVasNotifier); // even if registered, pseriesVasDlparCpu does nothing
        dlpar = new PseriesDlpar(vas.calls(), new DeviceTreeUpdate(vas.calls(), tree), vas);
        p.connectors.put(NEW_DRC, FakePlatform.cpuNode(1, NEW_DRC, 0x11));
        p.port.clearCalls();

        assertEquals(0, dlpar.dlparCpuAdd(NEW_DRC));
        assertEquals(0, dlpar.updateTotalCredits(5));

        assertEquals(0, p.port.calls().size(), "no hcall at all: only RTAS for the node");
    }

    @Test
    void dlparErrors() {
        boot(false);
        assertEquals(Errno.EINVAL.negative(), dlpar.dlparCpuAdd(FakePlatform.CPU0_DRC), "already present");
        assertEquals(Errno.EINVAL.negative(), dlpar.dlparCpuAdd(0x7777), "configure-connector fails");
        assertEquals(Errno.ENODEV.negative(), dlpar.dlparCpuRemove(0x7777));
        tree.detach("/cpus");
        assertEquals(Errno.ENODEV.negative(), dlpar.dlparCpuAdd(NEW_DRC), "no /cpus");
    }

    @Test
    void qosCreditsReconfigureWithoutAskingTheHypervisor() throws Exception {
        boot(false);
        List<VasWindow> q = open(3, PseriesVas.VAS_TX_WIN_FLAG_QOS_CREDIT);
        platform.port.clearCalls();

        assertEquals(0, dlpar.updateTotalCredits(1));

        assertEquals(0, platform.port.count(Hcall.H_QUERY_VAS_CAPABILITIES));
        assertEquals(List.of(0, Vas.VAS_WIN_NO_CRED_CLOSE, Vas.VAS_WIN_NO_CRED_CLOSE), q.stream().map(VasWindow::status).toList());
        assertEquals(1, vas.snapshot(Vas.WIN_TYPE_QOS).creditsTotal());
        assertEquals(Errno.EINVAL.negative(), dlpar.updateTotalCredits(70000));
        assertEquals(Errno.EINVAL.negative(), dlpar.updateTotalCredits(-1));
    }

    @Test
    void qosCreditsWithoutAQosTypeIsEnodev() {
        FakePlatform p = new FakePlatform();
        p.qosFeature = false;
        PseriesVas v = new PseriesVas(KernelCalls.threaded(p.port, new VirtualGuestClock()), VasPolicy.UPSTREAM, new ErrorCounters());
        v.pseriesVasInit();
        PseriesDlpar d = new PseriesDlpar(v.calls(), new DeviceTreeUpdate(v.calls(), new GuestDeviceTree(FakePlatform.bootTree())), v);
        assertEquals(Errno.ENODEV.negative(), d.updateTotalCredits(3));
    }
}
