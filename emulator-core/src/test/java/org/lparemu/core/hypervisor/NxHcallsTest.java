package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.lparemu.core.papr.HStatus.H_CLOSED;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_PRIVILEGE;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;

@Timeout(20)
class NxHcallsTest {
    private final Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void nxCapabilitiesComeFromTheSystem() {
        HcallResult all = g.hcall(0, Hcall.H_QUERY_NX_CAPABILITIES, Vas.NX_QUERY_OVERALL, Rig.BUF);
        assertEquals(H_SUCCESS, all.status());
        assertEquals(Vas.NX_FEAT_GZIP, Vas.AllCaps.decode(all.buffer()).featType());

        HcallResult gz = g.hcall(0, Hcall.H_QUERY_NX_CAPABILITIES, Vas.NX_QUERY_GZIP, Rig.BUF);
        Vas.NxGzipCaps caps = Vas.NxGzipCaps.decode(gz.buffer());
        assertEquals(1L << 20, caps.reqMaxProcessedLen());
        assertEquals(32768, caps.minCompressLen());
        assertEquals(32768, caps.minDecompressLen());
    }

    @Test
    void nxCapabilitiesRejectBadTypeAndBuffer() {
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_QUERY_NX_CAPABILITIES, 2, Rig.BUF).status());
        assertEquals(H_PRIVILEGE, g.hcall(0, Hcall.H_QUERY_NX_CAPABILITIES, 1, Rig.BUF | 0x100).status());
    }

    @Test
    void pasteSucceedsOnlyOnAnActiveWindowAndCountsBytes() {
        HcallResult a = g.allocate(Vas.WIN_TYPE_DEFAULT);
        long id = a.ret(0);
        long paste = a.ret(1);
        assertEquals(H_CLOSED, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 100).status(), "not modified yet");

        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 9, 0, Vas.MOD_WIN_FLAGS, 0).status());
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 100).status());
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 1L << 20).status());
        assertEquals(100 + (1L << 20), rig.state("lpar1").windows().get(0).bytesProcessed());

        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 0).status());
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, (1L << 20) + 1).status());
        assertEquals(H_CLOSED, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste + ManagedSystem.PASTE_PAGE, 100).status());

        g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, id, 0, 0, Vas.MOD_WIN_CLOSE, 0);
        assertEquals(H_CLOSED, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 100).status());
        g.deallocate(id);
        assertEquals(H_CLOSED, g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, paste, 100).status());
    }
}
