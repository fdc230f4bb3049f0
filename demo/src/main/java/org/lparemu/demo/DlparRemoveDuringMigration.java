package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceRecord;

/**
 * A processor core removed while a migration is under way (papr-notes 5.4 item 3, 8): "the user space can issue
 * DLPAR CPU hotplug while migration in progress", and the two close bits are meant to handle it.
 *
 * <p>Arrangement, the same for every policy: lpar1 has 2 cores at 2 Default credits each, and four tasks each
 * open a window (all 4 credits). Hold the migration in drmgr's first H_VASI_STATE poll, i.e. right after the
 * guest's VAS SUSPEND closed every window and before stop_machine (inside it no DLPAR could run); paste (must
 * fail); remove 1 core and wait for the guest's DlparCpu ack; release; when the migration is over, add the core
 * back and wait for its ack; paste again and try one more open.
 *
 * <p>The window bits are read from the guest kernel at each step, oldest window first ("A" active, "C"
 * NO_CRED_CLOSE, "M" MIGRATE_CLOSE, "CM" both).
 */
public final class DlparRemoveDuringMigration implements Scenario, Scenarios.ConfiguredScenario {
    static final String LATCH = "suspend";
    static final int WINDOWS = 4;
    static final int CREDITS_PER_CORE = 2;

    @Override
    public String id() {
        return "dlpar-remove-during-migration";
    }

    @Override
    public String title() {
        return "DLPAR core removal while windows are closed for migration";
    }

    @Override
    public Axis axis() {
        return Axis.VAS;
    }

    @Override
    public PlatformConfig config() {
        return ScenarioConfigs.creditsPerCore(PlatformConfig.defaults(), CREDITS_PER_CORE);
    }

    @Override
    public Expectation expected(String policy) {
        // The policies differ only in how an open meets a SUSPEND; no open runs here, and by the VASI poll every
        // policy's SUSPEND has returned and released vas_pseries_mutex, so all three follow the same code.
        return new Expectation(
                "migrated; pastes fail while held; held after core removal [M M M M]; after resume [M M A A], "
                        + "reopen refused H_CONSTRAINED; after core add [M M A A]; pastes [fail fail ok ok]; "
                        + "new open EINVAL; no leak",
                "vas_reconfig_capabilties (5.18+) closes only active windows: nr_open_windows - nr_close_wins = 0 "
                        + "after SUSPEND, so the lost core closes nothing and no window gets NO_CRED_CLOSE (the "
                        + "kernel comment's 'closed with DLPAR and migration events' needs the removal to come "
                        + "before SUSPEND). RESUME then reopens every MIGRATE_CLOSE window regardless of the lower "
                        + "nr_total_credits, newest first; the hypervisor refuses the allocation beyond the 2-credit "
                        + "target, reconfig_open_windows stops and the two oldest windows keep MIGRATE_CLOSE only. "
                        + "The core add reopens NO_CRED_CLOSE windows only, so they stay closed (pastes fail) until "
                        + "a later migration; their credits stay counted in nr_used_credits, so a new open fails "
                        + "the credit check with EINVAL (and would fail with EBUSY while nr_close_wins != 0).");
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        NxGzipDevice nx = guest.nxGzip();
        List<Long> handles = VasEvidence.openWindows(r, nx, WINDOWS);
        List<String> evidence = new ArrayList<>();
        evidence.add("opened " + VasEvidence.bits(guest, nx, handles) + ", " + VasEvidence.counters(guest));

        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_VASI_STATE).setTask(ScenarioRun.DRMGR).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(LATCH)));
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        r.awaitHold(LATCH);
        String atSuspend = VasEvidence.bits(guest, nx, handles);
        String heldPastes = VasEvidence.pastes(nx, handles);
        DlparCpuResult removed = r.control().dlparCpu(ScenarioRun.PARTITION, false, 1);
        List<EventAck> removeAcks = acks(r, removed);
        String held = VasEvidence.bits(guest, nx, handles);
        evidence.add("at drmgr's first H_VASI_STATE " + atSuspend + ", pastes " + heldPastes + "; core removed (target "
                + removed.getTargetCredits() + ", acks " + removeAcks.stream().map(EventAck::getStatus).toList()
                + ") -> " + held + ", " + VasEvidence.counters(guest));

        long released = r.lastSeq();
        r.release(LATCH);
        EventAck ack = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        String resumed = VasEvidence.bits(guest, nx, handles);
        List<TraceRecord> refused = VasEvidence.ends(r.trace(), released, Hcall.H_ALLOCATE_VAS_WINDOW).stream()
                .filter(t -> t.getStatus() != HStatus.H_SUCCESS).toList();
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + " "
                + o.getRtasStatusesList().stream().map(RtasStatus::name).toList() + ", guest ack " + ack.getStatus()
                + "; after resume " + resumed + ", " + VasEvidence.counters(guest) + "; refused reopens "
                + refused.stream().map(t -> HStatus.name(t.getStatus()) + " by " + t.getTask()).toList());

        DlparCpuResult added = r.control().dlparCpu(ScenarioRun.PARTITION, true, 1);
        List<EventAck> addAcks = acks(r, added);
        String afterAdd = VasEvidence.bits(guest, nx, handles);
        String endPastes = VasEvidence.pastes(nx, handles);
        NxGzipDevice.OpenResult probe = ScenarioRun.await(r.onTask("late", () -> nx.open(false, 0)), "late open");
        if (probe.ok()) {
            nx.close(probe.handle());
        }
        var check = r.check();
        evidence.add("core added (target " + added.getTargetCredits() + ", acks "
                + addAcks.stream().map(EventAck::getStatus).toList() + ") -> " + afterAdd + ", "
                + VasEvidence.counters(guest) + "; pastes " + endPastes + "; late open "
                + (probe.ok() ? "ok" : probe.error()));
        evidence.addAll(ScenarioRun.violations(check));

        List<String> verdict = new ArrayList<>();
        verdict.add(o.getSuccess() ? "migrated" : "migration cancelled");
        verdict.add(heldPastes.contains("ok") ? "pastes " + heldPastes + " while held" : "pastes fail while held");
        verdict.add("held after core removal " + held);
        verdict.add("after resume " + resumed + (refused.isEmpty() ? ""
                : ", reopen refused " + refused.stream().map(t -> HStatus.name(t.getStatus())).distinct()
                .reduce((a, b) -> a + "/" + b).orElse("")));
        verdict.add("after core add " + afterAdd);
        verdict.add("pastes " + endPastes);
        verdict.add("new open " + (probe.ok() ? "ok" : Errno.of(probe.rc()).name()));
        verdict.add(check.getViolationsCount() == 0 ? "no leak" : check.getViolationsCount() + " violation(s)");
        return new Result(String.join("; ", verdict), evidence);
    }

    /** Waits for the guest's ack of every DlparCpu event of {@code d}. */
    static List<EventAck> acks(ScenarioRun r, DlparCpuResult d) {
        List<EventAck> out = new ArrayList<>();
        for (long id : d.getEventIdsList()) {
            out.add(r.control().awaitEvent(id, ScenarioRun.WAIT));
        }
        return out;
    }
}
