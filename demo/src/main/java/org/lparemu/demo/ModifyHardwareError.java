package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.proto.v1.When;

/**
 * H_MODIFY_VAS_WINDOW fails with H_HARDWARE during an open (papr-notes 4.3 step 6 and 9, 2.5).
 *
 * <p>Arrangement, the same for every policy: answer the opener's first modify H_HARDWARE (ReturnStatus BEFORE);
 * one task opens a window.
 */
public final class ModifyHardwareError implements Scenario {
    static final String OPENER = "opener";

    @Override
    public String id() {
        return "modify-hardware-error";
    }

    @Override
    public String title() {
        return "H_HARDWARE on H_MODIFY_VAS_WINDOW during an open";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public Expectation expected(String policy) {
        return new Expectation(
                "open EIO; modify H_HARDWARE; allocated window deallocated by the opener; credits used 0; no leak",
                "vas_allocate_window (5.18+): a failed H_MODIFY_VAS_WINDOW goes to out_free, which frees the IRQ and "
                        + "deallocates the window (without the mutex in the kernel, under it in the HOLD_MUTEX "
                        + "variant), then out gives the credit back; every non-busy hcall failure becomes -EIO.");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_MODIFY_VAS_WINDOW).setTask(OPENER).setMaxFires(1),
                FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder().setStatus(HStatus.H_HARDWARE)
                        .setWhen(When.BEFORE)));
        long since = r.lastSeq();
        NxGzipDevice.OpenResult opened = ScenarioRun.await(r.onTask(OPENER, () -> nx.open(false, 0)), "the opener");
        var check = r.check();
        var state = r.control().getState(ScenarioRun.PARTITION);
        List<TraceRecord> trace = r.trace();

        List<TraceRecord> modifies = VasEvidence.ends(trace, since, Hcall.H_MODIFY_VAS_WINDOW);
        // Arguments travel on CALL_BEGIN; CALL_END names its CALL_BEGIN.
        long winId = VasEvidence.begins(trace, since, Hcall.H_MODIFY_VAS_WINDOW).stream().findFirst()
                .map(t -> t.getArgs(0)).orElse(-1L);
        List<Long> deallocBegins = VasEvidence.begins(trace, since, Hcall.H_DEALLOCATE_VAS_WINDOW).stream()
                .filter(t -> t.getArgsCount() > 0 && t.getArgs(0) == winId).map(TraceRecord::getSeq).toList();
        List<TraceRecord> deallocs = VasEvidence.ends(trace, since, Hcall.H_DEALLOCATE_VAS_WINDOW).stream()
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
                + VasEvidence.counters(guest) + "; hypervisor windows " + state.getWindowsCount());
        evidence.addAll(ScenarioRun.violations(check));
        return new Result(String.join("; ", verdict), evidence);
    }
}
