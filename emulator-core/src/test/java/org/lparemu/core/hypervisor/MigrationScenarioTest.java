package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallRefusedException;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRecord;

/** A whole Live Partition Mobility with raw hcalls, as the kernel's pseries_migrate_partition drives it. */
@Timeout(30)
class MigrationScenarioTest {
    private static final long BLACKOUT_MS = 1_000;
    private static final long TRANSFER_MS = 500;

    private final Rig rig = new Rig(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 0, BLACKOUT_MS,
            TRANSFER_MS, 60_000));
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void migrationWithWindowsClosedFirstMovesThePartitionAndReportsExactlyTheDifferences() {
        // Windows open on the source; credits are the source's.
        long defaultWin = g.openWindow(Vas.WIN_TYPE_DEFAULT);
        long qosWin = g.openWindow(Vas.WIN_TYPE_QOS);
        assertEquals(40, g.caps(Vas.QUERY_GZIP_DEFAULT).targetLparCreds());
        DeviceTree sourceTree = rig.state("lpar1").deviceTree();
        long callsBefore = rig.platform.callCount();

        // Migrate: the guest is told, the orchestrator is ready at once.
        OperatorResults.MigrateResult m = rig.platform.migrate("lpar1", "");
        assertEquals(new PlatformEvent.MigrationRequest(m.eventId(), m.streamId()), g.nextEvent());
        CompletableFuture<MigrationOutcome> outcome = rig.platform.awaitMigration("lpar1", 0);
        assertEquals(VasiState.SUSPENDING.code, g.vasiState(m.streamId()));

        // Join: three vCPUs park, the fourth calls ibm,suspend-me, which refuses while windows exist.
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        assertEquals(RtasStatus.OUTSTANDING_COPROC, g.rtas(3, RtasService.SUSPEND_ME, null).status());

        // Close the windows and try again: accepted, and the call does not return until the resume.
        assertEquals(H_SUCCESS, g.deallocate(defaultWin));
        assertEquals(H_SUCCESS, g.deallocate(qosWin));
        CompletableFuture<RtasResult> suspend = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
        assertFalse(suspend.isDone());
        PartitionView blackout = rig.state("lpar1");
        assertTrue(blackout.suspended());
        assertEquals(VasiState.SUSPENDED, blackout.migration().vasiState());
        assertEquals(List.of(0, 1, 2), blackout.joinedVcpus());

        // No processor can make a call during the blackout: each is inside H_JOIN or ibm,suspend-me.
        CallRefusedException busy = assertThrows(CallRefusedException.class,
                () -> g.hcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, Rig.BUF));
        assertEquals(CallRefusal.Reason.VCPU_BUSY, busy.refusal().reason());
        assertEquals(RtasService.SUSPEND_ME, busy.refusal().inCall());
        assertEquals(CallRefusal.Reason.VCPU_BUSY, assertThrows(CallRefusedException.class,
                () -> g.hcall(1, Hcall.H_QUERY_VAS_WINDOW, defaultWin, Rig.BUF)).refusal().reason());
        assertTrue(rig.state("lpar1").suspended(), "refused calls change nothing");

        rig.clock.advance(BLACKOUT_MS);
        assertEquals(RtasStatus.SUCCESS, Rig.await(suspend).status());
        HcallResult caps = g.hcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, Rig.BUF);
        assertEquals(H_SUCCESS, caps.status());
        assertEquals(2 * 10, Vas.CopFeatCaps.decode(caps.buffer()).targetLparCreds(), "credits follow the destination");
        assertEquals(H_PARAMETER, g.hcall(3, Hcall.H_QUERY_VAS_WINDOW, defaultWin, Rig.BUF).status(),
                "source window ids mean nothing on the destination");

        PartitionView resumed = rig.state("lpar1");
        assertEquals("destination", resumed.system());
        assertFalse(resumed.suspended());
        assertEquals(2, resumed.callsRefused());
        assertEquals(VasiState.RESUMED, resumed.migration().vasiState());
        assertEquals(VasiState.RESUMED.code, g.vasiState(m.streamId()));
        assertEquals(20, resumed.credits().get(Vas.WIN_TYPE_DEFAULT).target());

        // The last vCPU prods the others out of H_JOIN.
        for (int v = 0; v < 3; v++) {
            assertEquals(H_SUCCESS, g.hcall(3, Hcall.H_PROD, v).status());
            assertEquals(H_SUCCESS, Rig.await(parked.get(v)).status());
        }

        // post_mobility_fixup: activate firmware, then update-nodes(1) + update-properties per node.
        assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.ACTIVATE_FIRMWARE, null).status());
        DeviceTree destinationTree = resumed.deviceTree();
        Set<Integer> expected = new TreeSet<>();
        for (DeviceTree.Difference d : sourceTree.diff(destinationTree)) {
            expected.add(sourceTree.node(d.path()).phandle());
        }
        Set<Integer> cpus = Set.of(PartitionTrees.cpuPhandle(0), PartitionTrees.cpuPhandle(1));
        assertTrue(expected.containsAll(cpus), "associativity is system-specific");
        List<UpdateNodesWorkArea.Entry> entries = g.updateNodes(RtasService.MIGRATION_SCOPE);
        Set<Integer> updated = new TreeSet<>();
        for (UpdateNodesWorkArea.Entry e : entries) {
            assertEquals(UpdateNodesWorkArea.Action.UPDATE, e.action(), e.toString());
            updated.add(e.phandle());
        }
        assertEquals(expected, updated);
        assertEquals(expected.size(), entries.size(), "each node once");

        // Applying what update-properties returns to the guest's copy of the source tree yields the
        // destination tree: nothing missing, nothing extra.
        DeviceTree guestCopy = sourceTree.copy();
        for (int phandle : updated) {
            List<String> deleted = new ArrayList<>();
            Map<String, byte[]> props = g.updateProperties(phandle, RtasService.MIGRATION_SCOPE, deleted);
            String path = guestCopy.nodeByPhandle(phandle).path();
            props.forEach((k, v) -> guestCopy.setProperty(path, k, v));
            deleted.forEach(k -> guestCopy.deleteProperty(path, k));
        }
        assertEquals(List.of(), guestCopy.diff(destinationTree));

        // Old window ids mean nothing on the destination; new windows come from the destination.
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_MODIFY_VAS_WINDOW, defaultWin, 42, 0, Vas.MOD_WIN_FLAGS, 0).status());
        HcallResult reopened = g.allocate(Vas.WIN_TYPE_DEFAULT);
        assertEquals(rig.platform.system("destination").pasteAddress(reopened.ret(0)), reopened.ret(1));
        assertEquals(H_SUCCESS, g.deallocate(reopened.ret(0)));

        // The memory transfer ends: COMPLETED, and the outcome tells the story.
        assertFalse(outcome.isDone());
        rig.clock.advance(TRANSFER_MS);
        MigrationOutcome o = Rig.await(outcome);
        long callsAfter = rig.platform.callCount();
        assertTrue(o.success());
        assertEquals(VasiState.COMPLETED, o.vasiState());
        assertEquals(2, o.attempts());
        assertEquals(List.of(RtasStatus.OUTSTANDING_COPROC, RtasStatus.SUCCESS), o.rtasStatuses());
        assertEquals(m.streamId(), o.streamId());
        assertEquals("source", o.source());
        assertEquals("destination", o.destination());
        assertEquals(callsAfter - callsBefore, o.hcalls());
        assertTrue(o.durationNanos() > 0);
        assertEquals(VasiState.COMPLETED.code, g.vasiState(m.streamId()));
        assertSame(o, Rig.await(rig.platform.awaitMigration("lpar1", 100)), "the most recent outcome, at once");

        List<String> transitions = new ArrayList<>();
        for (TraceRecord r : rig.platform.trace().read(0, 10_000, "lpar1").records()) {
            if (r.kind() == TraceKind.STATE && r.name().startsWith("VASI")) {
                transitions.add(r.name().substring(0, r.name().indexOf(" (")));
            }
        }
        assertEquals(List.of("VASI INVALID -> ENABLED", "VASI ENABLED -> SUSPENDING", "VASI SUSPENDING -> SUSPENDED",
                "VASI SUSPENDED -> RESUMED", "VASI RESUMED -> COMPLETED"), transitions);
    }

    @Test
    void aSecondMigrationBringsThePartitionBackWithTheSourcesValues() {
        DeviceTree original = rig.state("lpar1").deviceTree();
        for (String dest : List.of("destination", "source")) {
            rig.platform.migrate("lpar1", dest);
            List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
            CompletableFuture<RtasResult> suspend = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
            rig.clock.advance(BLACKOUT_MS);
            assertEquals(RtasStatus.SUCCESS, Rig.await(suspend).status());
            for (int v = 0; v < 3; v++) {
                g.hcall(3, Hcall.H_PROD, v);
                Rig.await(parked.get(v));
            }
            rig.clock.advance(TRANSFER_MS);
            assertTrue(Rig.await(rig.platform.awaitMigration("lpar1", 0)).success());
            assertEquals(dest, rig.state("lpar1").system());
        }
        assertEquals(List.of(), original.diff(rig.state("lpar1").deviceTree()));
    }
}
