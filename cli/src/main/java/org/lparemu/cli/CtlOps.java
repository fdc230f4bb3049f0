package org.lparemu.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.TextFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.proto.v1.AddFault;
import org.lparemu.proto.v1.AwaitHold;
import org.lparemu.proto.v1.AwaitMigration;
import org.lparemu.proto.v1.CheckInvariants;
import org.lparemu.proto.v1.ClearFaults;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.Delay;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.Disconnect;
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.ListFaults;
import org.lparemu.proto.v1.Migrate;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.NewNode;
import org.lparemu.proto.v1.Property;
import org.lparemu.proto.v1.Prrn;
import org.lparemu.proto.v1.ReleaseHold;
import org.lparemu.proto.v1.RemoveFault;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.SetQosCredits;
import org.lparemu.proto.v1.Trigger;
import org.lparemu.proto.v1.When;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine;

/** The operator, fault, hold and check subcommands of {@code lparemu ctl}. */
final class CtlOps {
    private CtlOps() {
    }

    static String outcome(MigrationOutcome o) {
        return String.format("migration stream %d %s -> %s: %s (VASI %s), %d suspend attempt(s) %s, %d hcalls, %.3f ms%s",
                o.getStreamId(), o.getSource(), o.getDestination(), o.getSuccess() ? "succeeded" : "FAILED",
                o.getVasiState().name().replace("VASI_", ""), o.getAttempts(),
                o.getRtasStatusesList().stream().map(s -> RtasStatus.name(s)).toList(), o.getHcalls(),
                o.getDurationNanos() / 1e6, o.getReason().isEmpty() ? "" : ", " + o.getReason());
    }

    @Command(name = "migrate", description = "Start a Live Partition Mobility of a partition.")
    static final class MigrateCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Option(names = "--to", defaultValue = "", description = "Destination system (default: the first other system).")
        String destination;

        @Option(names = "--wait", description = "Wait for the migration to end and print its outcome.")
        boolean await;

        @Option(names = "--timeout-ms", defaultValue = "60000")
        int timeoutMs;

        @Override
        public Integer call() {
            int rc = ctl.run(ControlRequest.newBuilder().setMigrate(Migrate.newBuilder().setPartition(partition)
                    .setDestination(destination)), Duration.ofSeconds(30), r -> "migration of " + partition + " to "
                    + r.getMigrate().getDestination() + " started: stream " + r.getMigrate().getStreamId() + ", event "
                    + r.getMigrate().getEventId());
            if (rc != 0 || !await) {
                return rc;
            }
            return ctl.run(ControlRequest.newBuilder().setAwaitMigration(AwaitMigration.newBuilder()
                    .setPartition(partition).setTimeoutMs(timeoutMs)), Duration.ofMillis(timeoutMs).plusSeconds(10),
                    r -> outcome(r.getMigration()));
        }
    }

    @Command(name = "await-migration", description = "Wait for a partition's migration to end (or show the last outcome).")
    static final class AwaitMigrationCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Option(names = "--timeout-ms", defaultValue = "60000")
        int timeoutMs;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setAwaitMigration(AwaitMigration.newBuilder()
                    .setPartition(partition).setTimeoutMs(timeoutMs)), Duration.ofMillis(timeoutMs).plusSeconds(10),
                    r -> outcome(r.getMigration()));
        }
    }

    /**
     * Parses a property value: {@code <1 0x2 3>} = 32-bit cells, {@code 0xDEADBEEF} = raw bytes, anything else a
     * NUL-terminated string.
     */
    static byte[] value(String v) {
        if (v.startsWith("<") && v.endsWith(">")) {
            String body = v.substring(1, v.length() - 1).trim();
            if (body.isEmpty()) {
                return new byte[0];
            }
            String[] parts = body.split("\\s+");
            int[] cells = new int[parts.length];
            for (int i = 0; i < parts.length; i++) {
                cells[i] = (int) Long.decode(parts[i]).longValue();
            }
            return DeviceTree.cells(cells);
        }
        if (v.startsWith("0x") && v.length() % 2 == 0 && v.length() > 2) {
            return HexFormat.of().parseHex(v.substring(2));
        }
        return DeviceTree.string(v);
    }

    /** Splits "PATH:NAME" (the path may contain ':' only before the last one). */
    static String[] pathAndName(String s) {
        int i = s.lastIndexOf(':');
        if (i <= 0 || i == s.length() - 1) {
            throw new CommandLine.ParameterException(new CommandLine(new Object()),
                    "expected PATH:PROPERTY, got '" + s + "'");
        }
        return new String[] {s.substring(0, i), s.substring(i + 1)};
    }

    static List<DeviceTreeChange> changes(List<String> set, List<String> deleteProps, List<String> addNodes,
                                          List<String> deleteNodes) {
        List<DeviceTreeChange> out = new ArrayList<>();
        for (String s : set) {
            int eq = s.indexOf('=');
            if (eq < 0) {
                throw new LparemuCli.CliException("--set needs PATH:PROPERTY=VALUE, got '" + s + "'", 2);
            }
            String[] pn = pathAndName(s.substring(0, eq));
            out.add(DeviceTreeChange.newBuilder().setPath(pn[0]).setSetProperty(Property.newBuilder().setName(pn[1])
                    .setValue(ByteString.copyFrom(value(s.substring(eq + 1))))).build());
        }
        for (String s : deleteProps) {
            String[] pn = pathAndName(s);
            out.add(DeviceTreeChange.newBuilder().setPath(pn[0]).setDeleteProperty(pn[1]).build());
        }
        for (String s : addNodes) {
            out.add(DeviceTreeChange.newBuilder().setPath(s).setAddNode(NewNode.getDefaultInstance()).build());
        }
        for (String s : deleteNodes) {
            out.add(DeviceTreeChange.newBuilder().setPath(s).setDeleteNode(true).build());
        }
        if (out.isEmpty()) {
            throw new LparemuCli.CliException("say what changes: --set, --delete-prop, --add-node or --delete-node", 2);
        }
        return out;
    }

    @Command(name = "prrn", description = "Change a partition's device tree on its system and push a PRRN event.")
    static final class PrrnCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Option(names = "--set", paramLabel = "PATH:PROP=VALUE",
                description = "Set a property; VALUE is <cells>, 0xHEX bytes, or a string.")
        List<String> set = new ArrayList<>();

        @Option(names = "--delete-prop", paramLabel = "PATH:PROP")
        List<String> deleteProps = new ArrayList<>();

        @Option(names = "--add-node", paramLabel = "PATH")
        List<String> addNodes = new ArrayList<>();

        @Option(names = "--delete-node", paramLabel = "PATH")
        List<String> deleteNodes = new ArrayList<>();

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setPrrn(Prrn.newBuilder().setPartition(partition)
                    .addAllChanges(changes(set, deleteProps, addNodes, deleteNodes))), Duration.ofSeconds(30),
                    r -> "PRRN scope " + r.getPrrn().getScope() + " pushed as event " + r.getPrrn().getEventId()
                            + " (device tree generation " + r.getPrrn().getDeviceTreeGeneration() + ")");
        }
    }

    @Command(name = "dlpar", description = "Add or remove processor cores (DLPAR CPU).")
    static final class DlparCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Parameters(index = "1", paramLabel = "add|remove")
        String action;

        @Parameters(index = "2", paramLabel = "CORES")
        int cores;

        @Override
        public Integer call() {
            DlparAction a = switch (action.toLowerCase(Locale.ROOT)) {
                case "add" -> DlparAction.ADD;
                case "remove" -> DlparAction.REMOVE;
                default -> throw new LparemuCli.CliException("action must be add or remove, got '" + action + "'", 2);
            };
            return ctl.run(ControlRequest.newBuilder().setDlparCpu(DlparCpu.newBuilder().setPartition(partition)
                    .setAction(a).setCores(cores)), Duration.ofSeconds(30), r -> partition + " now has "
                    + r.getDlparCpu().getCores() + " cores, default credit target " + r.getDlparCpu().getTargetCredits()
                    + ", events " + r.getDlparCpu().getEventIdsList());
        }
    }

    @Command(name = "qos", description = "Set a partition's QoS credits and push the change to its guest.")
    static final class QosCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Parameters(index = "1", paramLabel = "CREDITS")
        int credits;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setSetQosCredits(SetQosCredits.newBuilder()
                    .setPartition(partition).setCredits(credits)), Duration.ofSeconds(30),
                    r -> "QoS credits " + credits + " pushed as event " + r.getEventPushed().getEventId());
        }
    }

    @Command(name = "check", description = "Run the invariant oracles (hypervisor, guest vs hypervisor, device tree).")
    static final class CheckCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Parameters(index = "0", arity = "0..1", paramLabel = "PARTITION", description = "Default: every partition.")
        String partition = "";

        @Option(names = "--timeout-ms", defaultValue = "5000", description = "How long to wait for each guest's report.")
        int timeoutMs;

        @Override
        public Integer call() {
            int[] violations = {0};
            int rc = ctl.run(ControlRequest.newBuilder().setCheckInvariants(CheckInvariants.newBuilder()
                    .setPartition(partition).setTimeoutMs(timeoutMs)), Duration.ofMillis(timeoutMs).plusSeconds(10), r -> {
                        var rep = r.getInvariants();
                        violations[0] = rep.getViolationsCount();
                        StringBuilder sb = new StringBuilder();
                        for (var v : rep.getViolationsList()) {
                            sb.append("[").append(v.getOracle()).append("] ").append(v.getName()).append(" at ")
                                    .append(v.getLocation()).append(": ").append(v.getDetail()).append('\n');
                        }
                        sb.append(rep.getViolationsCount()).append(" violation(s); ").append(rep.getPartitionsChecked())
                                .append(" partition(s) checked, ").append(rep.getGuestReportsCompared())
                                .append(" against a guest report");
                        for (String busy : rep.getNotQuiescentList()) {
                            sb.append("\nnot quiescent: ").append(busy);
                        }
                        return sb.toString();
                    });
            // A check that finds violations exits 4 so scripts can tell it from a failed request.
            return rc == 0 && violations[0] > 0 ? 4 : rc;
        }
    }

    /** {@code ctl fault add|list|rm|clear}. */
    @Command(name = "fault", description = "Fault rules: when(match).then(action).",
            subcommands = {FaultCmd.Add.class, FaultCmd.ListCmd.class, FaultCmd.Rm.class, FaultCmd.Clear.class})
    static final class FaultCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }

        /** A status by name (H_BUSY, RTAS_OUTSTANDING_COPROC) or number. */
        static long status(String s) {
            Long h = HStatus.byName(s);
            if (h != null) {
                return h;
            }
            for (int code : new int[] {RtasStatus.SUSPEND_ABORTED, RtasStatus.NOT_SUSPENDABLE, RtasStatus.THREADS_ACTIVE,
                    RtasStatus.OUTSTANDING_COPROC, RtasStatus.BUSY, RtasStatus.PARAMETER_ERROR, RtasStatus.HARDWARE_ERROR}) {
                if (RtasStatus.name(code).equalsIgnoreCase(s)) {
                    return code;
                }
            }
            try {
                return Long.decode(s);
            } catch (NumberFormatException e) {
                throw new LparemuCli.CliException("unknown status '" + s + "' (use a name such as H_BUSY or a number)", 2);
            }
        }

        @Command(name = "add", description = "Add a rule (rules apply in the order added).")
        static final class Add implements Callable<Integer> {
            @ParentCommand
            FaultCmd fault;

            @Option(names = "--partition", defaultValue = "")
            String partition;

            @Option(names = "--hcall", paramLabel = "NAME|OPCODE", description = "e.g. H_MODIFY_VAS_WINDOW or 0x38c")
            String hcall;

            @Option(names = "--rtas", paramLabel = "SERVICE", description = "e.g. ibm,suspend-me")
            String rtas;

            @Option(names = "--vcpu")
            Integer vcpu;

            @Option(names = "--task", defaultValue = "")
            String task;

            @Option(names = "--skip", defaultValue = "0", description = "Let this many matching calls pass first.")
            long skip;

            @Option(names = "--max", defaultValue = "0", description = "Fire at most this many times (0 = always).")
            long max;

            @Option(names = "--probability", defaultValue = "0")
            double probability;

            @Option(names = "--seed", defaultValue = "0")
            long seed;

            @Option(names = "--return", paramLabel = "STATUS", description = "Answer with this status.")
            String returnStatus;

            @Option(names = "--rets", split = ",", description = "Return registers with --return.")
            List<Long> rets = new ArrayList<>();

            @Option(names = "--delay", paramLabel = "MS")
            Integer delay;

            @Option(names = "--hold", paramLabel = "LATCH")
            String hold;

            @Option(names = "--disconnect")
            boolean disconnect;

            @Option(names = "--trigger", paramLabel = "ACTION",
                    description = "migrate[:DEST], dlpar-add:N, dlpar-remove:N or qos:N (on the calling partition).")
            String trigger;

            @Option(names = "--after", description = "Apply after the call runs (default: before).")
            boolean after;

            @Override
            public Integer call() {
                FaultMatch.Builder m = FaultMatch.newBuilder().setPartition(partition).setTask(task).setSkipFirst(skip)
                        .setMaxFires(max).setProbability(probability).setSeed(seed);
                if (hcall != null && rtas != null) {
                    throw new LparemuCli.CliException("use --hcall or --rtas, not both", 2);
                }
                if (hcall != null) {
                    long op = Hcall.opcode(hcall);
                    m.setOpcode(op >= 0 ? op : Long.decode(hcall));
                }
                if (rtas != null) {
                    m.setRtasService(rtas);
                }
                if (vcpu != null) {
                    m.setVcpu(vcpu);
                }
                When when = after ? When.AFTER : When.BEFORE;
                FaultRule.Builder r = FaultRule.newBuilder().setMatch(m);
                int actions = 0;
                if (returnStatus != null) {
                    r.setReturnStatus(ReturnStatus.newBuilder().setStatus(status(returnStatus)).addAllRets(rets)
                            .setWhen(when));
                    actions++;
                }
                if (delay != null) {
                    r.setDelay(Delay.newBuilder().setMs(delay).setWhen(when));
                    actions++;
                }
                if (hold != null) {
                    r.setHold(Hold.newBuilder().setLatch(hold).setWhen(when));
                    actions++;
                }
                if (disconnect) {
                    r.setDisconnect(Disconnect.getDefaultInstance());
                    actions++;
                }
                if (trigger != null) {
                    r.setTrigger(trigger(trigger, when));
                    actions++;
                }
                if (actions != 1) {
                    throw new LparemuCli.CliException(
                            "give exactly one action: --return, --delay, --hold, --disconnect or --trigger", 2);
                }
                return fault.ctl.run(ControlRequest.newBuilder().setAddFault(AddFault.newBuilder().setRule(r)),
                        Duration.ofSeconds(30), resp -> "rule " + resp.getAddFault().getRuleId() + " added");
            }

            static Trigger trigger(String spec, When when) {
                String[] kv = spec.split(":", 2);
                Trigger.Builder t = Trigger.newBuilder().setWhen(when);
                switch (kv[0]) {
                    case "migrate" -> t.setMigrate(Migrate.newBuilder().setDestination(kv.length > 1 ? kv[1] : ""));
                    case "dlpar-add", "dlpar-remove" -> t.setDlparCpu(DlparCpu.newBuilder()
                            .setAction(kv[0].endsWith("add") ? DlparAction.ADD : DlparAction.REMOVE)
                            .setCores(kv.length > 1 ? Integer.parseInt(kv[1]) : 1));
                    case "qos" -> t.setSetQosCredits(SetQosCredits.newBuilder().setCredits(Integer.parseInt(kv[1])));
                    default -> throw new LparemuCli.CliException("unknown trigger '" + spec + "'", 2);
                }
                return t.build();
            }
        }

        @Command(name = "list", description = "List rules with their match and fire counts.")
        static final class ListCmd implements Callable<Integer> {
            @ParentCommand
            FaultCmd fault;

            @Override
            public Integer call() {
                return fault.ctl.run(ControlRequest.newBuilder().setListFaults(ListFaults.getDefaultInstance()),
                        Duration.ofSeconds(30), r -> {
                            StringBuilder sb = new StringBuilder();
                            for (var s : r.getFaults().getRulesList()) {
                                sb.append("rule ").append(s.getRuleId()).append(": matched ").append(s.getMatched())
                                        .append(", fired ").append(s.getFired())
                                        .append(s.getHoldsRefused() > 0 ? ", holds refused " + s.getHoldsRefused() : "")
                                        .append("  ").append(TextFormat.printer().emittingSingleLine(true).printToString(s.getRule()))
                                        .append('\n');
                            }
                            return sb.append(r.getFaults().getRulesCount()).append(" rule(s)").toString();
                        });
            }
        }

        @Command(name = "rm", description = "Remove a rule.")
        static final class Rm implements Callable<Integer> {
            @ParentCommand
            FaultCmd fault;

            @Parameters(index = "0", paramLabel = "RULE_ID")
            long id;

            @Override
            public Integer call() {
                return fault.ctl.run(ControlRequest.newBuilder().setRemoveFault(RemoveFault.newBuilder().setRuleId(id)),
                        Duration.ofSeconds(30), r -> "rule " + id + " removed");
            }
        }

        @Command(name = "clear", description = "Remove every rule.")
        static final class Clear implements Callable<Integer> {
            @ParentCommand
            FaultCmd fault;

            @Override
            public Integer call() {
                return fault.ctl.run(ControlRequest.newBuilder().setClearFaults(ClearFaults.getDefaultInstance()),
                        Duration.ofSeconds(30), r -> r.getCount().getValue() + " rule(s) removed");
            }
        }
    }

    /** {@code ctl hold await|release}. */
    @Command(name = "hold", description = "Calls parked by Hold rules.", subcommands = {HoldCmd.Await.class,
            HoldCmd.Release.class})
    static final class HoldCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }

        @Command(name = "await", description = "Wait until calls are parked at a latch; print them.")
        static final class Await implements Callable<Integer> {
            @ParentCommand
            HoldCmd hold;

            @Parameters(index = "0", paramLabel = "LATCH")
            String latch;

            @Option(names = "--min", defaultValue = "1")
            int min;

            @Option(names = "--timeout-ms", defaultValue = "30000")
            int timeoutMs;

            @Override
            public Integer call() {
                return hold.ctl.run(ControlRequest.newBuilder().setAwaitHold(AwaitHold.newBuilder().setLatch(latch)
                        .setMinCount(min).setTimeoutMs(timeoutMs)), Duration.ofMillis(timeoutMs).plusSeconds(10), r -> {
                            StringBuilder sb = new StringBuilder();
                            for (var c : r.getParked().getCallsList()) {
                                sb.append("parked #").append(c.getParkId()).append(' ').append(c.getName()).append(" from ")
                                        .append(c.getPartition()).append(" vcpu ").append(c.getVcpu()).append(" task ")
                                        .append(c.getTask()).append(' ').append(c.getWhen()).append(" args ")
                                        .append(c.getArgsList().stream().map(a -> "0x" + Long.toHexString(a)).toList())
                                        .append('\n');
                            }
                            return sb.toString().stripTrailing();
                        });
            }
        }

        @Command(name = "release", description = "Let parked calls go on, oldest first.")
        static final class Release implements Callable<Integer> {
            @ParentCommand
            HoldCmd hold;

            @Parameters(index = "0", paramLabel = "LATCH")
            String latch;

            @Option(names = "--count", defaultValue = "0", description = "How many (0 = all).")
            int count;

            @Override
            public Integer call() {
                return hold.ctl.run(ControlRequest.newBuilder().setReleaseHold(ReleaseHold.newBuilder().setLatch(latch)
                        .setCount(count)), Duration.ofSeconds(30), r -> r.getCount().getValue() + " call(s) released");
            }
        }
    }
}
