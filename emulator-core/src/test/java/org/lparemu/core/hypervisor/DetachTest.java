package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_HARDWARE;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallRefusedException;
import org.lparemu.core.port.HcallResult;

/**
 * The order of a connection's end (Platform.detach): its H_JOINs are failed at once, but the connection is forgotten
 * only once the last of those calls has left its vCPU. The platform's executor is gated here, so the window between
 * the two is held open and looked at, instead of being raced.
 */
@Timeout(20)
class DetachTest {
    private final GatedExecutor executor = new GatedExecutor();
    private final Platform platform = new Platform(Rig.config(PlatformConfig.HypervisorOptions.DEFAULT,
            PlatformConfig.Limits.DEFAULT), executor);

    @AfterEach
    void close() {
        platform.close();
        executor.shutdownNow();
    }

    @Test
    void aGoneConnectionIsListedClosingUntilItsJoinsHaveLeftTheirVcpus() {
        InProcessPort a = new InProcessPort(platform, "lpar1");
        List<CompletableFuture<HcallResult>> joins = new ArrayList<>();
        for (int v = 1; v < 4; v++) {
            joins.add(a.hcallAsync(v, Hcall.H_JOIN, new long[0], null, true));
        }
        assertEquals(List.of(1, 2, 3), platform.getState("lpar1").joinedVcpus());

        a.close();
        PartitionView s = platform.getState("lpar1");
        assertEquals(List.of(), s.joinedVcpus(), "the joins are cancelled at once");
        assertEquals(1, s.connections().size(), "but the connection is not forgotten while its calls hold vCPUs");
        PartitionView.ConnectionView gone = s.connections().get(0);
        assertTrue(gone.closing());
        assertEquals(3, gone.callsInFlight());
        joins.forEach(f -> assertFalse(f.isDone(), "the failures wait for the executor"));

        InProcessPort b = new InProcessPort(platform, "lpar1");
        CallRefusedException e = assertThrows(CallRefusedException.class,
                () -> b.hcall(2, Hcall.H_PROD, new long[] {0}, null, false));
        assertEquals(CallRefusal.Reason.VCPU_BUSY, e.refusal().reason(), "vCPU 2 is still inside H_JOIN");

        assertEquals(3, executor.runQueued());
        joins.forEach(f -> assertEquals(H_HARDWARE, Rig.await(f).status()));
        PartitionView after = platform.getState("lpar1");
        assertEquals(List.of(b.session().id()), after.connections().stream().map(c -> c.id()).toList(),
                "forgotten once its last call left its vCPU");
        assertFalse(after.connections().get(0).closing());
        assertTrue(after.vcpus().stream().allMatch(v -> v.inCall().isEmpty()), after.vcpus().toString());
        assertEquals(H_SUCCESS, b.hcall(2, Hcall.H_PROD, new long[] {0}, null, false).status(), "vCPU 2 is free");
    }

    @Test
    void aConnectionWithNothingInFlightIsForgottenAtOnce() {
        InProcessPort a = new InProcessPort(platform, "lpar1");
        assertEquals(H_SUCCESS, a.hcall(0, Hcall.H_PROD, new long[] {1}, null, false).status());
        assertEquals(1, platform.getState("lpar1").connections().size());
        a.close();
        assertEquals(List.of(), platform.getState("lpar1").connections());
        assertEquals(0, executor.runQueued());
    }

    /** Runs what the platform hands its executor only when the test says so; timers never fire. */
    private static final class GatedExecutor extends AbstractExecutorService implements ScheduledExecutorService {
        private final ManualScheduler timers = new ManualScheduler();
        private final ConcurrentLinkedQueue<Runnable> queued = new ConcurrentLinkedQueue<>();

        int runQueued() {
            int n = 0;
            for (Runnable r = queued.poll(); r != null; r = queued.poll()) {
                r.run();
                n++;
            }
            return n;
        }

        @Override
        public void execute(Runnable command) {
            queued.add(command);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return timers.schedule(command, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return timers.schedule(callable, delay, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return timers.scheduleAtFixedRate(command, initialDelay, period, unit);
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            return timers.scheduleWithFixedDelay(command, initialDelay, delay, unit);
        }

        @Override
        public void shutdown() {
            timers.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            return timers.shutdownNow();
        }

        @Override
        public boolean isShutdown() {
            return timers.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return timers.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return timers.awaitTermination(timeout, unit);
        }
    }
}
