package org.lparemu.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.opentest4j.AssertionFailedError;

/**
 * Keeps {@link InstantHcallPort}, the jcstress tests' hypervisor stub, in agreement with the real {@link Platform}
 * on what those tests conclude from: the same guest VAS code (the real {@link PseriesVas}, booted on each) is driven
 * through the same seeded sequence of opens, closes and migration SUSPEND / RESUME, and after every step both sides
 * must return the same result, count the same windows allocated in the hypervisor (what suspend checks and what
 * the tests' {@code windowsLive()} reports) and keep the guest's invariants. The stub's deliberate departures
 * (H_JOIN's fixed two-vCPU rendezvous, no argument or credit checks) are outside what the VAS tests use; a guest
 * that stays within the real partition's credits never meets them.
 */
@Timeout(60)
class InstantHcallPortDifferentialTest {
    /** Seeds 1 to SEQUENCES, the same in every run; a failure names its seed, {@code -Dlparemu.diff.seed=N} replays it. */
    private static final int SEQUENCES = 60;
    private static final int STEPS = 80;

    private final Platform platform = new Platform(PlatformConfig.defaults());
    private final List<InProcessPort> ports = new ArrayList<>();

    @AfterEach
    void close() {
        ports.forEach(InProcessPort::close);
        platform.close();
    }

    @Test
    void theStubAndThePlatformAgreeOnEverySeededSequence() {
        String one = System.getProperty("lparemu.diff.seed");
        if (one != null) {
            run(Long.parseLong(one));
            return;
        }
        for (long seed = 1; seed <= SEQUENCES; seed++) {
            run(seed);
        }
    }

    @Test
    void aStubThatLosesOneDeallocationIsCaught() {
        // The differential check's own power: a stub that answers one H_DEALLOCATE_VAS_WINDOW without freeing the
        // window (so its windowsLive() overcounts from then on) must be reported, with its seed.
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> run(7, () -> new Side(new LosesOneDeallocation())));
        assertTrue(e.getMessage().contains("windows allocated in the hypervisor, seed 7"), e.getMessage());
    }

    private void run(long seed) {
        run(seed, () -> new Side(new InstantHcallPort()));
    }

    private void run(long seed, Supplier<Side> stubSide) {
        String partition = "lpar-" + seed;
        Side real = realSide(partition);
        Side stub = stubSide.get();
        PartitionView.CreditView credits = platform.getState(partition).credits().stream()
                .filter(c -> c.winType() == Vas.WIN_TYPE_DEFAULT).findFirst().orElseThrow();
        int maxOpen = Math.min(8, credits.target());
        SplittableRandom rnd = new SplittableRandom(seed);
        List<String> log = new ArrayList<>();
        boolean suspended = false;
        for (int step = 0; step < STEPS; step++) {
            String op;
            int r1;
            int r2;
            int pick = rnd.nextInt(10);
            if (suspended && pick < 2) {
                op = "RESUME";
                r1 = real.vas.migrationHandler(PseriesVas.MigrationAction.RESUME);
                r2 = stub.vas.migrationHandler(PseriesVas.MigrationAction.RESUME);
                suspended = false;
            } else if (!suspended && pick == 0) {
                op = "SUSPEND";
                r1 = real.vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
                r2 = stub.vas.migrationHandler(PseriesVas.MigrationAction.SUSPEND);
                suspended = true;
            } else if (pick < 6 && real.open.size() < maxOpen) {
                op = "open";
                r1 = real.open();
                r2 = stub.open();
            } else if (!real.open.isEmpty()) {
                int i = rnd.nextInt(real.open.size());
                op = "close #" + i;
                r1 = real.close(i);
                r2 = stub.close(i);
            } else {
                continue;
            }
            log.add(op + " -> " + r1);
            String where = "seed " + seed + " (replay: -Dlparemu.diff.seed=" + seed + "), step " + step + ", after "
                    + log;
            assertEquals(r1, r2, "result of " + op + ", " + where);
            assertEquals(real.windowsInHypervisor(), stub.windowsInHypervisor(),
                    "windows allocated in the hypervisor, " + where);
            assertEquals(List.of(), real.vas.checkInvariants(), "real side's invariants, " + where);
            assertEquals(List.of(), stub.vas.checkInvariants(), "stub side's invariants, " + where);
        }
    }

    private Side realSide(String partition) {
        platform.createPartition(PartitionSpec.named(partition));
        InProcessPort port = new InProcessPort(platform, partition);
        ports.add(port);
        return new Side(port, () -> platform.getState(partition).windows().size());
    }

    /** One booted guest VAS over one port, with the windows its tasks hold open. */
    private static final class Side {
        final PseriesVas vas;
        final List<VasWindow> open = new ArrayList<>();
        private final IntSupplier windowsInHypervisor;

        Side(InstantHcallPort stub) {
            this(stub, stub::windowsLive);
        }

        Side(HcallPort port, IntSupplier windowsInHypervisor) {
            this.windowsInHypervisor = windowsInHypervisor;
            vas = new PseriesVas(StubKernel.calls(port, StubKernel.machine()), VasPolicy.UPSTREAM, new ErrorCounters());
            assertEquals(0, vas.pseriesVasInit(), "boot");
        }

        int windowsInHypervisor() {
            return windowsInHypervisor.getAsInt();
        }

        /** A task opens a Default window: 1, or the negative errno. */
        int open() {
            try {
                open.add(vas.allocateWindow(0, 0, 1000));
                return 1;
            } catch (VasException e) {
                return e.rc();
            }
        }

        int close(int i) {
            return vas.deallocateWindow(open.remove(i));
        }

    }

    /** The stub, except that its first H_DEALLOCATE_VAS_WINDOW succeeds without freeing the window. */
    private static final class LosesOneDeallocation extends InstantHcallPort {
        private boolean lost;

        @Override
        public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
            if (opcode == Hcall.H_DEALLOCATE_VAS_WINDOW && !lost) {
                lost = true;
                return HcallResult.success();
            }
            return super.hcall(vcpu, opcode, args, buffer, interruptsDisabled);
        }
    }
}
