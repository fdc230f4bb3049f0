package org.lparemu.kernel.scenario;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.HcallResult;
import org.lparemu.demo.GuestDisconnectWhileHeld;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelHarnessException;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.WindowState;

/**
 * The guest goes away while its H_MODIFY_VAS_WINDOW is held (the Java port's {@link GuestDisconnectWhileHeld}):
 * here the C guest's process is killed, which closes its connection with the call parked; then the orphan
 * window is deallocated by id over a calls-only connection and a fresh C guest is migrated.
 */
public final class GuestDisconnectWhileHeldC implements KernelScenario {
    static final String OPENER = "opener";
    static final String LATCH = "modify";

    @Override
    public Scenario javaScenario() {
        return new GuestDisconnectWhileHeld();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        CompletableFuture<KernelGuest.OpenResult> open = g.open(OPENER, false, 0);
        long winId = r.control().awaitHold(LATCH, 1, KernelRun.WAIT).get(0).getArgs(0);

        long since = r.lastSeq();
        g.kill();
        r.awaitTrace(since, "CONNECTION disconnect");
        String openFate;
        String openError = "";
        try {
            KernelGuest.OpenResult o = KernelRun.await(open, "the opener");
            openFate = o.ok() ? "open ok" : "open " + o.error();
        } catch (KernelHarnessException e) {
            // The guest is gone with the call in flight: its open never returned.
            openFate = "open failed: connection closed";
            openError = e.getMessage().lines().findFirst().orElse("");
        }
        long stillParked = r.release(LATCH);
        PartitionState orphaned = r.control().getState(r.partition());
        WindowState orphan = orphaned.getWindowsList().stream().filter(w -> w.getWinId() == winId).findFirst()
                .orElse(null);

        HcallResult dealloc;
        try (GuestConnection raw = GuestConnection.connect(r.host(), r.guestPort(), r.partition(),
                "kharness " + javaScenario().id() + " cleanup", false, Duration.ofSeconds(10), KernelRun.WAIT)) {
            dealloc = raw.hcall(0, Hcall.H_DEALLOCATE_VAS_WINDOW, new long[] {winId}, null);
        }

        KernelGuest fresh = r.guest();
        var m = r.control().migrate(r.partition(), "");
        var ack = r.control().awaitEvent(m.getEventId(), KernelRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(r.partition(), KernelRun.WAIT);
        var check = r.check();
        var state = r.control().getState(r.partition());

        List<String> verdict = new ArrayList<>();
        verdict.add(openFate);
        verdict.add(stillParked == 0 ? "parked modify failed" : stillParked + " call(s) still parked");
        verdict.add(orphan == null ? "no orphan window" : "orphan window " + hvStatus(orphan.getStatus()) + ", "
                + orphaned.getConnectionsCount() + " connections");
        verdict.add("raw deallocate " + HStatus.name(dealloc.status()));
        verdict.add(o.getSuccess() ? "fresh guest migrated" : "fresh guest migration cancelled");
        verdict.add(Evidence.suspendSummary(o.getRtasStatusesList()));
        verdict.add(check.getViolationsCount() == 0 && state.getWindowsCount() == 0 ? "no leak"
                : check.getViolationsCount() + " violation(s), " + state.getWindowsCount() + " window(s) left");

        List<String> evidence = new ArrayList<>();
        evidence.add("opener: " + openFate + (openError.isEmpty() ? "" : " (" + openError + ")"));
        evidence.add("window " + winId + " after the kill: "
                + (orphan == null ? "gone" : hvStatus(orphan.getStatus()) + " owned by connection "
                + orphan.getOwnerConnection() + " task " + orphan.getOwnerTask()) + "; credits used "
                + orphaned.getCreditsList().stream().map(c -> c.getWinType() + ":" + c.getUsed()).toList());
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", fresh guest ack "
                + ack.getStatus() + " (" + ack.getDetail() + "), fresh guest " + Evidence.counters(fresh));
        evidence.addAll(KernelRun.violations(check));
        return new Scenario.Result(String.join("; ", verdict), evidence);
    }

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
