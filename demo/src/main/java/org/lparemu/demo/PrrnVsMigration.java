package org.lparemu.demo;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.DeviceTreeUpdate;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.Machine;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.Property;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Seed race 2 (linuxppc-dev, May 2019, "Fix extending start/stop topology update scope during LPM"): a PRRN
 * device-tree update whose fetch is interleaved with the partition's migration and post-migration update.
 *
 * <p>The PRRN changes two nodes, in this order: {@code cpu@0}'s {@code ibm,associativity} (the system's
 * property: the destination has its own value) and the LMB list {@code ibm,dynamic-memory} of
 * {@code /ibm,dynamic-reconfiguration-memory} (the partition's: it travels with the partition, and no property
 * of that node differs between systems, so a migration's update never touches it). Arrangement, the same for
 * every policy: stop the PRRN worker (rtasd) by a breakpoint at {@code update_dt_property}, right after its first
 * ibm,update-properties returned the source's value and before it applies it: off its vCPU, with whatever lock its
 * policy holds, as if the scheduler had preempted it there (a task inside an RTAS call could not be preempted, and
 * stop_machine would wait for it); start the migration; wait until the migration can go no further without the
 * PRRN, whichever comes first: its device-tree update done, the update contended on the device-tree lock, or the
 * migration waiting to drain PRRNs; release.
 */
public final class PrrnVsMigration implements Scenario, Scenarios.ConfiguredScenario {
    static final String RTASD = "rtasd";
    static final String SYSTEM_NODE = "/cpus/PowerPC,POWER10@0";
    static final String PARTITION_NODE = "/ibm,dynamic-reconfiguration-memory";
    static final String PARTITION_PROPERTY = "ibm,dynamic-memory";
    static final byte[] PRRN_ASSOCIATIVITY = DeviceTree.cells(4, 7, 7, 77, 77);
    /** Two LMBs reassigned to associativity index 1 (the memory side of a DPO run). */
    static final byte[] PRRN_DYNAMIC_MEMORY = DeviceTree.cells(4, 0, 0x80000000, 0, 0, 1, 0x8, 0, 0x10000000,
            0x80000001, 0, 1, 0x8, 0, 0x20000000, 0x80000002, 0, 0, 0x8, 0, 0x30000000, 0x80000003, 0, 0, 0x8);

    /** What the destination firmware does with the PRRN's sequence begun on the source. */
    private final PlatformConfig.UpdateContinuation firmware;

    /** The scenario on today's firmware model: a continuation from the source is refused (-3). */
    public PrrnVsMigration() {
        this(PlatformConfig.UpdateContinuation.REJECT);
    }

    /** The same arrangement on a platform configured with another {@code update_continuation}. */
    public PrrnVsMigration(PlatformConfig.UpdateContinuation firmware) {
        this.firmware = firmware;
    }

    @Override
    public String id() {
        return switch (firmware) {
            case REJECT -> "prrn-vs-migration";
            case RESTART -> "prrn-vs-migration-fw-restart";
            case SERVE_OLD_SYSTEM -> "prrn-vs-migration-fw-old-data";
        };
    }

    @Override
    public String title() {
        return switch (firmware) {
            case REJECT -> "PRRN update vs migration (2019)";
            case RESTART -> "PRRN update vs migration, firmware restarts the source's sequence";
            case SERVE_OLD_SYSTEM -> "PRRN update vs migration, firmware serves the source's data";
        };
    }

    @Override
    public PlatformConfig config() {
        PlatformConfig base = PlatformConfig.defaults();
        return base.withHypervisor(base.hypervisor().withUpdateContinuation(firmware));
    }

    @Override
    public Axis axis() {
        return Axis.PRRN;
    }

    @Override
    public Expectation expected(String policy) {
        return switch (firmware) {
            case REJECT -> expectedOnRejectingFirmware(policy);
            case RESTART -> expectedOnRestartingFirmware(policy);
            case SERVE_OLD_SYSTEM -> expectedOnOldDataFirmware(policy);
        };
    }

    /** The policies that never continue a sequence across the suspend behave alike on every firmware. */
    private static Expectation firmwareBlind(String policy, String firmwareWhy) {
        String part = PARTITION_NODE + " " + PARTITION_PROPERTY;
        return switch (policy) {
            case "DRAIN_BEFORE_SUSPEND" -> new Expectation("migrated; PRRN applied; trees agree",
                    "the PRRN finishes on the source before the suspend, so no sequence crosses the migration and "
                            + firmwareWhy + " never comes into play.");
            case "IGNORE" -> new Expectation("migrated; PRRN ignored; stale: " + part,
                    "PRRN events are ignored, so " + firmwareWhy + " never comes into play; the migration's update "
                            + "repairs only the system's properties and the partition's change stays missing.");
            default -> throw new IllegalArgumentException(policy);
        };
    }

    private static Expectation expectedOnRestartingFirmware(String policy) {
        String sys = SYSTEM_NODE + " ibm,associativity";
        return switch (policy) {
            case "UNSERIALIZED" -> new Expectation("migrated; PRRN continuation restarted; stale: " + sys,
                    "the destination answers the PRRN's next node as a fresh sequence with its own values, so the "
                            + "partition's LMB change arrives; but the node fetched on the source before the suspend "
                            + "is applied after the migration's update, writing the source's associativity over the "
                            + "destination's.");
            case "DT_MUTEX" -> new Expectation("migrated; PRRN continuation restarted; trees agree",
                    "the mutex makes the migration's update wait for the PRRN; the PRRN's last node is restarted on "
                            + "the destination (so the LMB change arrives), and the migration's update, running last, "
                            + "replaces the source associativity the PRRN wrote: a restarting firmware makes the 2019 "
                            + "mutex sufficient.");
            default -> firmwareBlind(policy, "the firmware's restart");
        };
    }

    private static Expectation expectedOnOldDataFirmware(String policy) {
        String sys = SYSTEM_NODE + " ibm,associativity";
        return switch (policy) {
            case "UNSERIALIZED" -> new Expectation("migrated; PRRN continuation served from the source; stale: " + sys,
                    "the destination goes on with the source's data: the LMB list is the partition's, the same on "
                            + "both systems, so it arrives right; the associativity fetched before the suspend still "
                            + "lands after the migration's update and overwrites the destination's.");
            case "DT_MUTEX" -> new Expectation("migrated; PRRN continuation served from the source; trees agree",
                    "with the mutex the PRRN finishes first, on the source's data, and the migration's update then "
                            + "replaces every system property with the destination's; had the PRRN's later nodes "
                            + "carried system properties, they too would be repaired only because the update runs "
                            + "after it.");
            default -> firmwareBlind(policy, "serving the source's data");
        };
    }

    private static Expectation expectedOnRejectingFirmware(String policy) {
        String sys = SYSTEM_NODE + " ibm,associativity";
        String part = PARTITION_NODE + " " + PARTITION_PROPERTY;
        return switch (policy) {
            case "UNSERIALIZED" -> new Expectation("migrated; PRRN continuation rejected; stale: " + sys + ", " + part,
                    "pre-2019: nothing orders the PRRN update against the migration's; the PRRN applies the source's "
                            + "associativity over the destination's, and its next call, bound to the source, is refused "
                            + "on the destination, so the partition's own change is lost too.");
            case "DT_MUTEX" -> new Expectation("migrated; PRRN continuation rejected; stale: " + part,
                    "Juliet Kim's 2019 mutex: the two updates no longer interleave (the migration's runs after the "
                            + "PRRN and repairs the system's property), but the PRRN in flight across the suspend cannot "
                            + "finish on the destination, and the partition's change it carried is lost.");
            case "DRAIN_BEFORE_SUSPEND" -> new Expectation("migrated; PRRN applied; trees agree",
                    "Nathan Lynch's requirement: the OS drains outstanding PRRNs before suspending, so the PRRN "
                            + "finishes on the source and the migration's update starts from a tree that has it.");
            case "IGNORE" -> new Expectation("migrated; PRRN ignored; stale: " + part,
                    "v5.9+ (2020 removal): PRRN events are logged and ignored; the migration's update repairs only "
                            + "the system's properties, so the partition's change stays missing until a full update.");
            default -> throw new IllegalArgumentException(policy);
        };
    }

    static DeviceTreeChange set(String path, String name, byte[] value) {
        return DeviceTreeChange.newBuilder().setPath(path).setSetProperty(Property.newBuilder().setName(name)
                .setValue(ByteString.copyFrom(value))).build();
    }

    @Override
    public Result run(ScenarioRun r) throws Exception {
        GuestKernel guest = r.guest();
        Machine.Breakpoint fetch = guest.machine().breakAt(RTASD, DeviceTreeUpdate.UPDATE_DT_PROPERTY);
        long since0 = r.lastSeq();
        var prrn = r.control().prrn(ScenarioRun.PARTITION, List.of(
                set(SYSTEM_NODE, "ibm,associativity", PRRN_ASSOCIATIVITY),
                set(PARTITION_NODE, PARTITION_PROPERTY, PRRN_DYNAMIC_MEMORY)));
        TraceRecord fetched = r.awaitTrace(since0, "breakpoint", "prrn_ignored");

        long since = r.lastSeq();
        var m = r.control().migrate(ScenarioRun.PARTITION, "");
        TraceRecord moment = r.awaitTrace(since, "dt_update_end[migration]", "lock_contended[dt_update_mutex]",
                "prrn_drain_wait");
        fetch.release();

        var migrationAck = r.control().awaitEvent(m.getEventId(), ScenarioRun.WAIT);
        var prrnAck = r.control().awaitEvent(prrn.getEventId(), ScenarioRun.WAIT);
        MigrationOutcome o = r.control().awaitMigration(ScenarioRun.PARTITION, ScenarioRun.WAIT);
        var check = r.check();

        List<TraceRecord> trace = r.trace();
        long rejected = trace.stream().filter(t -> t.getKind() == TraceKind.CALL_END && t.getTask().equals(RTASD)
                && t.getName().startsWith("ibm,update-") && t.getStatus() == RtasStatus.PARAMETER_ERROR).count();
        long restarted = trace.stream().filter(t -> t.getKind() == TraceKind.STATE
                && t.getName().equals(PlatformConfig.UpdateContinuation.RESTART.traceNote)).count();
        long servedOld = trace.stream().filter(t -> t.getKind() == TraceKind.STATE
                && t.getName().equals(PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM.traceNote)).count();
        List<String> stale = check.getViolationsList().stream().filter(v -> v.getName().equals("device-tree-stale"))
                .map(v -> v.getLocation().substring(v.getLocation().indexOf(':') + 1)).sorted().toList();
        boolean otherViolations = check.getViolationsList().stream().anyMatch(v -> !v.getName().equals("device-tree-stale"));

        String prrnText = prrnAck.getDetail().contains("ignored") ? "PRRN ignored"
                : rejected > 0 ? "PRRN continuation rejected" : restarted > 0 ? "PRRN continuation restarted"
                : servedOld > 0 ? "PRRN continuation served from the source" : prrnAck.getStatus() == 0 ? "PRRN applied"
                : "PRRN failed (" + prrnAck.getStatus() + ")";
        String verdict = String.join("; ", o.getSuccess() ? "migrated" : "migration failed", prrnText,
                stale.isEmpty() ? "trees agree" : "stale: " + String.join(", ", stale))
                + (otherViolations ? "; other violations" : "");

        List<String> evidence = new ArrayList<>();
        evidence.add("PRRN scope " + prrn.getScope() + ": " + fetched.getName() + " (" + fetched.getDetail() + ")"
                + "; acked " + prrnAck.getStatus() + " (" + prrnAck.getDetail() + ")");
        evidence.add("released rtasd at " + moment.getName() + " (" + moment.getDetail() + ")");
        evidence.add("migration " + (o.getSuccess() ? "COMPLETED" : o.getVasiState().name()) + ", suspend statuses "
                + o.getRtasStatusesList() + "; guest handler ack " + migrationAck.getStatus());
        evidence.add(rejected + " PRRN RTAS call(s) refused with PARAMETER_ERROR (sequence bound to the source)");
        evidence.add("firmware " + firmware + ": " + restarted + " sequence(s) restarted on the destination, "
                + servedOld + " call(s) served from the source's data");
        evidence.addAll(ScenarioRun.violations(check));
        evidence.add("guest tree generation " + guest.deviceTree().snapshot().generation());
        return new Result(verdict, evidence);
    }
}
