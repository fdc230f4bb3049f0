package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.demo.DlparRemoveDuringMigration;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceRecord;

/**
 * A processor core removed while the windows are closed for a migration (the Java port's
 * {@link DlparRemoveDuringMigration}, same platform: 2 cores at 2 Default credits each, four windows). The
 * migration is held right after the VAS SUSPEND ({@link Holds#afterVasSuspend}; the Java port holds it at
 * ibm,suspend-me, where the guest's DLPAR worker could not run in a real kernel); pastes; a core is removed
 * (the processor node's detach reaches vas.c's own DLPAR notifier); release; a core is added back.
 */
public final class DlparRemoveDuringMigrationC implements KernelScenario {
    static final int WINDOWS = 4;

    @Override
    public Scenario javaScenario() {
        return new DlparRemoveDuringMigration();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        List<Integer> handles = Evidence.openWindows(g, WINDOWS);
        List<String> evidence = new ArrayList<>();
        evidence.add("opened " + Evidence.bits(g, handles) + ", " + Evidence.counters(g));

        Holds.afterVasSuspend(r);
        var m = r.control().migrate(r.partition(), "");
        r.awaitHold(Holds.AFTER_SUSPEND);
        String atSuspend = Evidence.bits(g, handles);
        String heldPastes = Evidence.pastes(g, handles);
        DlparCpuResult removed = r.control().dlparCpu(r.partition(), false, 1);
        List<EventAck> removeAcks = Holds.acks(r, removed);
        String held = Evidence.bits(g, handles);
        evidence.add("after the VAS SUSPEND " + atSuspend + ", pastes " + heldPastes + "; core removed (target "
                + removed.getTargetCredits() + ", acks " + removeAcks.stream().map(EventAck::getStatus).toList()
                + ") -> " + held + ", " + Evidence.counters(g));

        long released = r.lastSeq();
        r.release(Holds.AFTER_SUSPEND);
        EventAck ack = r.control().awaitEvent(m.getEventId(), KernelRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(r.partition(), KernelRun.WAIT);
        String resumed = Evidence.bits(g, handles);
        List<TraceRecord> refused = Evidence.ends(r.trace(), released, Hcall.H_ALLOCATE_VAS_WINDOW).stream()
                .filter(t -> t.getStatus() != HStatus.H_SUCCESS).toList();
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", guest ack " + ack.getStatus()
                + "; after resume " + resumed + ", " + Evidence.counters(g) + "; refused reopens "
                + refused.stream().map(t -> HStatus.name(t.getStatus()) + " by " + t.getTask()).toList());

        DlparCpuResult added = r.control().dlparCpu(r.partition(), true, 1);
        List<EventAck> addAcks = Holds.acks(r, added);
        String afterAdd = Evidence.bits(g, handles);
        String endPastes = Evidence.pastes(g, handles);
        KernelGuest.OpenResult probe = KernelRun.await(g.open("late", false, 0), "late open");
        if (probe.ok()) {
            KernelRun.await(g.close("late", probe.handle()), "late close");
        }
        var check = r.check();
        evidence.add("core added (target " + added.getTargetCredits() + ", acks "
                + addAcks.stream().map(EventAck::getStatus).toList() + ") -> " + afterAdd + ", "
                + Evidence.counters(g) + "; pastes " + endPastes + "; late open " + (probe.ok() ? "ok" : probe.error()));
        evidence.addAll(KernelRun.violations(check));

        List<String> verdict = new ArrayList<>();
        verdict.add(o.getSuccess() ? "migrated" : "migration cancelled");
        verdict.add(heldPastes.contains("ok") ? "pastes " + heldPastes + " while held" : "pastes fail while held");
        verdict.add("held after core removal " + held);
        verdict.add("after resume " + resumed + (refused.isEmpty() ? ""
                : ", reopen refused " + refused.stream().map(t -> HStatus.name(t.getStatus())).distinct()
                .reduce((a, b) -> a + "/" + b).orElse("")));
        verdict.add("after core add " + afterAdd);
        verdict.add("pastes " + endPastes);
        verdict.add("new open " + (probe.ok() ? "ok" : probe.error()));
        verdict.add(check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)");
        return new Scenario.Result(String.join("; ", verdict), evidence);
    }
}
