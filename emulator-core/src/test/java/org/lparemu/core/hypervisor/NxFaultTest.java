package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.SystemGuestClock;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRecord;

/**
 * NX faults (papr-notes 3.6): a request NX cannot complete is queued on its window and raises the window's fault
 * interrupt; H_GET_NX_FAULT hands the faulted request blocks out one per call; the guest's threaded handler
 * fetches them and writes the opener's CSB, as vas.c and vas-api.c do.
 */
@Timeout(30)
class NxFaultTest {
    private static final long FAULT_ADDRESS = 0x7e0000001000L;
    private static final long CSB = 0x7fff00000080L;

    private final Rig rig = new Rig();
    private GuestKernel kernel;

    @AfterEach
    void close() {
        if (kernel != null) {
            kernel.close();
        }
        rig.close();
    }

    private HcallResult paste(Rig.Guest g, long pasteAddress, long faultAddress, long csb) {
        return g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, pasteAddress, 4096, faultAddress, csb);
    }

    @Test
    void aFaultingPasteQueuesTheRequestAndRaisesTheWindowsFaultInterrupt() {
        Rig.Guest g = rig.guest("lpar1");
        HcallResult alloc = g.allocate(Vas.WIN_TYPE_DEFAULT);
        long winId = alloc.ret(0);
        assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, winId, 42, 0, Vas.MOD_WIN_FLAGS, 0)
                .status());
        assertEquals(HStatus.H_STATE, g.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF).status(), "no fault yet");

        assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), FAULT_ADDRESS, CSB).status(), "NX accepts the paste");
        assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), FAULT_ADDRESS + 8, CSB).status());
        PlatformEvent first = g.nextEvent();
        assertEquals(new PlatformEvent.Interrupt(first.eventId(), (int) alloc.ret(3)), first,
                "the fault interrupt H_ALLOCATE_VAS_WINDOW returned");
        assertEquals(PlatformEvent.Interrupt.class, g.nextEvent().getClass(), "one interrupt per fault");

        assertEquals(HStatus.H_PARAMETER, g.hcall(0, Hcall.H_GET_NX_FAULT, winId + 1000, Rig.BUF).status());
        assertEquals(HStatus.H_PRIVILEGE, g.hcall(0, Hcall.H_GET_NX_FAULT, winId, 0).status());
        assertEquals(HStatus.H_PRIVILEGE, g.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF + 8).status());
        HcallResult one = g.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF);
        assertEquals(HStatus.H_SUCCESS, one.status());
        assertEquals(Vas.CRB_BYTES, one.buffer().length);
        Vas.FaultCrb crb = Vas.FaultCrb.decode(one.buffer());
        assertEquals(CSB, crb.csbAddress());
        assertEquals(FAULT_ADDRESS, crb.faultStorageAddress(), "oldest first");
        assertEquals((int) winId, crb.pswid());
        assertTrue(crb.faultStatus() != 0);
        assertEquals(FAULT_ADDRESS + 8, Vas.FaultCrb.decode(g.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF).buffer())
                .faultStorageAddress());
        assertEquals(HStatus.H_STATE, g.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF).status(), "all fetched");

        Rig.Guest other = rig.guest("lpar2");
        assertEquals(HStatus.H_PARAMETER, other.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF).status(),
                "another partition's window does not exist for it");
    }

    @Test
    void aFullFaultFifoRefusesFaultingPastesBusy() {
        Rig.Guest g = rig.guest("lpar1");
        HcallResult alloc = g.allocate(Vas.WIN_TYPE_DEFAULT);
        g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, alloc.ret(0), 42, 0, Vas.MOD_WIN_FLAGS, 0);
        for (int i = 0; i < VasWindow.MAX_PENDING_FAULTS; i++) {
            assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), FAULT_ADDRESS, CSB).status());
        }
        assertEquals(HStatus.H_BUSY, paste(g, alloc.ret(1), FAULT_ADDRESS, CSB).status());
        assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), 0, 0).status(), "a request that does not fault runs");
        assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_GET_NX_FAULT, alloc.ret(0), Rig.BUF).status());
        assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), FAULT_ADDRESS, CSB).status(), "a slot is free again");
    }

    @Test
    void withTheMappingChangeOptionPastesFailFromMigrateUntilTheMigrationIsOver() {
        try (Rig changed = new Rig(PlatformConfig.HypervisorOptions.DEFAULT.withVasMappingsChangeAtMigrate(true))) {
            Rig.Guest g = changed.guest("lpar1");
            HcallResult alloc = g.allocate(Vas.WIN_TYPE_DEFAULT);
            g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, alloc.ret(0), 42, 0, Vas.MOD_WIN_FLAGS, 0);
            assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), 0, 0).status());

            OperatorResults.MigrateResult m = changed.platform.migrate("lpar1", "");
            assertEquals(HStatus.H_CLOSED, paste(g, alloc.ret(1), 0, 0).status(),
                    "the window is still ACTIVE and listed, but its mapping changed before the OS was told");
            assertEquals(Vas.HV_WIN_ACTIVE, changed.state("lpar1").windows().get(0).status());

            assertEquals(HStatus.H_SUCCESS, g.hcall(0, Hcall.H_VASI_SIGNAL, m.streamId(), VasiSignal.CANCEL, 6L << 24)
                    .status());
            Rig.await(changed.platform.awaitMigration("lpar1", 5000));
            assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), 0, 0).status(), "restored on the aborted source");
        }
    }

    @Test
    void byDefaultPastesWorkUntilTheOsClosesTheWindows() {
        Rig.Guest g = rig.guest("lpar1");
        HcallResult alloc = g.allocate(Vas.WIN_TYPE_DEFAULT);
        g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, alloc.ret(0), 42, 0, Vas.MOD_WIN_FLAGS, 0);
        rig.platform.migrate("lpar1", "");
        assertEquals(HStatus.H_SUCCESS, paste(g, alloc.ret(1), 0, 0).status());
    }

    private void awaitInterruptAcks(long since, int n) {
        List<TraceRecord> acks = new ArrayList<>();
        long from = since;
        while (acks.size() < n) {
            TraceRecord r = Rig.await(rig.platform.trace().await("lpar1", from,
                    t -> t.kind() == TraceKind.EVENT_ACK && t.name().equals("Interrupt")));
            acks.add(r);
            from = r.seq();
        }
        for (TraceRecord r : acks) {
            assertEquals(0, r.status(), r.detail());
        }
    }

    @Test
    void theGuestsThreadedHandlerFetchesTheFaultAndWritesTheOpenersCsb() {
        kernel = GuestKernel.boot(new InProcessPort(rig.platform, "lpar1"), new GuestConfig(VasPolicy.UPSTREAM,
                PrrnPolicy.IGNORE, new SystemGuestClock(0.001), "nx-fault"));
        Rig.Guest raw = new Rig.Guest(rig, new InProcessPort(rig.platform, "lpar1", "raw", false));
        var open = kernel.nxGzip().open(false, 0);
        assertTrue(open.ok(), open.error());
        long h = open.handle();
        assertNull(kernel.nxGzip().csb(h));

        long since = rig.platform.trace().nextSeq();
        assertTrue(kernel.nxGzip().pasteFaulting(h, 4096, FAULT_ADDRESS));
        awaitInterruptAcks(since, 1);
        assertEquals(new Vas.Csb(Vas.CSB_CC_FAULT_ADDRESS, Vas.CSB_CE_TERMINATION, FAULT_ADDRESS),
                kernel.nxGzip().csb(h));
        assertEquals(1, kernel.vas().faultsHandled());
        assertEquals(0, kernel.nxGzip().window(h).pendingFaults());
        long winId = kernel.nxGzip().window(h).winId();
        assertEquals(HStatus.H_STATE, raw.hcall(0, Hcall.H_GET_NX_FAULT, winId, Rig.BUF).status(),
                "the guest consumed the fault");

        // A request whose CSB address is a bad pointer: the CSB cannot be written, the process is signalled.
        since = rig.platform.trace().nextSeq();
        assertTrue(kernel.nxGzip().pasteFaulting(h, 4096, FAULT_ADDRESS, 0));
        awaitInterruptAcks(since, 1);
        assertEquals(1, kernel.nxGzip().sigsegvs());
        assertEquals(2, kernel.vas().faultsHandled());

        // Closing the window frees its interrupt once the hypervisor has deallocated it.
        long irq = kernel.nxGzip().window(h).faultIrq();
        assertEquals(0, kernel.nxGzip().close(h));
        assertEquals(List.of(), rig.state("lpar1").windows());
        assertNull(kernel.vas().pseriesVasIrqHandler(irq));
    }
}
