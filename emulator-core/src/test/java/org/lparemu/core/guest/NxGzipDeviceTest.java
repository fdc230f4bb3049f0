package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

/** The /dev/crypto/nx-gzip user API over PseriesVas. */
class NxGzipDeviceTest {
    private final FakePlatform platform = new FakePlatform();
    private final ErrorCounters errors = new ErrorCounters();
    private final PseriesVas vas = new PseriesVas(KernelCalls.threaded(platform.port, new VirtualGuestClock()), VasPolicy.UPSTREAM, errors);
    private final NxGzipDevice device = new NxGzipDevice(vas, vas.calls(), errors);

    NxGzipDeviceTest() {
        assertEquals(0, vas.pseriesVasInit());
    }

    @Test
    void oneWindowPerHandle() {
        long h = device.openHandle();
        assertTrue(h > 0);
        assertEquals(0, device.txWinOpen(h, false, 0));

        assertEquals(Errno.EEXIST.negative(), device.txWinOpen(h, true, 0));

        assertEquals(1, platform.port.count(Hcall.H_ALLOCATE_VAS_WINDOW));
        assertEquals(1, device.opensOk());
        assertEquals(Errno.EINVAL.negative(), device.txWinOpen(12345, false, 0));
    }

    @Test
    void eachHandleIsItsOwnProcess() {
        NxGzipDevice.OpenResult a = device.open(false, 0);
        NxGzipDevice.OpenResult b = device.open(false, 0);
        assertTrue(a.ok() && b.ok());
        assertNotEquals(device.window(a.handle()).pid(), device.window(b.handle()).pid());
        assertEquals(device.window(a.handle()).pid(), platform.port.calls(Hcall.H_MODIFY_VAS_WINDOW).get(0).arg(1));
    }

    @Test
    void pasteGoesToThePasteAddressWithTheLength() {
        long h = device.open(false, 0).handle();
        VasWindow w = device.window(h);

        assertTrue(device.paste(h, 4096));

        var paste = platform.port.calls(Hcall.H_LPAREMU_NX_PASTE).get(0);
        assertEquals(w.pasteAddress(), paste.arg(0));
        assertEquals(4096, paste.arg(1));
        assertEquals(1, device.pastesOk());
        assertEquals(1, platform.pastes.get());
    }

    @Test
    void pasteToAClosedWindowFailsWithoutAnHcall() {
        platform.defaultTarget = 1;
        vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 1);
        long h = device.open(false, 0).handle();
        vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 0);
        platform.port.clearCalls();

        assertFalse(device.paste(h, 10));

        assertEquals(0, platform.port.count(Hcall.H_LPAREMU_NX_PASTE));
        assertEquals(1, device.pastesFailed());
        assertEquals(0, device.pastesOk());
    }

    @Test
    void pasteThePlatformNoLongerMapsFails() {
        long h = device.open(false, 0).handle();
        platform.port.script(Hcall.H_LPAREMU_NX_PASTE, HcallResult.of(HStatus.H_CLOSED));

        assertFalse(device.paste(h, 10));
        assertTrue(device.paste(h, 10));

        assertEquals(1, device.pastesFailed());
        assertEquals(1, device.pastesOk());
    }

    @Test
    void pasteWithoutAWindowIsAProgrammingError() {
        long h = device.openHandle();
        assertThrows(IllegalStateException.class, () -> device.paste(h, 1));
        assertThrows(IllegalStateException.class, () -> device.paste(999, 1));
    }

    @Test
    void failedOpenClosesTheHandleAndCountsTheErrno() {
        platform.defaultTarget = 0;
        vas.reconfigCapabilities(Vas.WIN_TYPE_DEFAULT, 0);

        NxGzipDevice.OpenResult r = device.open(false, 0);

        assertFalse(r.ok());
        assertEquals(Errno.EINVAL.negative(), r.rc());
        assertEquals("EINVAL", r.error());
        assertEquals(0, device.openHandles());
        assertEquals(1, errors.get(Errno.EINVAL));
        assertEquals(1, device.opensFailed());
    }

    @Test
    void rawPaprStatusFromTheHomeNodePathIsReportedByName() {
        platform.port.script(Hcall.H_HOME_NODE_ASSOCIATIVITY, HcallResult.of(HStatus.H_PARAMETER));
        NxGzipDevice.OpenResult r = device.open(false, -1);
        assertEquals((int) HStatus.H_PARAMETER, r.rc());
        assertEquals(1, errors.get("H_PARAMETER"));
    }

    @Test
    void closeDeallocatesAndForgetsTheHandle() {
        long h = device.open(false, 0).handle();
        assertEquals(0, device.close(h));
        assertNull(device.window(h));
        assertEquals(0, platform.windowsOpen());
        assertEquals(Errno.EINVAL.negative(), device.close(h));
        assertEquals(0, device.close(device.openHandle()), "a handle without a window closes quietly");
        assertEquals(List.of(), device.windows());
    }

    @Test
    void deviceIsAbsentWithoutCopyPaste() {
        FakePlatform p = new FakePlatform();
        p.qosFeature = false;
        p.defaultFeature = false;
        PseriesVas v = new PseriesVas(KernelCalls.threaded(p.port, new VirtualGuestClock()), VasPolicy.UPSTREAM, errors);
        v.pseriesVasInit();
        NxGzipDevice d = new NxGzipDevice(v, v.calls(), errors);

        assertFalse(d.available());
        assertEquals(Errno.ENODEV.negative(), d.open(false, 0).rc());
    }
}
