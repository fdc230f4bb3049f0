package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.VasOpenVsMigration;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * The 2023 race with Linux's own vas.c (the Java port's {@link VasOpenVsMigration}): hold the opener's
 * H_MODIFY_VAS_WINDOW, migrate, release when the migration can go no further without the opener, read the
 * outcome.
 *
 * <p>"Can go no further" has a fourth form here: v6.1's SUSPEND does not wait for the open, so the migration
 * reaches stop_machine, whose stopper for the opener's vCPU must wait for the H_MODIFY to return (a processor
 * inside an hcall runs nothing else). The C guest says so with the tracepoint {@code stop_machine_wait}; the
 * Java port's joins do not wait for the opener and reach ibm,suspend-me instead. Either way the half-open
 * window is still open in the hypervisor when ibm,suspend-me runs, and the verdict is the same.
 */
public final class VasOpenVsMigrationC implements KernelScenario {
    static final String OPENER = "opener";
    static final String LATCH = "modify";

    @Override
    public Scenario javaScenario() {
        return new VasOpenVsMigration();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        CompletableFuture<KernelGuest.OpenResult> open = g.open(OPENER, false, -1);
        long winId = r.control().awaitHold(LATCH, 1, KernelRun.WAIT).get(0).getArgs(0);

        long since = r.lastSeq();
        var m = r.control().migrate(r.partition(), "");
        TraceRecord moment = r.awaitTrace(since, "CALL_END " + RtasService.SUSPEND_ME, "vas_migration_wait_opens",
                "lock_contended[vas_pseries_mutex]", "stop_machine_wait");
        r.release(LATCH);

        var ack = r.control().awaitEvent(m.getEventId(), KernelRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(r.partition(), KernelRun.WAIT);
        KernelGuest.OpenResult opened = KernelRun.await(open, "the opener");
        var check = r.check();

        List<TraceRecord> trace = r.trace();
        long firstSuspend = trace.stream().filter(t -> t.getKind() == TraceKind.CALL_BEGIN
                && t.getName().equals(RtasService.SUSPEND_ME) && t.getSeq() > since).mapToLong(TraceRecord::getSeq)
                .min().orElse(Long.MAX_VALUE);
        List<TraceRecord> deallocs = trace.stream().filter(t -> t.getKind() == TraceKind.CALL_BEGIN
                && t.getOpcode() == Hcall.H_DEALLOCATE_VAS_WINDOW && t.getArgsCount() > 0 && t.getArgs(0) == winId).toList();
        boolean closedBeforeSuspend = deallocs.stream().anyMatch(t -> t.getSeq() < firstSuspend);
        boolean deallocatedByOpener = deallocs.stream().anyMatch(t -> t.getTask().equals(OPENER));
        KernelGuest.WindowInfo now = opened.ok() ? g.window(opened.handle()) : null;
        boolean reopened = now != null && now.listed() && now.status() == 0 && now.winId() != winId;

        String migration = o.getSuccess() ? "migrated" : "migration cancelled";
        String suspend = Evidence.suspendSummary(o.getRtasStatusesList());
        String openText = opened.ok() ? "open ok" : "open " + opened.error();
        String fate;
        if (!opened.ok() && deallocatedByOpener) {
            fate = "half-open window deallocated";
        } else if (opened.ok() && closedBeforeSuspend && reopened) {
            fate = "window closed for migration and reopened";
        } else if (opened.ok() && !closedBeforeSuspend) {
            fate = "window never closed before suspend";
        } else {
            fate = "window " + (closedBeforeSuspend ? "closed" : "not closed") + " before suspend, "
                    + (reopened ? "reopened" : "not reopened");
        }
        String leak = check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)";

        List<String> evidence = new ArrayList<>();
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name().replace("VASI_", ""))
                + ", " + o.getAttempts() + " suspend attempt(s): " + o.getRtasStatusesList().stream()
                .map(RtasStatus::name).toList() + (o.getReason().isEmpty() ? "" : ", " + o.getReason()));
        evidence.add("guest migration handler ack " + ack.getStatus() + " (" + ack.getDetail() + ")");
        evidence.add("released the modify hold at " + (moment.getKind() == TraceKind.CALL_END
                ? moment.getName() + " answered " + RtasStatus.name(moment.getStatus()) + " while H_MODIFY was held"
                : moment.getName() + " (" + moment.getDetail() + ")"));
        evidence.add("opener: " + (opened.ok() ? "window " + (now == null ? "?" : now.winId()) : opened.error())
                + "; its first window " + winId + (deallocs.isEmpty() ? " was never deallocated"
                : " deallocated by " + deallocs.stream().map(TraceRecord::getTask).distinct().toList()));
        evidence.addAll(KernelRun.violations(check));
        return new Scenario.Result(String.join("; ", migration, suspend, openText, fate, leak), evidence);
    }
}
