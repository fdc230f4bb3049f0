package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.Hcall;
import org.lparemu.demo.DlparBeforeVasSuspend;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * A core removed while the migration's VAS SUSPEND is under way, before it closes the Default windows (the
 * Java port's {@link DlparBeforeVasSuspend}, same arrangement: hold drmgr's Default-type
 * H_QUERY_VAS_CAPABILITIES, remove a core, wait until the removal is handled or contended on
 * vas_pseries_mutex, release). The state after SUSPEND is read at a second hold, drmgr's first H_VASI_STATE
 * ({@link Holds#afterVasSuspend}), where the Java port waits for its vas_migration_closed[default]
 * tracepoint and reads while the migration goes on.
 */
public final class DlparBeforeVasSuspendC implements KernelScenario {
    static final String LATCH = "vas-suspend-query";
    static final int WINDOWS = 4;

    @Override
    public Scenario javaScenario() {
        return new DlparBeforeVasSuspend();
    }

    @Override
    public Scenario.Result run(KernelRun r) throws Exception {
        KernelGuest g = r.guest();
        List<Integer> handles = Evidence.openWindows(g, WINDOWS);
        List<String> evidence = new ArrayList<>();
        // vas_migration_handler queries QoS first, then Default: hold the second.
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_QUERY_VAS_CAPABILITIES).setTask(Holds.DRMGR).setSkipFirst(1)
                .setMaxFires(1), FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        Holds.afterVasSuspend(r);
        var m = r.control().migrate(r.partition(), "");
        r.awaitHold(LATCH);

        long since = r.lastSeq();
        DlparCpuResult removed = r.control().dlparCpu(r.partition(), false, 1);
        TraceRecord moment = r.awaitTrace(since, "EVENT_ACK DlparCpu", "lock_contended[vas_pseries_mutex]");
        // Reading the bits takes vas_pseries_mutex: only while the removal is not contended behind SUSPEND.
        String afterRemoval = moment.getKind() == TraceKind.EVENT_ACK ? Evidence.bits(g, handles)
                : "waits for vas_pseries_mutex";
        r.release(LATCH);
        r.awaitHold(Holds.AFTER_SUSPEND);
        String afterSuspend = Evidence.bits(g, handles);
        List<EventAck> removeAcks = Holds.acks(r, removed);
        r.release(Holds.AFTER_SUSPEND);
        EventAck ack = r.control().awaitEvent(m.getEventId(), KernelRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(r.partition(), KernelRun.WAIT);
        String resumed = Evidence.bits(g, handles);
        evidence.add("core removed (target " + removed.getTargetCredits() + ") with SUSPEND held at its Default "
                + "query; moment " + moment.getKind() + " " + moment.getName() + " (" + moment.getDetail() + ")");
        evidence.add("after removal " + afterRemoval + ", after SUSPEND " + afterSuspend + ", removal acks "
                + removeAcks.stream().map(EventAck::getStatus).toList());
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + ", guest ack "
                + ack.getStatus() + "; after resume " + resumed + ", " + Evidence.counters(g));

        DlparCpuResult added = r.control().dlparCpu(r.partition(), true, 1);
        Holds.acks(r, added);
        String afterAdd = Evidence.bits(g, handles);
        String pastes = Evidence.pastes(g, handles);
        KernelGuest.OpenResult probe = KernelRun.await(g.open("late", false, 0), "late open");
        if (probe.ok()) {
            KernelRun.await(g.close("late", probe.handle()), "late close");
        }
        var check = r.check();
        evidence.add("core added (target " + added.getTargetCredits() + ") -> " + afterAdd + ", "
                + Evidence.counters(g) + "; pastes " + pastes);
        evidence.addAll(KernelRun.violations(check));
        return new Scenario.Result(String.join("; ", o.getSuccess() ? "migrated" : "migration cancelled",
                "after core removal " + afterRemoval, "after suspend " + afterSuspend, "after resume " + resumed,
                "after core add " + afterAdd, "pastes " + pastes, "new open " + (probe.ok() ? "ok" : probe.error()),
                check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)"), evidence);
    }
}
