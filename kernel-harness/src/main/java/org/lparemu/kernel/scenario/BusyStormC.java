package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.demo.BusyStorm;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.proto.v1.When;

/**
 * H_BUSY / long-busy storms on allocate, modify and deallocate with Linux's hcall_return_busy_check (the Java
 * port's {@link BusyStorm}, same storm): one task "stormy" opens a window, pastes, closes it.
 */
public final class BusyStormC implements KernelScenario {
    static final String TASK = "stormy";
    /** The Java scenario's storm: what each opcode is answered before it may run, in order. */
    static final Map<Long, long[]> STORM = new LinkedHashMap<>();

    static {
        STORM.put(Hcall.H_ALLOCATE_VAS_WINDOW, new long[] {HStatus.H_BUSY, HStatus.H_LONG_BUSY_ORDER_1_MSEC, HStatus.H_BUSY});
        STORM.put(Hcall.H_MODIFY_VAS_WINDOW, new long[] {HStatus.H_LONG_BUSY_ORDER_10_MSEC, HStatus.H_BUSY,
                HStatus.H_LONG_BUSY_ORDER_1_MSEC});
        STORM.put(Hcall.H_DEALLOCATE_VAS_WINDOW, new long[] {HStatus.H_LONG_BUSY_ORDER_1_MSEC,
                HStatus.H_LONG_BUSY_ORDER_10_MSEC, HStatus.H_BUSY});
    }

    @Override
    public Scenario javaScenario() {
        return new BusyStorm();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        for (Map.Entry<Long, long[]> e : STORM.entrySet()) {
            for (long status : e.getValue()) {
                r.fault(FaultMatch.newBuilder().setOpcode(e.getKey()).setTask(TASK).setMaxFires(1),
                        FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder().setStatus(status)
                                .setWhen(When.BEFORE)));
            }
        }
        long since = r.lastSeq();
        KernelGuest.OpenResult opened = KernelRun.await(g.open(TASK, false, 0), "the stormy open");
        String pasted = opened.ok() ? KernelRun.await(g.paste(TASK, opened.handle(), 4096), "the paste") : "fail";
        Integer closed = opened.ok() ? KernelRun.await(g.close(TASK, opened.handle()), "the close") : null;
        var check = r.check();
        List<TraceRecord> trace = r.trace();
        var state = r.control().getState(r.partition());

        List<String> verdict = new ArrayList<>();
        List<String> evidence = new ArrayList<>();
        verdict.add(opened.ok() ? "open ok" : "open " + opened.error());
        verdict.add(pasted.equals("ok") ? "paste ok" : "paste failed");
        verdict.add("close " + closed);
        for (long opcode : STORM.keySet()) {
            List<TraceRecord> ends = Evidence.ends(trace, since, opcode);
            long busy = ends.stream().filter(t -> t.getStatus() == HStatus.H_BUSY || HStatus.isLongBusy(t.getStatus())).count();
            String last = ends.isEmpty() ? "none" : HStatus.name(ends.get(ends.size() - 1).getStatus());
            verdict.add(Hcall.name(opcode) + " " + busy + " busy then " + last);
            evidence.add(Hcall.name(opcode) + ": " + ends.stream().map(t -> HStatus.name(t.getStatus())).toList());
        }
        long faultsFired = r.control().listFaults().stream().mapToLong(f -> f.getFired()).sum();
        evidence.add(faultsFired + " busy answers injected; hypervisor windows left: " + state.getWindowsCount()
                + "; guest " + Evidence.counters(g));
        evidence.addAll(KernelRun.violations(check));
        verdict.add(check.getViolationsCount() == 0 && state.getWindowsCount() == 0 ? "no leak"
                : check.getViolationsCount() + " violation(s), " + state.getWindowsCount() + " window(s) left");
        return new Scenario.Result(String.join("; ", verdict), evidence);
    }
}
