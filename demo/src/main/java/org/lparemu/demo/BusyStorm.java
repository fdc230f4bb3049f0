package org.lparemu.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * H_BUSY and long-busy storms on the three VAS hcalls the kernel retries (papr-notes 2.5): each of allocate,
 * modify and deallocate is answered busy three times, mixing H_BUSY, H_LONG_BUSY_ORDER_1_MSEC and
 * H_LONG_BUSY_ORDER_10_MSEC (ReturnStatus BEFORE, so the hypervisor never runs the refused calls).
 *
 * <p>Arrangement, the same for every policy: add the rules; one task opens a window, pastes, closes it.
 */
public final class BusyStorm implements Scenario {
    static final String TASK = "stormy";
    /** What each opcode is answered before it may run, in order. */
    static final Map<Long, long[]> STORM = new LinkedHashMap<>();

    static {
        STORM.put(Hcall.H_ALLOCATE_VAS_WINDOW, new long[] {HStatus.H_BUSY, HStatus.H_LONG_BUSY_ORDER_1_MSEC, HStatus.H_BUSY});
        STORM.put(Hcall.H_MODIFY_VAS_WINDOW, new long[] {HStatus.H_LONG_BUSY_ORDER_10_MSEC, HStatus.H_BUSY,
                HStatus.H_LONG_BUSY_ORDER_1_MSEC});
        STORM.put(Hcall.H_DEALLOCATE_VAS_WINDOW, new long[] {HStatus.H_LONG_BUSY_ORDER_1_MSEC,
                HStatus.H_LONG_BUSY_ORDER_10_MSEC, HStatus.H_BUSY});
    }

    @Override
    public String id() {
        return "busy-storm";
    }

    @Override
    public String title() {
        return "H_BUSY / long-busy storms on allocate, modify and deallocate";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public Expectation expected(String policy) {
        return new Expectation(
                "open ok; paste ok; close 0; H_ALLOCATE_VAS_WINDOW 3 busy then H_SUCCESS; H_MODIFY_VAS_WINDOW 3 busy "
                        + "then H_SUCCESS; H_DEALLOCATE_VAS_WINDOW 3 busy then H_SUCCESS; no leak",
                "hcall_return_busy_check (5.18+) retries H_BUSY at once and long-busy after the hinted sleep, with "
                        + "no cap, on exactly these three hcalls, whichever policy holds the mutex around them; a "
                        + "refused call changes nothing in the hypervisor, so one window is allocated, modified "
                        + "and deallocated.");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        for (Map.Entry<Long, long[]> e : STORM.entrySet()) {
            for (long status : e.getValue()) {
                r.fault(FaultMatch.newBuilder().setOpcode(e.getKey()).setTask(TASK).setMaxFires(1),
                        FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder().setStatus(status)
                                .setWhen(When.BEFORE)));
            }
        }
        long since = r.lastSeq();
        var run = ScenarioRun.await(r.onTask(TASK, () -> {
            NxGzipDevice.OpenResult o = nx.open(false, 0);
            if (!o.ok()) {
                return new Object[] {o, false, null};
            }
            boolean pasted = nx.paste(o.handle(), 4096);
            return new Object[] {o, pasted, nx.close(o.handle())};
        }), "the stormy task");
        NxGzipDevice.OpenResult opened = (NxGzipDevice.OpenResult) run[0];
        var check = r.check();
        List<TraceRecord> trace = r.trace();
        var state = r.control().getState(ScenarioRun.PARTITION);

        List<String> verdict = new ArrayList<>();
        List<String> evidence = new ArrayList<>();
        verdict.add(opened.ok() ? "open ok" : "open " + opened.error());
        verdict.add((Boolean) run[1] ? "paste ok" : "paste failed");
        verdict.add("close " + run[2]);
        for (long opcode : STORM.keySet()) {
            List<TraceRecord> ends = VasEvidence.ends(trace, since, opcode);
            long busy = ends.stream().filter(t -> t.getStatus() == HStatus.H_BUSY || HStatus.isLongBusy(t.getStatus())).count();
            String last = ends.isEmpty() ? "none" : HStatus.name(ends.get(ends.size() - 1).getStatus());
            verdict.add(Hcall.name(opcode) + " " + busy + " busy then " + last);
            evidence.add(Hcall.name(opcode) + ": " + ends.stream().map(t -> HStatus.name(t.getStatus())).toList());
        }
        long faultsFired = r.control().listFaults().stream().mapToLong(f -> f.getFired()).sum();
        evidence.add(faultsFired + " busy answers injected; hypervisor windows left: " + state.getWindowsCount()
                + "; guest " + VasEvidence.counters(guest));
        evidence.addAll(ScenarioRun.violations(check));
        verdict.add(check.getViolationsCount() == 0 && state.getWindowsCount() == 0 ? "no leak"
                : check.getViolationsCount() + " violation(s), " + state.getWindowsCount() + " window(s) left");
        return new Result(String.join("; ", verdict), evidence);
    }
}
