package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * AwaitEvent racing the guest's ack: the answer is the ack, never UNKNOWN_EVENT. (Found by reading the code
 * while soaking: the ack removed the event from the pending table before recording it as recently acked, so
 * an AwaitEvent that looked in between found it in neither place.)
 */
@Timeout(60)
class AwaitEventRaceTest {
    static final int ROUNDS = 20_000;

    @Test
    void anAwaitRacingTheAckSeesTheAck() throws Exception {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            CyclicBarrier go = new CyclicBarrier(2);
            long[] id = new long[1];
            CompletableFuture<Void> acker = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < ROUNDS; i++) {
                        go.await();
                        g.port.ackEvent(id[0], 0, "round " + i);
                        go.await();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            int unknown = 0;
            for (int i = 0; i < ROUNDS; i++) {
                id[0] = rig.platform.setQosCredits("lpar1", i % 4);
                go.await();
                try {
                    assertEquals(0, rig.platform.awaitEvent(id[0], 10_000).get(10, TimeUnit.SECONDS).status());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof ControlException ce && ce.code() == ControlError.UNKNOWN_EVENT) {
                        unknown++;
                    } else {
                        throw e;
                    }
                }
                go.await();
                g.events.clear();
            }
            acker.get(10, TimeUnit.SECONDS);
            assertEquals(0, unknown, "AwaitEvent answered UNKNOWN_EVENT for an event being acknowledged, of " + ROUNDS);
        }
    }
}
