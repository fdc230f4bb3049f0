package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PseriesVas;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;

/**
 * A task closes its window while the window is closed for migration (papr-notes 5.4 item 4, 4.4).
 *
 * <p>Arrangement, the same for every policy: three tasks open a window each; hold the migration in its first
 * H_VASI_STATE poll, the call drmgr makes right after the guest's VAS SUSPEND closed every window (later, inside
 * stop_machine, no task could run to close anything); the middle task closes its window; release.
 */
public final class CloseDuringMigration implements Scenario {
    static final String LATCH = "suspend";
    static final String CLOSER = "closer";

    @Override
    public String id() {
        return "close-during-migration";
    }

    @Override
    public String title() {
        return "A task closes its window during migration";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public Expectation expected(String policy) {
        // The policies differ only in how an open meets a SUSPEND; the close here runs after SUSPEND returned.
        return new Expectation(
                "migrated; close rc 0 with no hcall; counters open 3->2, closed 3->2, used 3->2; "
                        + "closed window not reopened, others [A - A]; no leak",
                "vas_deallocate_window (5.18+): a window carrying MIGRATE_CLOSE has no hypervisor window, so close "
                        + "makes no hcall and only drops nr_close_wins, nr_open_windows and nr_used_credits; it "
                        + "leaves the list, so RESUME's reconfig_open_windows never sees it and reopens only the "
                        + "windows still listed.");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            NxGzipDevice.OpenResult o = ScenarioRun.await(r.onTask("user" + i, () -> nx.open(false, 0)), "open " + i);
            if (!o.ok()) {
                throw new IllegalStateException("open " + i + " failed: " + o.error());
            }
            handles.add(o.handle());
        }
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_VASI_STATE).setTask(ScenarioRun.DRMGR).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        r.awaitHold(LATCH);
        PseriesVas.CapsSnapshot before = guest.vas().snapshot(Vas.WIN_TYPE_DEFAULT);
        String heldBits = VasEvidence.bits(guest, nx, handles);
        long victim = handles.get(1);
        long victimWin = nx.window(victim).winId();
        int victimPid = nx.window(victim).pid();
        long beforeClose = r.lastSeq();
        int rc = ScenarioRun.await(r.onTask(CLOSER, () -> nx.close(victim)), "the close");
        PseriesVas.CapsSnapshot after = guest.vas().snapshot(Vas.WIN_TYPE_DEFAULT);
        long hcallsByCloser = r.trace().stream().filter(t -> t.getSeq() > beforeClose && t.getTask().equals(CLOSER)
                && t.getOpcode() != 0).count();
        r.release(LATCH);

        var ack = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        String resumed = VasEvidence.bits(guest, nx, handles);
        var state = r.control().getState(ScenarioRun.PARTITION);
        var check = r.check();
        // The hypervisor knows a window's owner by the pid H_MODIFY_VAS_WINDOW gave it; a reopen reuses the pid.
        boolean victimReopened = state.getWindowsList().stream().anyMatch(w -> w.getPid() == victimPid);

        List<String> evidence = new ArrayList<>();
        evidence.add("held at drmgr's first H_VASI_STATE " + heldBits + ", " + counters(before) + "; closed window " + victimWin
                + " (pid " + victimPid + ") rc " + rc
                + ", " + hcallsByCloser + " hcall(s) by the closer; then " + counters(after));
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", guest ack " + ack.getStatus()
                + "; after resume " + resumed + "; hypervisor windows " + state.getWindowsList().stream()
                .map(w -> w.getWinId() + " pid " + w.getPid()).toList());
        evidence.addAll(ScenarioRun.violations(check));

        List<String> verdict = new ArrayList<>();
        verdict.add(o.getSuccess() ? "migrated" : "migration cancelled");
        verdict.add("close rc " + rc + (hcallsByCloser == 0 ? " with no hcall" : " with " + hcallsByCloser + " hcall(s)"));
        verdict.add("counters " + delta(before, after));
        verdict.add((victimReopened ? "closed window reopened" : "closed window not reopened") + ", others " + resumed);
        verdict.add(check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)");
        return new Result(String.join("; ", verdict), evidence);
    }

    /** "open 3->2, closed 3->2, used 3->2". */
    static String delta(PseriesVas.CapsSnapshot before, PseriesVas.CapsSnapshot after) {
        return "open " + before.windowsOpen() + "->" + after.windowsOpen() + ", closed " + before.windowsClosed() + "->"
                + after.windowsClosed() + ", used " + before.creditsUsed() + "->" + after.creditsUsed();
    }

    static String counters(PseriesVas.CapsSnapshot c) {
        return "open " + c.windowsOpen() + ", closed " + c.windowsClosed() + ", used " + c.creditsUsed() + " of "
                + c.creditsTotal();
    }
}
