package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_BUSY;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;

/**
 * Calls that arrive while the partition is suspended wait for the resume; {@code Limits.maxDeferredCalls}
 * bounds how many (beyond it: H_BUSY / RTAS busy at once). And a deferred call whose connection went away
 * before the resume is cancelled, not run: it must not allocate a window no guest knows of.
 */
@Timeout(30)
class DeferredCallsLimitTest {
    private static final long BLACKOUT_MS = 1_000;
    private static final PlatformConfig.Limits D = PlatformConfig.Limits.DEFAULT;

    private final Rig rig = new Rig(Rig.config(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 0, BLACKOUT_MS,
            0, 60_000), D.withMaxDeferredCalls(2)));
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    /** Migrate, join, suspend: returns the pending suspend-me call (answered at resume). */
    private CompletableFuture<RtasResult> suspend() {
        rig.platform.migrate("lpar1", "");
        g.nextEvent();
        g.joinAllBut(3);
        CompletableFuture<RtasResult> s = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
        assertTrue(rig.state("lpar1").suspended());
        return s;
    }

    @Test
    void callsBeyondTheDeferredLimitAnswerBusyAtOnceAndTheRestRunAfterResume() throws Exception {
        CompletableFuture<RtasResult> suspend = suspend();
        CompletableFuture<HcallResult> a = g.hcallAsync(3, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, Rig.BUF);
        CompletableFuture<HcallResult> b = g.hcallAsync(3, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, Rig.BUF);
        assertEquals(2, rig.state("lpar1").deferredCalls());
        assertEquals(H_BUSY, g.hcall(3, Hcall.H_QUERY_VAS_CAPABILITIES, Vas.QUERY_GZIP_DEFAULT, Rig.BUF).status());
        assertEquals(RtasStatus.BUSY, g.rtas(3, RtasService.ACTIVATE_FIRMWARE, null).status());
        assertEquals(2, rig.state("lpar1").deferredCalls(), "the refused calls were not queued");
        assertFalse(a.isDone() || b.isDone());

        rig.clock.advance(BLACKOUT_MS);
        assertEquals(RtasStatus.SUCCESS, Rig.await(suspend).status());
        assertEquals(H_SUCCESS, Rig.await(a).status());
        assertEquals(H_SUCCESS, Rig.await(b).status());
        assertEquals(0, rig.state("lpar1").deferredCalls());
    }

    @Test
    void aDeferredCallOfAConnectionThatWentAwayIsCancelledNotRun() {
        CompletableFuture<RtasResult> suspend = suspend();
        InProcessPort other = new InProcessPort(rig.platform, "lpar1", "vanishing", false);
        CompletableFuture<HcallResult> alloc = other.hcallAsync(0, Hcall.H_ALLOCATE_VAS_WINDOW,
                new long[] {Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID}, null);
        assertEquals(1, rig.state("lpar1").deferredCalls());
        other.close();

        rig.clock.advance(BLACKOUT_MS);
        assertEquals(RtasStatus.SUCCESS, Rig.await(suspend).status());
        ExecutionException e = Assertions.assertThrows(ExecutionException.class,
                () -> alloc.get(Rig.WAIT_S, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof PortException, e.toString());
        PartitionView after = rig.state("lpar1");
        assertEquals(List.of(), after.windows(), "no window was allocated for a guest that is gone");
        assertEquals(0, after.deferredCalls());
    }
}
