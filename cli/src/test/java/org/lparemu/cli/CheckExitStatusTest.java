package org.lparemu.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.HcallResult;
import org.lparemu.server.EmbeddedDaemon;

/**
 * {@code ctl check} exits 4 when an oracle fires, so a script tells a broken invariant from a clean check (0) and
 * from a request that failed (1). The violation is a real one: a vCPU parked in H_JOIN with no migration under way.
 */
@Timeout(60)
class CheckExitStatusTest {
    @Test
    void checkExitsFourOnAViolationZeroWhenCleanAndOneWhenTheRequestFails() throws Exception {
        try (EmbeddedDaemon d = EmbeddedDaemon.start();
             GuestConnection g = GuestConnection.connect("127.0.0.1", d.guestPort(), "lpar1", "no-events", false,
                     Duration.ofSeconds(10), Duration.ofSeconds(30))) {
            String port = Integer.toString(d.controlPort());
            CliRun clean = CliRun.of("ctl", "--port", port, "check", "lpar1");
            assertEquals(0, clean.code(), clean.out() + clean.err());

            CompletableFuture<HcallResult> parked = g.hcallAsync(0, Hcall.H_JOIN, new long[0], null, true);
            CliRun violated = CliRun.of("ctl", "--port", port, "check", "lpar1");
            assertEquals(4, violated.code(), violated.out() + violated.err());
            assertTrue(violated.out().contains("[hypervisor] vcpu-stuck-in-join at lpar1/vcpus [0]"), violated.out());
            assertTrue(violated.out().contains("1 violation(s); 1 partition(s) checked"), violated.out());
            CliRun all = CliRun.of("ctl", "--port", port, "check");
            assertEquals(4, all.code(), "every partition, one of them violated: " + all.out());

            assertEquals(HStatus.H_SUCCESS, g.hcall(1, Hcall.H_PROD, 0).status());
            assertEquals(HStatus.H_SUCCESS, parked.get(30, TimeUnit.SECONDS).status());
            CliRun healed = CliRun.of("ctl", "--port", port, "check", "lpar1");
            assertEquals(0, healed.code(), healed.out() + healed.err());

            CliRun failed = CliRun.of("ctl", "--port", port, "check", "no-such-partition");
            assertEquals(1, failed.code(), "a failed request is not a violation: " + failed.out() + failed.err());
        }
    }
}
