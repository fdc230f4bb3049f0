package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Seed race 1 (linuxppc-dev, Oct-Nov 2023, "Migration suspend waits for no in-progress open windows"): a task
 * opening an NX-GZIP window is between H_ALLOCATE_VAS_WINDOW and list-add, inside H_MODIFY_VAS_WINDOW, when a
 * migration's VAS SUSPEND runs.
 *
 * <p>Arrangement, the same for every policy: hold the opener's H_MODIFY_VAS_WINDOW; start the migration; wait
 * until the migration can go no further without the opener, whichever the algorithm reaches first: stop_machine
 * waiting for the opener's vCPU to leave H_MODIFY (SUSPEND returned and the join is next: no vCPU inside an hcall
 * can join), SUSPEND waiting for in-progress opens, or SUSPEND contended on vas_pseries_mutex; then release the
 * modify and let everything finish.
 */
public final class VasOpenVsMigration implements Scenario {
    static final String OPENER = "opener";
    static final String LATCH = "modify";

    @Override
    public String id() {
        return "vas-open-vs-migration";
    }

    @Override
    public String title() {
        return "VAS window open vs migration (2023)";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public Expectation expected(String policy) {
        return switch (policy) {
            case "PRE_FIX" -> new Expectation(
                    "migration cancelled; suspend-me -9006 x5; open ok; window never closed before suspend; no leak",
                    "v5.18-v6.6: SUSPEND closes only listed windows and does not wait; the half-open window stays open "
                            + "in the hypervisor, which refuses every suspend attempt (RTAS_OUTSTANDING_COPROC), and the "
                            + "opener later lists it because it only checks nr_close_wins.");
            case "UPSTREAM" -> new Expectation(
                    "migrated; suspend-me 0; open EBUSY; half-open window deallocated; no leak",
                    "v6.7+ (0cf72f7f14d1): SUSPEND waits for nr_open_wins_progress to drop to 0; the opener re-checks "
                            + "migration_in_progress after H_MODIFY, deallocates its window and fails with EBUSY.");
            case "V1_PATCH" -> new Expectation(
                    "migrated; suspend-me 0; open EBUSY; half-open window deallocated; no leak",
                    "v1 of that fix (seed thread 004): SUSPEND sleeps on open_win_progress_wq until the atomic_t "
                            + "nr_open_wins_progress reads 0; the opener's atomic_read of migration_in_progress under "
                            + "the mutex sees the flag, deallocates, atomic_dec and wake_up: the same ending as v6.7+.");
            case "HOLD_MUTEX" -> new Expectation(
                    "migrated; suspend-me 0; open ok; window closed for migration and reopened; no leak",
                    "Nathan Lynch's alternative: the opener holds vas_pseries_mutex through H_MODIFY, so SUSPEND waits "
                            + "for the whole open, then closes the window like any other and RESUME reopens it.");
            default -> throw new IllegalArgumentException(policy);
        };
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        CompletableFuture<NxGzipDevice.OpenResult> open = r.onTask(OPENER, () -> nx.open(false, -1));
        long winId = r.control().awaitHold(LATCH, 1, ScenarioRun.WAIT).get(0).getArgs(0);

        long since = r.lastSeq();
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        TraceRecord moment = r.awaitTrace(since, "stop_machine_wait", "vas_migration_wait_opens",
                "lock_contended[vas_pseries_mutex]");
        r.release(LATCH);

        var ack = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        NxGzipDevice.OpenResult opened = ScenarioRun.await(open, "the opener");
        var check = r.check();

        List<TraceRecord> trace = r.trace();
        long firstSuspend = trace.stream().filter(t -> t.getKind() == TraceKind.CALL_BEGIN
                && t.getName().equals(RtasService.SUSPEND_ME) && t.getSeq() > since).mapToLong(TraceRecord::getSeq)
                .min().orElse(Long.MAX_VALUE);
        List<TraceRecord> deallocs = trace.stream().filter(t -> t.getKind() == TraceKind.CALL_BEGIN
                && t.getOpcode() == Hcall.H_DEALLOCATE_VAS_WINDOW && t.getArgsCount() > 0 && t.getArgs(0) == winId).toList();
        boolean closedBeforeSuspend = deallocs.stream().anyMatch(t -> t.getSeq() < firstSuspend);
        boolean deallocatedByOpener = deallocs.stream().anyMatch(t -> t.getTask().equals(OPENER));
        boolean reopened = opened.ok() && nx.window(opened.handle()) != null && nx.window(opened.handle()).active()
                && nx.window(opened.handle()).winId() != winId;

        String migration = o.getSuccess() ? "migrated" : "migration cancelled";
        String suspend = suspendSummary(o.getRtasStatusesList());
        String openText = opened.ok() ? "open ok" : "open " + Errno.of(opened.rc()).name();
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
        evidence.add("released the modify hold at " + moment.getName() + " (" + moment.getDetail() + ")");
        evidence.add("opener: " + (opened.ok() ? "window " + nx.window(opened.handle()).winId() : opened.error())
                + "; its first window " + winId + (deallocs.isEmpty() ? " was never deallocated"
                : " deallocated by " + deallocs.stream().map(TraceRecord::getTask).distinct().toList()));
        evidence.addAll(ScenarioRun.violations(check));
        return new Result(String.join("; ", migration, suspend, openText, fate, leak), evidence);
    }

    /** "suspend-me 0", "suspend-me -9006 x5", "suspend-me -9006 x2, 0". */
    static String suspendSummary(List<Integer> statuses) {
        if (statuses.isEmpty()) {
            return "no suspend-me";
        }
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (i < statuses.size()) {
            int j = i;
            while (j < statuses.size() && statuses.get(j).equals(statuses.get(i))) {
                j++;
            }
            parts.add(statuses.get(i) + (j - i > 1 ? " x" + (j - i) : ""));
            i = j;
        }
        return "suspend-me " + String.join(", ", parts);
    }
}
