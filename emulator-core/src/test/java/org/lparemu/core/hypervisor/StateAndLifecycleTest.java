package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;

/** GetState, the dispatch table, disconnects and partition deletion. */
@Timeout(20)
class StateAndLifecycleTest {
    private final Rig rig = new Rig(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 0, 1_000, 0, 60_000));

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void everyFamilyIsRegisteredOnce() {
        DispatchTable t = rig.platform.dispatchTable();
        for (long op : List.of(Hcall.H_QUERY_VAS_CAPABILITIES, Hcall.H_ALLOCATE_VAS_WINDOW, Hcall.H_MODIFY_VAS_WINDOW,
                Hcall.H_DEALLOCATE_VAS_WINDOW, Hcall.H_QUERY_VAS_WINDOW, Hcall.H_QUERY_NX_CAPABILITIES,
                Hcall.H_LPAREMU_NX_PASTE, Hcall.H_HOME_NODE_ASSOCIATIVITY, Hcall.H_VASI_STATE, Hcall.H_VASI_SIGNAL,
                Hcall.H_JOIN, Hcall.H_PROD, Hcall.H_GET_NX_FAULT)) {
            assertTrue(t.hcalls().containsKey(op), Hcall.name(op));
        }
        assertEquals(13, t.hcalls().size());
        assertEquals(RtasService.ALL.size(), t.rtasServices().size());
        assertTrue(t.rtasServices().keySet().containsAll(RtasService.ALL));
        DispatchTable fresh = new DispatchTable();
        HypervisorCalls.registerAll(fresh);
        assertThrows(IllegalStateException.class, () -> HypervisorCalls.registerAll(fresh));
    }

    @Test
    void getStateShowsWindowsCreditsConnectionsAndEvents() {
        PartitionView empty = rig.state("lpar1");
        assertEquals("source", empty.system());
        assertNull(empty.migration());
        assertEquals(List.of(new PartitionView.CreditView(Vas.WIN_TYPE_QOS, 3, 2048, 0),
                new PartitionView.CreditView(Vas.WIN_TYPE_DEFAULT, 40, 2048, 0)), empty.credits());

        Rig.Guest g = rig.guest("lpar1");
        long id = g.openWindow(Vas.WIN_TYPE_QOS);
        HcallResult paste = g.hcall(0, Hcall.H_LPAREMU_NX_PASTE, rig.platform.system("source").pasteAddress(id), 512);
        assertEquals(H_SUCCESS, paste.status());
        OperatorResults.PrrnResult prrn = rig.platform.prrn("lpar1",
                List.of(DeviceTreeChange.deleteNode("/vdevice/vty@30000000")));

        PartitionView s = rig.state("lpar1");
        PartitionView.WindowView w = s.windows().get(0);
        assertEquals(id, w.winId());
        assertEquals(Vas.WIN_TYPE_QOS, w.winType());
        assertEquals(Vas.HV_WIN_ACTIVE, w.status());
        assertEquals(1, w.credits());
        assertEquals(512, w.bytesProcessed());
        assertEquals(g.port.session().id(), w.ownerConnection());
        assertEquals(Thread.currentThread().getName(), w.ownerTask());
        assertEquals(1, s.credits().get(Vas.WIN_TYPE_QOS).used());
        assertEquals(1, s.connections().size());
        assertEquals(1, s.pendingEvents().size());
        assertEquals(prrn.eventId(), s.pendingEvents().get(0).eventId());
        assertEquals("delivered", s.pendingEvents().get(0).state());
        assertNull(s.deviceTree().node("/vdevice/vty@30000000"));
        assertEquals(1, rig.platform.listPartitions().stream().filter(p -> p.name().equals("lpar1"))
                .findFirst().orElseThrow().windows());
    }

    @Test
    void aDisconnectKeepsWindowsSoSuspendKeepsRefusingUntilAGuestFreesThem() {
        Rig.Guest first = rig.guest("lpar1");
        long id = first.openWindow(Vas.WIN_TYPE_DEFAULT);
        first.port.close();
        assertEquals(1, rig.state("lpar1").windows().size());

        Rig.Guest again = rig.guest("lpar1");
        rig.platform.migrate("lpar1", null);
        again.joinAllBut(3);
        assertEquals(-9006, again.rtas(3, RtasService.SUSPEND_ME, null).status());
        assertEquals(H_SUCCESS, again.deallocate(id));
        assertTrue(rig.state("lpar1").windows().isEmpty());
    }

    @Test
    void deletingASuspendedPartitionFailsItsPendingCallsAndWaiters() {
        Rig.Guest g = rig.guest("lpar1");
        rig.platform.migrate("lpar1", null);
        CompletableFuture<MigrationOutcome> outcome = rig.platform.awaitMigration("lpar1", 0);
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        CompletableFuture<RtasResult> suspend = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
        CompletableFuture<HcallResult> deferred = g.hcallAsync(3, Hcall.H_VASI_STATE, 1);
        assertEquals(VasiState.SUSPENDED, rig.state("lpar1").migration().vasiState());

        rig.platform.deletePartition("lpar1");
        for (CompletableFuture<?> f : List.of(outcome, suspend, deferred, parked.get(0), parked.get(1), parked.get(2))) {
            Boolean failed = Rig.await(f.handle((v, e) -> e != null));
            assertTrue(failed, "pending future failed");
        }
        rig.clock.advance(1_000); // the resume timer finds the partition gone and does nothing
        assertFalse(rig.platform.listPartitions().stream().anyMatch(p -> p.name().equals("lpar1")));
    }
}
