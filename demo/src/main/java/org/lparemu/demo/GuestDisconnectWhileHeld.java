package org.lparemu.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.HcallResult;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.WindowState;

/**
 * The guest goes away while one of its calls is parked: its connection closes with the opener's
 * H_MODIFY_VAS_WINDOW held.
 *
 * <p>Arrangement, the same for every policy: hold the opener's modify; close the guest's connection; wait for the
 * daemon to see the disconnect; read the partition; deallocate the orphan window by id over a new calls-only
 * connection; boot a fresh guest kernel and migrate it.
 *
 * <p>The hypervisor does not reclaim a disconnected guest's windows (a guest connection is a CPU's view of the
 * partition, not the partition): a guest that never comes back leaves its windows allocated, holding credits and
 * blocking ibm,suspend-me, until a guest deallocates them by id or the partition is Reset.
 */
public final class GuestDisconnectWhileHeld implements Scenario {
    static final String OPENER = "opener";
    static final String LATCH = "modify";

    @Override
    public String id() {
        return "guest-disconnect-while-held";
    }

    @Override
    public String title() {
        return "Guest connection closes while its H_MODIFY_VAS_WINDOW is held";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public Expectation expected(String policy) {
        return new Expectation(
                "open failed: connection closed; parked modify failed; orphan window MOD_IN_PROCESS, 0 connections; "
                        + "raw deallocate H_SUCCESS; fresh guest migrated; suspend-me 0; no leak",
                "Not a kernel path: a real CPU never loses its hypervisor. The daemon fails the parked call with "
                        + "the connection and keeps the partition as it was, so the window the open allocated stays "
                        + "allocated and unmodified; a guest that never comes back leaves it allocated (credits held, "
                        + "ibm,suspend-me refused) until a guest deallocates it by id or Reset. Once it is gone a "
                        + "fresh kernel migrates like any other under every policy.");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        CompletableFuture<NxGzipDevice.OpenResult> open = r.onTask(OPENER, () -> nx.open(false, 0));
        long winId = r.control().awaitHold(LATCH, 1, ScenarioRun.WAIT).get(0).getArgs(0);

        long since = r.lastSeq();
        ((GuestConnection) guest.port()).close();
        r.awaitTrace(since, "CONNECTION disconnect");
        String openFate;
        String openError = "";
        try {
            NxGzipDevice.OpenResult o = ScenarioRun.await(open, "the opener");
            openFate = o.ok() ? "open ok" : "open " + o.error();
        } catch (RuntimeException e) {
            // The port fails a call whose connection went away (PortException); the open unwinds its bookkeeping.
            openFate = "open failed: connection closed";
            openError = e.toString();
        }
        long stillParked = r.release(LATCH);
        PartitionState orphaned = r.control().getState(ScenarioRun.PARTITION);
        WindowState orphan = orphaned.getWindowsList().stream().filter(w -> w.getWinId() == winId).findFirst()
                .orElse(null);

        HcallResult dealloc;
        try (GuestConnection raw = GuestConnection.connect("127.0.0.1", r.daemon().guestPort(), ScenarioRun.PARTITION,
                "scenario " + id() + " cleanup", false, Duration.ofSeconds(10), ScenarioRun.WAIT)) {
            dealloc = raw.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, new long[] {winId}, null);
        }

        GuestKernel fresh = r.guest();
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        var ack = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        var check = r.check();
        var state = r.control().getState(ScenarioRun.PARTITION);

        List<String> verdict = new ArrayList<>();
        verdict.add(openFate);
        verdict.add(stillParked == 0 ? "parked modify failed" : stillParked + " call(s) still parked");
        verdict.add(orphan == null ? "no orphan window" : "orphan window " + hvStatus(orphan.getStatus()) + ", "
                + orphaned.getConnectionsCount() + " connections");
        verdict.add("raw deallocate " + HStatus.name(dealloc.status()));
        verdict.add(o.getSuccess() ? "fresh guest migrated" : "fresh guest migration cancelled");
        verdict.add(VasOpenVsMigration.suspendSummary(o.getRtasStatusesList()));
        verdict.add(check.getViolationsCount() == 0 && state.getWindowsCount() == 0 ? "no leak"
                : check.getViolationsCount() + " violation(s), " + state.getWindowsCount() + " window(s) left");

        List<String> evidence = new ArrayList<>();
        evidence.add("opener: " + openFate + (openError.isEmpty() ? "" : " (" + openError + ")"));
        evidence.add("window " + winId + " after the disconnect: "
                + (orphan == null ? "gone" : hvStatus(orphan.getStatus()) + " owned by connection "
                + orphan.getOwnerConnection() + " task " + orphan.getOwnerTask()) + "; connections "
                + orphaned.getConnectionsList().stream().map(c -> c.getClientName()).toList()
                + "; credits used " + orphaned.getCreditsList().stream().map(c -> c.getWinType() + ":" + c.getUsed()).toList());
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", fresh guest ack "
                + ack.getStatus() + " (" + ack.getDetail() + "), fresh guest " + VasEvidence.counters(fresh));
        evidence.addAll(ScenarioRun.violations(check));
        return new Result(String.join("; ", verdict), evidence);
    }

    /** Hypervisor window status names (H_QUERY_VAS_WINDOW numbering). */
    static String hvStatus(int status) {
        return switch (status) {
            case 0 -> "ACTIVE";
            case 1 -> "CLOSED";
            case 2 -> "INACTIVE";
            case 3 -> "MOD_IN_PROCESS";
            default -> "status " + status;
        };
    }
}
