package org.lparemu.core.hypervisor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.lparemu.core.port.CallResult;

/**
 * Where the {@link CallPipeline} delivers one call's answer: exactly once, either {@code result} (an
 * {@link org.lparemu.core.port.HcallResult}, {@link org.lparemu.core.port.RtasResult} or
 * {@link org.lparemu.core.port.CallRefusal}) or {@code error} (the partition is gone, the caller's connection went
 * away). A call that nothing delays is answered on the dispatching thread before the dispatch returns; one that a
 * Delay, a Hold or a deferring handler (H_JOIN, ibm,suspend-me) holds back is answered later from the thread that
 * finishes it.
 *
 * <p>Why a callback and not a future: the daemon's and the in-process port's hot path answered through two or
 * three chained {@link CompletableFuture} stages per call (the pipeline's, the session's in-flight count, the
 * port's conversion), each an allocation and a completion walk. Here the transport passes one object that it
 * needed anyway (the daemon: the reply's call id; the in-process port: the future its caller waits on).
 * An answer must not block and should not throw (a throw is logged and dropped).
 */
@FunctionalInterface
public interface CallAnswer {
    void answer(CallResult result, Throwable error);

    /** A future that a call's answer completes: the adapter for callers that want a {@link CompletableFuture}. */
    final class Future extends CompletableFuture<CallResult> implements CallAnswer {
        @Override
        public void answer(CallResult result, Throwable error) {
            if (error != null) {
                completeExceptionally(wrap(error));
            } else {
                complete(result);
            }
        }

        /**
         * A failure as a dependent stage of a failed future carries it ({@link CompletionException} around the
         * cause), as the futures of the chained stages this replaces did: {@code get} and {@code join} unwrap
         * the same way, and whenComplete/exceptionally see the same exception.
         */
        static Throwable wrap(Throwable error) {
            return error instanceof CompletionException ? error : new CompletionException(error);
        }
    }
}
