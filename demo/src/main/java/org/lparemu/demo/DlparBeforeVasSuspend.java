package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.Hcall;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * A processor core removed while the migration's VAS SUSPEND is under way, before it closes the Default
 * windows (papr-notes 4.5-4.8, 5.4 item 3): the path where windows carry both NO_CRED_CLOSE and MIGRATE_CLOSE.
 *
 * <p>Arrangement, the same for every policy: lpar1 has 2 cores at 2 Default credits each and four open windows.
 * Hold the migration task's H_QUERY_VAS_CAPABILITIES for the Default type (the step right before SUSPEND closes
 * that list); remove 1 core; wait until the guest has handled the removal or its reconfiguration is contended on
 * vas_pseries_mutex, whichever comes first; release; after the migration add the core back.
 *
 * <p>Window bits are read from the guest kernel, oldest window first ("A" active, "C" NO_CRED_CLOSE, "M"
 * MIGRATE_CLOSE, "CM" both).
 */
public final class DlparBeforeVasSuspend implements Scenario, Scenarios.ConfiguredScenario {
    static final String LATCH = "vas-suspend-query";
    static final int WINDOWS = 4;

    @Override
    public String id() {
        return "dlpar-remove-before-vas-suspend";
    }

    @Override
    public String title() {
        return "DLPAR core removal racing the VAS SUSPEND";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public PlatformConfig config() {
        return ScenarioConfigs.creditsPerCore(PlatformConfig.defaults(), DlparRemoveDuringMigration.CREDITS_PER_CORE);
    }

    @Override
    public Expectation expected(String policy) {
        if (policy.equals("UPSTREAM") || policy.equals("V1_PATCH")) {
            return new Expectation("migrated; after core removal [A A C C]; after suspend [M M CM CM]; "
                    + "after resume [A A C C]; after core add [A A A A]; pastes [ok ok ok ok]; new open EINVAL; no leak",
                    "v6.7+ (and its v1) sets migration_in_progress and queries the credits without vas_pseries_mutex, so the "
                            + "DLPAR reconfiguration runs first and closes the two newest windows (NO_CRED_CLOSE); "
                            + "SUSPEND then adds MIGRATE_CLOSE to every window, RESUME clears only that bit (the "
                            + "two stay closed for lack of credits) and the core add reopens them: the design the "
                            + "two status bits were made for.");
        }
        return new Expectation("migrated; after core removal waits for vas_pseries_mutex; after suspend [M M M M]; "
                + "after resume [M M A A]; after core add [M M A A]; pastes [fail fail ok ok]; new open EINVAL; no leak",
                "v5.18-v6.6 (and the mutex-holding alternative, which keeps that handler) run the whole SUSPEND, "
                        + "credit query included, under vas_pseries_mutex, so the DLPAR reconfiguration waits behind "
                        + "it and then finds no active window to close; RESUME reopens every window newest first "
                        + "against the destination's lower target, the hypervisor refuses past it, and the two "
                        + "oldest keep MIGRATE_CLOSE only, which no core add reopens: they stay dead until the "
                        + "next migration.");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        List<Long> handles = VasEvidence.openWindows(r, nx, WINDOWS);
        List<String> evidence = new ArrayList<>();
        // The migration task queries QoS first, then Default: hold the second.
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_QUERY_VAS_CAPABILITIES).setTask("drmgr").setSkipFirst(1)
                .setMaxFires(1), FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        r.awaitHold(LATCH);

        long since = r.lastSeq();
        DlparCpuResult removed = r.control().dlparCpu(ScenarioRun.PARTITION, false, 1);
        TraceRecord moment = r.awaitTrace(since, "EVENT_ACK DlparCpu", "lock_contended[vas_pseries_mutex]");
        // Reading the window bits takes vas_pseries_mutex: only safe when the removal went through, not while it
        // is contended behind a SUSPEND that is itself parked at the held query.
        String afterRemoval = moment.getKind() == TraceKind.EVENT_ACK ? VasEvidence.bits(guest, nx, handles)
                : "waits for vas_pseries_mutex";
        long suspended = r.lastSeq();
        r.release(LATCH);
        r.awaitTrace(suspended, "vas_migration_closed[default]");
        String afterSuspend = VasEvidence.bits(guest, nx, handles);
        List<EventAck> removeAcks = DlparRemoveDuringMigration.acks(r, removed);
        EventAck ack = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        String resumed = VasEvidence.bits(guest, nx, handles);
        evidence.add("core removed (target " + removed.getTargetCredits() + ") with SUSPEND held at its Default "
                + "query; moment " + moment.getKind() + " " + moment.getName() + " (" + moment.getDetail() + ")");
        evidence.add("after removal " + afterRemoval + ", after SUSPEND " + afterSuspend + ", removal acks "
                + removeAcks.stream().map(EventAck::getStatus).toList());
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + ", guest ack "
                + ack.getStatus() + "; after resume " + resumed + ", " + VasEvidence.counters(guest));

        DlparCpuResult added = r.control().dlparCpu(ScenarioRun.PARTITION, true, 1);
        DlparRemoveDuringMigration.acks(r, added);
        String afterAdd = VasEvidence.bits(guest, nx, handles);
        String pastes = VasEvidence.pastes(nx, handles);
        NxGzipDevice.OpenResult probe = ScenarioRun.await(r.onTask("late", () -> nx.open(false, 0)), "late open");
        if (probe.ok()) {
            nx.close(probe.handle());
        }
        var check = r.check();
        evidence.add("core added (target " + added.getTargetCredits() + ") -> " + afterAdd + ", "
                + VasEvidence.counters(guest) + "; pastes " + pastes);
        evidence.addAll(ScenarioRun.violations(check));
        return new Result(String.join("; ", o.getSuccess() ? "migrated" : "migration cancelled",
                "after core removal " + afterRemoval, "after suspend " + afterSuspend, "after resume " + resumed,
                "after core add " + afterAdd, "pastes " + pastes,
                "new open " + (probe.ok() ? "ok" : Errno.of(probe.rc()).name()),
                check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)"), evidence);
    }
}
