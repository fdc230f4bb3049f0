package org.lparemu.bench.figures;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import org.lparemu.client.ControlClient;
import org.lparemu.client.ControlClientException;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventAck;

/**
 * Awaiting a guest's event ack, working around a race in {@code Platform.awaitEvent}: {@code acknowledge} removes
 * the pending event under the partition lock but records it among the recent acks only after unlocking, so an
 * {@code awaitEvent} that runs in between finds it in neither place and answers UNKNOWN_EVENT for an event that is
 * being acknowledged that instant. Retrying for a short while is enough (pacing with parkNanos, no sleeps).
 */
final class Acks {
    private static final long RETRY_FOR_NANOS = TimeUnit.SECONDS.toNanos(2);

    private Acks() {
    }

    /** In process: waits for the ack of {@code eventId}. */
    static void await(Platform platform, long eventId, long timeoutMs) throws Exception {
        retrying(() -> {
            try {
                platform.awaitEvent(eventId, timeoutMs).get(timeoutMs, TimeUnit.MILLISECONDS);
                return null;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof ControlException ce && ce.code() == ControlError.UNKNOWN_EVENT) {
                    throw new Unknown();
                }
                throw new IllegalStateException("awaiting the ack of event " + eventId, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (TimeoutException e) {
                throw new IllegalStateException("no ack of event " + eventId + " within " + timeoutMs + " ms", e);
            }
        });
    }

    /** Over the control port: the ack of {@code eventId}. */
    static EventAck await(ControlClient control, long eventId, Duration timeout) {
        return retrying(() -> {
            try {
                return control.awaitEvent(eventId, timeout);
            } catch (ControlClientException e) {
                if (e.code() == ErrorCode.UNKNOWN_EVENT) {
                    throw new Unknown();
                }
                throw e;
            }
        });
    }

    private static <T> T retrying(Supplier<T> attempt) {
        long deadline = System.nanoTime() + RETRY_FOR_NANOS;
        while (true) {
            try {
                return attempt.get();
            } catch (Unknown e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the event stayed UNKNOWN_EVENT for 2 s");
                }
                LockSupport.parkNanos(20_000);
            }
        }
    }

    private static final class Unknown extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unknown() {
            super(null, null, false, false);
        }
    }
}
