package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.demo.ModifyHardwareError;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.proto.v1.When;

/** H_HARDWARE on the opener's first H_MODIFY_VAS_WINDOW (the Java port's {@link ModifyHardwareError}). */
public final class ModifyHardwareErrorC implements KernelScenario {
    static final String OPENER = "opener";

    @Override
    public Scenario javaScenario() {
        return new ModifyHardwareError();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder().setStatus(HStatus.H_HARDWARE)
                        .setWhen(When.BEFORE)));
        long since = r.lastSeq();
        KernelGuest.OpenResult opened = KernelRun.await(g.open(OPENER, false, 0), "the opener");
        var check = r.check();
        var state = r.control().getState(r.partition());
        List<TraceRecord> trace = r.trace();

        List<TraceRecord> modifies = Evidence.ends(trace, since, Hcall.H_MODIFY_VAS_WINDOW);
        long winId = Evidence.begins(trace, since, Hcall.H_MODIFY_VAS_WINDOW).stream().findFirst()
                .map(t -> t.getArgs(0)).orElse(-1L);
        List<Long> deallocBegins = Evidence.begins(trace, since, Hcall.H_DEALLOCATE_VAS_WINDOW).stream()
                .filter(t -> t.getArgsCount() > 0 && t.getArgs(0) == winId).map(TraceRecord::getSeq).toList();
        List<TraceRecord> deallocs = Evidence.ends(trace, since, Hcall.H_DEALLOCATE_VAS_WINDOW).stream()
                .filter(t -> deallocBegins.contains(t.getBeginSeq())).toList();
        var credits = state.getGuestReport().getCreditsList().stream().filter(c -> c.getWinType() == 1).findFirst();

        List<String> verdict = new ArrayList<>();
        verdict.add(opened.ok() ? "open ok" : "open " + opened.error());
        verdict.add("modify " + modifies.stream().map(t -> HStatus.name(t.getStatus())).toList().toString()
                .replaceAll("[\\[\\]]", ""));
        verdict.add(deallocs.stream().anyMatch(t -> t.getTask().equals(OPENER) && t.getStatus() == HStatus.H_SUCCESS)
                ? "allocated window deallocated by the opener" : "allocated window not deallocated by the opener");
        verdict.add("credits used " + credits.map(c -> Integer.toString(c.getCreditsUsed())).orElse("unknown"));
        verdict.add(check.getViolationsCount() == 0 && state.getWindowsCount() == 0 ? "no leak"
                : check.getViolationsCount() + " violation(s), " + state.getWindowsCount() + " window(s) left");

        List<String> evidence = new ArrayList<>();
        evidence.add("window " + winId + ": modify " + modifies.stream().map(t -> HStatus.name(t.getStatus())).toList()
                + ", deallocate " + deallocs.stream().map(t -> HStatus.name(t.getStatus()) + " by " + t.getTask()).toList());
        evidence.add("guest report credits " + credits.map(c -> c.getCreditsUsed() + " used of " + c.getCreditsTotal())
                .orElse("none") + ", errors " + state.getGuestReport().getErrorsByErrnoMap() + "; guest "
                + Evidence.counters(g) + "; hypervisor windows " + state.getWindowsCount());
        evidence.addAll(KernelRun.violations(check));
        return new Scenario.Result(String.join("; ", verdict), evidence);
    }
}
