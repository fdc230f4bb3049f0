package org.lparemu.bench.figures;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.lparemu.core.guest.GuestConfig;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PseriesVas;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.guest.VirtualGuestClock;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.MigrationOutcome;
import org.lparemu.core.hypervisor.OperatorResults;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;

/**
 * Naive stress on the same world the explorer searches, with no scheduler of our own: each repetition is a fresh
 * {@link Platform} + {@link InProcessPort} + {@link GuestKernel} (real threads on the ThreadMachine, the kernel's
 * back-offs on a virtual clock), two racing tasks started together, and the same failure test as the explorer's
 * oracle. What a user gets by running the race in a loop.
 */
final class SimStress {
    static final String PARTITION = "lpar1";
    static final long WAIT_MS = 30_000;

    /** The race's two shapes, as the explorer's vas-open-vs-suspend and vas-open-vs-migration scenarios. */
    enum Shape {
        /** A task opens a window while drmgr's VAS SUSPEND runs; failure: a window outlives the SUSPEND. */
        SIMPLE,
        /** A task opens a window while the operator migrates; failure: ibm,suspend-me refused with -9006. */
        END_TO_END
    }

    private SimStress() {
    }

    /** One repetition; true when it failed the way the explorer's oracle would have said. */
    static boolean once(Shape shape, VasPolicy policy) throws Exception {
        try (Platform platform = new Platform(PlatformConfig.defaults());
             InProcessPort port = new InProcessPort(platform, PARTITION, "stress", true);
             GuestKernel kernel = GuestKernel.boot(port, GuestConfig.upstream("stress").withVasPolicy(policy)
                     .withClock(new VirtualGuestClock()))) {
            CompletableFuture<NxGzipDevice.OpenResult> opened = new CompletableFuture<>();
            Thread opener = new Thread(() -> {
                try {
                    opened.complete(kernel.nxGzip().open(false, 0));
                } catch (RuntimeException e) {
                    opened.completeExceptionally(e);
                }
            }, "opener");
            if (shape == Shape.SIMPLE) {
                CompletableFuture<Integer> suspended = new CompletableFuture<>();
                Thread drmgr = new Thread(() -> {
                    try {
                        suspended.complete(kernel.vas().migrationHandler(PseriesVas.MigrationAction.SUSPEND));
                    } catch (RuntimeException e) {
                        suspended.completeExceptionally(e);
                    }
                }, "drmgr");
                opener.start();
                drmgr.start();
                suspended.get(WAIT_MS, TimeUnit.MILLISECONDS);
                opened.get(WAIT_MS, TimeUnit.MILLISECONDS);
                opener.join(WAIT_MS);
                drmgr.join(WAIT_MS);
                return !platform.getStateWithoutTree(PARTITION).windows().isEmpty();
            }
            opener.start();
            OperatorResults.MigrateResult m = platform.migrate(PARTITION, null);
            MigrationOutcome o = platform.awaitMigration(PARTITION, WAIT_MS).get(WAIT_MS, TimeUnit.MILLISECONDS);
            platform.awaitEvent(m.eventId(), WAIT_MS).get(WAIT_MS, TimeUnit.MILLISECONDS);
            opened.get(WAIT_MS, TimeUnit.MILLISECONDS);
            opener.join(WAIT_MS);
            return o.rtasStatuses().contains(platform.config().hypervisor().suspendRefusalStatus());
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("a stress repetition did not finish: " + e, e);
        }
    }

    /** Repetitions for {@code budgetNanos}: {repetitions, failures, seconds}. */
    static double[] run(Shape shape, VasPolicy policy, long budgetNanos) throws Exception {
        long t0 = System.nanoTime();
        long reps = 0;
        long hits = 0;
        while (System.nanoTime() - t0 < budgetNanos) {
            if (once(shape, policy)) {
                hits++;
            }
            reps++;
        }
        return new double[] {reps, hits, (System.nanoTime() - t0) / 1e9};
    }
}
