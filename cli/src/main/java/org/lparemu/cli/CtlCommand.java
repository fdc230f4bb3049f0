package org.lparemu.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.core.port.PortException;
import org.lparemu.demo.ChromeTrace;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.CreatePartition;
import org.lparemu.proto.v1.DeletePartition;
import org.lparemu.proto.v1.GetState;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.Reset;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code lparemu ctl <op>}: one subcommand per control operation. Human-readable output by default,
 * {@code --json} for the response as protobuf JSON. Exit status: 0 ok, 1 the daemon answered an error,
 * 2 usage, 3 the daemon is unreachable.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = "Talk to a running daemon's control port.",
        subcommands = {CtlCommand.Partitions.class, CtlCommand.State.class, CtlCommand.Create.class,
                CtlCommand.Delete.class, CtlCommand.ResetCmd.class, CtlOps.MigrateCmd.class, CtlOps.AwaitMigrationCmd.class,
                CtlOps.PrrnCmd.class, CtlOps.DlparCmd.class, CtlOps.QosCmd.class, CtlOps.FaultCmd.class,
                CtlOps.HoldCmd.class, CtlOps.CheckCmd.class, CtlCommand.Trace.class, CtlCommand.AwaitEvent.class})
final class CtlCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", scope = CommandLine.ScopeType.INHERIT,
            description = "Daemon host (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "7721", scope = CommandLine.ScopeType.INHERIT,
            description = "Control port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--token", scope = CommandLine.ScopeType.INHERIT,
            description = "Control token, if the daemon requires one (or env LPAREMU_CONTROL_TOKEN).")
    String token;

    @Option(names = "--json", scope = CommandLine.ScopeType.INHERIT, description = "Print the response as JSON.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.out);
        return 0;
    }

    /** Connects, runs one request, prints it; maps failures to exit codes. */
    int run(ControlRequest.Builder req, Duration wait, Function<ControlResponse, String> human) {
        String tok = token != null ? token : System.getenv("LPAREMU_CONTROL_TOKEN");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ControlClient client;
        try {
            client = ControlClient.connect(host, port, tok, Duration.ofSeconds(5));
        } catch (PortException e) {
            err.println("lparemu ctl: " + e.getMessage());
            return 3;
        }
        try (client) {
            ControlResponse r = client.request(req, wait);
            out.println(json ? json(r) : human.apply(r));
            out.flush();
            return 0;
        } catch (ControlClientException e) {
            err.println("lparemu ctl: " + e.getMessage());
            return 1;
        } catch (PortException e) {
            err.println("lparemu ctl: " + e.getMessage());
            return 3;
        }
    }

    static String json(MessageOrBuilder m) {
        try {
            return JsonFormat.printer().print(m);
        } catch (InvalidProtocolBufferException e) {
            throw new LparemuCli.CliException("cannot print JSON: " + e.getMessage());
        }
    }

    @Command(name = "partitions", description = "List partitions.")
    static final class Partitions implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setListPartitions(
                    ListPartitions.getDefaultInstance()), Duration.ofSeconds(30),
                    Render::partitions);
        }
    }

    @Command(name = "state", description = "Show one partition's hypervisor state.")
    static final class State implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @CommandLine.Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Option(names = "--device-tree", description = "Also print the platform's device tree.")
        boolean deviceTree;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setGetState(
                    GetState.newBuilder().setPartition(partition)), Duration.ofSeconds(30),
                    r -> Render.state(r.getPartition(), deviceTree));
        }
    }

    @Command(name = "create", description = "Create a partition (unset options take the daemon's defaults).")
    static final class Create implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @CommandLine.Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Option(names = "--vcpus")
        int vcpus;

        @Option(names = "--cores")
        int cores;

        @Option(names = "--shared", description = "Shared-processor partition.")
        boolean shared;

        @Option(names = "--qos-credits")
        Integer qos;

        @Option(names = "--system")
        String system;

        @Override
        public Integer call() {
            var spec = PartitionSpec.newBuilder().setName(name).setVcpus(vcpus).setCores(cores)
                    .setSharedProcessor(shared);
            if (qos != null) {
                spec.setQosCredits(qos);
            }
            if (system != null) {
                spec.setSystem(system);
            }
            return ctl.run(ControlRequest.newBuilder().setCreatePartition(
                    CreatePartition.newBuilder().setSpec(spec)), Duration.ofSeconds(30),
                    r -> "created " + Render.state(r.getPartition(), false));
        }
    }

    @Command(name = "delete", description = "Delete a partition (its guests are disconnected).")
    static final class Delete implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @CommandLine.Parameters(index = "0", paramLabel = "PARTITION")
        String partition;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setDeletePartition(
                    DeletePartition.newBuilder().setPartition(partition)), Duration.ofSeconds(30),
                    r -> "deleted " + partition);
        }
    }

    @Command(name = "reset", description = "Reset the daemon: partitions, faults, holds and traces as at start.")
    static final class ResetCmd implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setReset(Reset.getDefaultInstance()),
                    Duration.ofSeconds(30), r -> "reset");
        }
    }

    @Command(name = "trace", description = "Print trace records (hcalls, RTAS calls, events, state changes).")
    static final class Trace implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @Option(names = "--partition", defaultValue = "", description = "Only this partition's records.")
        String partition;

        @Option(names = "--since", defaultValue = "0", description = "Only records after this sequence number.")
        long since;

        @Option(names = "--max", defaultValue = "10000", description = "At most this many records (default ${DEFAULT-VALUE}).")
        int max;

        @Option(names = "--chrome", paramLabel = "FILE",
                description = "Write Chrome trace-event JSON (open in Perfetto or chrome://tracing).")
        Path chrome;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setGetTrace(GetTrace.newBuilder()
                    .setPartition(partition).setSinceSeq(since).setMaxRecords(max)), Duration.ofSeconds(30), r -> {
                        if (chrome != null) {
                            try {
                                Files.writeString(chrome, ChromeTrace.toJson(r.getTrace().getRecordsList()),
                                        StandardCharsets.UTF_8);
                            } catch (IOException e) {
                                throw new LparemuCli.CliException("cannot write " + chrome + ": " + e.getMessage());
                            }
                            return "wrote " + r.getTrace().getRecordsCount() + " records to " + chrome;
                        }
                        return Render.trace(r.getTrace());
                    });
        }
    }

    @Command(name = "await-event", description = "Wait for the guest's ack of a pushed event.")
    static final class AwaitEvent implements Callable<Integer> {
        @ParentCommand
        CtlCommand ctl;

        @CommandLine.Parameters(index = "0", paramLabel = "EVENT_ID")
        long eventId;

        @Option(names = "--timeout-ms", defaultValue = "30000")
        int timeoutMs;

        @Override
        public Integer call() {
            return ctl.run(ControlRequest.newBuilder().setAwaitEvent(org.lparemu.proto.v1.AwaitEvent.newBuilder()
                    .setEventId(eventId).setTimeoutMs(timeoutMs)), Duration.ofMillis(timeoutMs).plusSeconds(10),
                    r -> "event " + eventId + " acknowledged: status " + r.getEventAck().getStatus()
                            + (r.getEventAck().getDetail().isEmpty() ? "" : " (" + r.getEventAck().getDetail() + ")"));
        }
    }
}
