package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.demo.CloseDuringMigration;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.MigrationOutcome;

/**
 * A task closes its window while the window is closed for migration (the Java port's
 * {@link CloseDuringMigration}). Three processes open a window each; the migration is held right after the
 * VAS SUSPEND ({@link Holds#afterVasSuspend}: the Java port holds it at ibm,suspend-me, where a real kernel
 * runs nothing but stop_machine); a thread "closer" of the middle process closes its window; release.
 */
public final class CloseDuringMigrationC implements KernelScenario {
    static final String CLOSER = "closer";

    @Override
    public Scenario javaScenario() {
        return new CloseDuringMigration();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        List<Integer> handles = Evidence.openWindows(g, 3);
        Holds.afterVasSuspend(r);
        var m = r.control().migrate(r.partition(), "");
        r.awaitHold(Holds.AFTER_SUSPEND);
        KernelGuest.Counters before = g.counters(Evidence.DEFAULT);
        String heldBits = Evidence.bits(g, handles);
        int victim = handles.get(1);
        KernelGuest.WindowInfo vw = g.window(victim);
        long beforeClose = r.lastSeq();
        int rc = KernelRun.await(g.close(CLOSER, victim), "the close");
        KernelGuest.Counters after = g.counters(Evidence.DEFAULT);
        long hcallsByCloser = r.trace().stream().filter(t -> t.getSeq() > beforeClose && t.getTask().equals(CLOSER)
                && t.getOpcode() != 0).count();
        r.release(Holds.AFTER_SUSPEND);

        var ack = r.control().awaitEvent(m.getEventId(), KernelRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(r.partition(), KernelRun.WAIT);
        String resumed = Evidence.bits(g, handles);
        var state = r.control().getState(r.partition());
        var check = r.check();
        boolean victimReopened = state.getWindowsList().stream().anyMatch(w -> w.getPid() == vw.pid());

        List<String> evidence = new ArrayList<>();
        evidence.add("held after the VAS SUSPEND " + heldBits + ", " + counters(before) + "; closed window " + vw.winId()
                + " (pid " + vw.pid() + ") rc " + rc + ", " + hcallsByCloser + " hcall(s) by the closer; then " + counters(after));
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", guest ack " + ack.getStatus()
                + "; after resume " + resumed + "; hypervisor windows " + state.getWindowsList().stream()
                .map(w -> w.getWinId() + " pid " + w.getPid()).toList());
        evidence.addAll(KernelRun.violations(check));

        List<String> verdict = new ArrayList<>();
        verdict.add(o.getSuccess() ? "migrated" : "migration cancelled");
        verdict.add("close rc " + rc + (hcallsByCloser == 0 ? " with no hcall" : " with " + hcallsByCloser + " hcall(s)"));
        verdict.add("counters " + delta(before, after));
        verdict.add((victimReopened ? "closed window reopened" : "closed window not reopened") + ", others " + resumed);
        verdict.add(check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)");
        return new Scenario.Result(String.join("; ", verdict), evidence);
    }

    static String delta(KernelGuest.Counters before, KernelGuest.Counters after) {
        return "open " + before.open() + "->" + after.open() + ", closed " + before.closed() + "->" + after.closed()
                + ", used " + before.used() + "->" + after.used();
    }

    static String counters(KernelGuest.Counters c) {
        return "open " + c.open() + ", closed " + c.closed() + ", used " + c.used() + " of " + c.total();
    }
}
