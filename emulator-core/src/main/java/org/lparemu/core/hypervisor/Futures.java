package org.lparemu.core.hypervisor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Small future helpers the platform's parts share. */
final class Futures {
    private Futures() {
    }

    /** A copy of {@code f} that fails with TIMEOUT after {@code timeoutMs} (0 = no timeout). */
    static <T> CompletableFuture<T> withTimeout(ScheduledExecutorService timers, CompletableFuture<T> f, long timeoutMs,
                                                String what) {
        if (timeoutMs <= 0) {
            return f;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        ScheduledFuture<?> timer = timers.schedule(() -> out.completeExceptionally(
                new ControlException(ControlError.TIMEOUT, what + " within " + timeoutMs + " ms")),
                timeoutMs, TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> {
            timer.cancel(false);
            if (e != null) {
                out.completeExceptionally(unwrap(e));
            } else {
                out.complete(v);
            }
        });
        return out;
    }

    /** The cause of a completion wrapper, or {@code e} itself. */
    static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException c && c.getCause() != null ? c.getCause() : e;
    }
}
