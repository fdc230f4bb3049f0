package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/**
 * Dynamic-reconfiguration connectors (DRCs) of the partition's processor cores: the sensor and indicators the OS
 * drives around a DLPAR change (dlpar.c {@code dlpar_acquire_drc} / {@code dlpar_release_drc}). A core the partition
 * was created with is allocated to the OS and unisolated: its DR-entity sense is PRESENT. A core the operator adds
 * comes assigned but unusable (sense UNUSABLE) until the OS sets its allocation USABLE and unisolates it. A core the
 * operator removes stays PRESENT until the OS isolates it and sets it UNUSABLE; then the connector goes back to the
 * platform (no such sensor any more).
 *
 * <p>lparemu tracks these states and answers for them, but does not make ibm,configure-connector depend on them,
 * so a guest that skips the acquire (the kernel harness's DLPAR runtime does) still gets the node. UNCONFIRMED
 * choices: unisolating a connector not allocated to the OS answers -1 (hardware error); setting a state a
 * connector already has succeeds; sensors and indicators other than these three, and connectors the partition has
 * no core for, answer -3. Handlers run under the partition lock.
 */
final class DrcRtas {
    /** One core's connector as the OS sees it through the sensor and the two indicators. */
    static final class Drc {
        /** ALLOCATION_STATE: allocated to the OS (USABLE). */
        boolean allocated;
        /** ISOLATION_STATE: isolated from the OS. */
        boolean isolated;

        Drc(boolean allocated, boolean isolated) {
            this.allocated = allocated;
            this.isolated = isolated;
        }

        /** DR_ENTITY_SENSE: PRESENT while allocated to the OS, UNUSABLE while only assigned by the platform. */
        int sense() {
            return allocated ? RtasService.DR_ENTITY_PRESENT : RtasService.DR_ENTITY_UNUSABLE;
        }
    }

    private DrcRtas() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.registerRtas(RtasService.GET_SENSOR_STATE, DrcRtas::getSensorState);
        table.registerRtas(RtasService.SET_INDICATOR, DrcRtas::setIndicator);
    }

    /** The operator assigned a core: the OS may acquire its connector. Caller holds the lock. */
    @GuardedBy("p.lock")
    static void assignedLocked(Partition p, int drcIndex) {
        p.drcs.put(drcIndex, new Drc(false, true));
    }

    /** get-sensor-state(DR_ENTITY_SENSE, drc index) -> state. */
    @GuardedBy("p.lock")
    static RtasResult getSensorState(Partition p, CallContext ctx) {
        long sensor = ctx.arg(0);
        int index = (int) ctx.arg(1);

        Drc d = p.drcs.get(index);
        if (ctx.argCount() != 2 || sensor != RtasService.DR_ENTITY_SENSE || d == null) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        return new RtasResult(RtasStatus.SUCCESS, new long[] {d.sense()}, null);
    }

    /** set-indicator(ALLOCATION_STATE or ISOLATION_STATE, drc index, value). */
    @GuardedBy("p.lock")
    static RtasResult setIndicator(Partition p, CallContext ctx) {
        long indicator = ctx.arg(0);
        int index = (int) ctx.arg(1);
        long value = ctx.arg(2);

        Drc d = p.drcs.get(index);
        if (ctx.argCount() != 3 || d == null) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        if (indicator == RtasService.ISOLATION_STATE && (value == RtasService.ISOLATE || value == RtasService.UNISOLATE)) {
            if (value == RtasService.UNISOLATE && !d.allocated) {
                return RtasResult.of(RtasStatus.HARDWARE_ERROR);
            }
            d.isolated = value == RtasService.ISOLATE;
        } else if (indicator == RtasService.ALLOCATION_STATE
                && (value == RtasService.ALLOC_USABLE || value == RtasService.ALLOC_UNUSABLE)) {
            d.allocated = value == RtasService.ALLOC_USABLE;
            if (!d.allocated && p.deviceTreeLocked().nodeByDrcIndex(index) == null) {
                // Released after the operator took the core away: the connector is the platform's again.
                p.drcs.remove(index);
                ctx.services().trace().note(TraceKind.STATE, p.name, "drc released",
                        String.format("0x%08x returned to the platform", index));
            }
        } else {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        return RtasResult.of(RtasStatus.SUCCESS);
    }
}
