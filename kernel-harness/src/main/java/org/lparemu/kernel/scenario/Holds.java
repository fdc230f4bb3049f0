package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.papr.Hcall;
import org.lparemu.kernel.KernelRun;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;

/** Holds the C scenarios share. */
final class Holds {
    /** The migration task of the C guest, as of the Java guest: drmgr writes the stream id to sysfs. */
    static final String DRMGR = "drmgr";
    static final String AFTER_SUSPEND = "after-vas-suspend";

    private Holds() {
    }

    /**
     * Holds the migration right after the guest's VAS SUSPEND: drmgr's first H_VASI_STATE, which
     * pseries_migrate_partition makes once vas_migration_handler(VAS_SUSPEND) has returned. Every window is
     * closed for the migration there, as at ibm,suspend-me, but the guest still runs: stop_machine has not
     * begun, so user space and the DLPAR worker can act.
     */
    static void afterVasSuspend(KernelRun r) {
        r.fault(FaultMatch.newBuilder().setOpcode(Hcall.H_VASI_STATE).setTask(DRMGR).setMaxFires(1),
                FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch(AFTER_SUSPEND)));
    }

    /** Waits for the guest's ack of every DlparCpu event of {@code d}. */
    static List<EventAck> acks(KernelRun r, DlparCpuResult d) {
        List<EventAck> out = new ArrayList<>();
        for (long id : d.getEventIdsList()) {
            out.add(r.control().awaitEvent(id, KernelRun.WAIT));
        }
        return out;
    }
}
