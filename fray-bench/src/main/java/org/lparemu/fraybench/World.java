package org.lparemu.fraybench;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
 * The unmodified in-process world, fresh for every execution: a {@link Platform} with the default configuration,
 * an {@link InProcessPort} for {@code lpar1} and a {@link GuestKernel} (its tasks on real threads, on a
 * {@link VirtualGuestClock} as in benchmark B6). Nothing here knows about Fray: the same bodies run under Fray's
 * schedulers and as naive stress on plain threads.
 */
public final class World implements AutoCloseable {
    static final String PARTITION = "lpar1";
    static final long WAIT_MS = 30_000;

    final Platform platform = new Platform(PlatformConfig.defaults());
    final InProcessPort port;
    final GuestKernel kernel;

    World(VasPolicy policy) {
        port = new InProcessPort(platform, PARTITION, "fray-bench", true);
        kernel = GuestKernel.boot(port, GuestConfig.upstream("fray-bench").withVasPolicy(policy)
                .withClock(new VirtualGuestClock()));
    }

    /** The two races, each one execution in a fresh world. */
    public enum Scenario {
        /**
         * One task opens an NX-GZIP window while another ("drmgr") runs the VAS SUSPEND handler. Fails when, after
         * both finished, the hypervisor still holds a window: SUSPEND returned with the migration flag set, so
         * every window open at that point must have been closed or refused (the 2023 race leaves the half-open one).
         */
        SIMPLE,
        /**
         * The operator migrates lpar1 and awaits the outcome while a task opens a window; the guest's drmgr, its
         * per-vCPU H_JOIN threads and the platform's timers run as they do. Fails when the migration's RTAS
         * statuses contain the suspend refusal (-9006: a window still existed at ibm,suspend-me).
         */
        END_TO_END;

        /** The id used in results: {@code simple} or {@code end-to-end}. */
        public String id() {
            return this == SIMPLE ? "simple" : "end-to-end";
        }

        /** Runs one execution; returns the failure's description, or null when the execution was clean. */
        public String once(VasPolicy policy) throws Exception {
            try (World w = new World(policy)) {
                return this == SIMPLE ? w.simple() : w.endToEnd();
            }
        }
    }

    private String simple() throws InterruptedException {
        AtomicReference<NxGzipDevice.OpenResult> opened = new AtomicReference<>();
        AtomicReference<Integer> suspended = new AtomicReference<>();
        Thread opener = new Thread(() -> opened.set(kernel.nxGzip().open(false, 0)), "opener");
        Thread drmgr = new Thread(() -> suspended.set(kernel.vas().migrationHandler(PseriesVas.MigrationAction.SUSPEND)),
                "drmgr");
        opener.start();
        drmgr.start();
        opener.join();
        drmgr.join();
        List<?> left = platform.getState(PARTITION).windows();
        if (!left.isEmpty()) {
            return "after SUSPEND (rc " + suspended.get() + ") and the open (" + opened.get() + ") the hypervisor holds "
                    + left.size() + " window(s)";
        }
        return null;
    }

    private String endToEnd() throws Exception {
        AtomicReference<NxGzipDevice.OpenResult> opened = new AtomicReference<>();
        Thread opener = new Thread(() -> opened.set(kernel.nxGzip().open(false, 0)), "opener");
        opener.start();
        OperatorResults.MigrateResult m = platform.migrate(PARTITION, null);
        MigrationOutcome o = platform.awaitMigration(PARTITION, WAIT_MS).get(WAIT_MS, TimeUnit.MILLISECONDS);
        platform.awaitEvent(m.eventId(), WAIT_MS).get(WAIT_MS, TimeUnit.MILLISECONDS);
        opener.join();
        int refusal = platform.config().hypervisor().suspendRefusalStatus();
        if (!o.success() && o.rtasStatuses().contains(refusal)) {
            return "ibm,suspend-me refused with " + refusal + " (statuses " + o.rtasStatuses() + "; open " + opened.get()
                    + ")";
        }
        return null;
    }

    @Override
    public void close() {
        kernel.close();
        port.close();
        platform.close();
    }
}
