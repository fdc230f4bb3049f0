package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.Violation;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;

/**
 * Coverage-guided fuzzing of the dispatcher, in process: a real {@link Platform} (the {@link Rig}'s two systems and
 * two partitions, manual time) and one {@link InProcessPort} per partition, driven by any sequence of up to 48 steps:
 * an hcall with an opcode from the dispatch table or any opcode, an RTAS call to a registered service or any name,
 * each with any arguments, buffer or work area and any vCPU (the partition's, and a few that do not exist), and the
 * operator's actions that move a guest into the paths only a migration opens (migrate, time passing).
 *
 * <p>Invariants after every step: every call answered so far is a typed answer (an HcallResult for an hcall, an
 * RtasResult for an RTAS call, or a CallRefusal), never an exception; a call not answered yet is one that waits
 * (H_JOIN, ibm,suspend-me, H_CEDE ...) and occupies its vCPU; the hypervisor oracle
 * ({@link InvariantChecker#hypervisor}) is clean on both partitions; the state stays bounded (windows within the
 * partition limit, calls in flight within the steps taken). Without JAZZER_FUZZ=1 (mvn verify) this runs the stored
 * inputs in DispatcherFuzzTestInputs/ only.
 */
class DispatcherFuzzTest {
    private static final int MAX_STEPS = 48;
    private static final int MAX_WINDOWS = 16;
    private static final String[] PARTITIONS = {"lpar1", "lpar2"};
    /** One scheduler for every input (a thread each would dominate); time only moves when a step says so. */
    private static final ManualScheduler CLOCK = new ManualScheduler();
    /**
     * Oracles that judge the guest, not the hypervisor: a guest may call H_JOIN outside a migration (the hypervisor
     * parks the vCPU, as PowerVM does, and the oracle reports the stuck vCPU), which is no inconsistency of the dispatcher.
     */
    private static final Set<String> GUEST_MADE = Set.of("vcpu-stuck-in-join");
    private static final PlatformConfig CONFIG = Rig.config(PlatformConfig.HypervisorOptions.DEFAULT,
            PlatformConfig.Limits.DEFAULT.withTraceCapacity(256).withMaxWindowsPerPartition(MAX_WINDOWS));

    private record Call(boolean hcall, String what, CompletableFuture<CallResult> answer) {
    }

    @FuzzTest(maxDuration = "20m", maxExecutions = 1_000_000)
    @Timeout(1500)
    void anyCallSequenceGetsTypedAnswersAndKeepsTheHypervisorConsistent(FuzzedDataProvider data) throws Exception {
        Platform platform = new Platform(CONFIG, CLOCK);
        List<Call> calls = new ArrayList<>();
        try {
            List<Long> opcodes = platform.dispatchTable().hcalls().keySet().stream().sorted().toList();
            List<String> services = platform.dispatchTable().rtasServices().keySet().stream().sorted().toList();
            InProcessPort[] ports = {new InProcessPort(platform, PARTITIONS[0]), new InProcessPort(platform, PARTITIONS[1])};
            for (int step = 0; step < MAX_STEPS && data.remainingBytes() > 0; step++) {
                int p = data.consumeInt(0, 1);
                GuestSession s = ports[p].session();
                int vcpu = data.consumeInt(-1, 5);
                int kind = data.consumeInt(0, 7);
                switch (kind) {
                    case 0, 1, 2, 3 -> {
                        long opcode = kind == 3 ? data.consumeLong() : opcodes.get(data.consumeInt(0, opcodes.size() - 1));
                        long[] args = args(data);
                        byte[] buffer = data.consumeBoolean() ? null : data.consumeBytes(64);
                        calls.add(new Call(true, "hcall 0x" + Long.toHexString(opcode) + " on vCPU " + vcpu,
                                s.hcall(vcpu, opcode, args, buffer, "fuzz", data.consumeBoolean())));
                    }
                    case 4, 5 -> {
                        String service = kind == 5 ? data.consumeString(24) : services.get(data.consumeInt(0, services.size() - 1));
                        long[] args = args(data);
                        byte[] workArea = workArea(data);
                        calls.add(new Call(false, "rtas " + service + " on vCPU " + vcpu,
                                s.rtas(vcpu, service, args, workArea, "fuzz")));
                    }
                    case 6 -> operator(platform, data, PARTITIONS[p]);
                    default -> CLOCK.advance(data.consumeInt(0, 120_000));
                }
                drain();
                check(platform, calls, step + 1);
            }
        } finally {
            platform.close();
            // Fire whatever this platform left on the shared clock, so that no timer reaches into the next input.
            CLOCK.advance(TimeUnit.DAYS.toMillis(1));
            drain();
        }
    }

    private static long[] args(FuzzedDataProvider data) {
        long[] args = new long[data.consumeInt(0, 9)];
        for (int i = 0; i < args.length; i++) {
            // Small values reach the handlers' legal ranges (window types, counts, flags); any long the rest.
            args[i] = data.consumeBoolean() ? data.consumeLong(-2, 64) : data.consumeLong();
        }
        return args;
    }

    private static byte[] workArea(FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 2)) {
            case 0 -> null;
            case 1 -> data.consumeBytes(64);
            default -> {
                byte[] head = data.consumeBytes(RtasService.WORK_AREA_SIZE);
                byte[] wa = new byte[RtasService.WORK_AREA_SIZE];
                System.arraycopy(head, 0, wa, 0, head.length);
                yield wa;
            }
        };
    }

    private static void operator(Platform platform, FuzzedDataProvider data, String partition) {
        try {
            switch (data.consumeInt(0, 2)) {
                case 0 -> platform.migrate(partition, null);
                case 1 -> platform.dlparCpu(partition, data.consumeBoolean(), data.consumeInt(0, 3));
                default -> platform.migrate(partition, data.consumeString(12));
            }
        } catch (ControlException | IllegalArgumentException refused) {
            // The operator's typed refusal (a migration already under way, an unknown system, no core to remove ...).
        }
    }

    /** Runs every completion the steps so far queued on the scheduler's worker (and what those queued in turn). */
    private static void drain() throws Exception {
        for (int i = 0; i < 3; i++) {
            CLOCK.submit(() -> { }).get(10, TimeUnit.SECONDS);
        }
    }

    private static void check(Platform platform, List<Call> calls, int steps) {
        for (Call c : calls) {
            if (!c.answer().isDone()) {
                continue;
            }
            CallResult r;
            try {
                r = c.answer().join();
            } catch (CompletionException e) {
                throw new AssertionError(c.what() + " failed instead of answering", e.getCause());
            }
            boolean typed = r instanceof CallRefusal || (c.hcall() ? r instanceof HcallResult : r instanceof RtasResult);
            assertTrue(typed, c.what() + " answered " + r);
        }
        int vcpus = 0;
        for (String name : PARTITIONS) {
            PartitionView v = platform.getStateWithoutTree(name);
            vcpus += v.vcpus().size();
            List<Violation> violations = InvariantChecker.hypervisor(v, platform.system(v.system())).stream()
                    .filter(x -> !GUEST_MADE.contains(x.name())).toList();
            assertEquals(List.of(), violations, name);
            assertTrue(v.windows().size() <= MAX_WINDOWS, name + " has " + v.windows().size() + " windows");
            for (PartitionView.ConnectionView conn : v.connections()) {
                assertTrue(conn.callsInFlight() <= steps, conn + " after " + steps + " steps");
            }
        }
        // A call that waits occupies its vCPU, and a call on an occupied vCPU is refused: never more waiting than vCPUs.
        long waiting = calls.stream().filter(c -> !c.answer().isDone()).count();
        if (waiting > vcpus) {
            fail(waiting + " calls waiting on " + vcpus + " vCPUs: " + calls.stream().filter(c -> !c.answer().isDone())
                    .map(Call::what).toList());
        }
    }
}
