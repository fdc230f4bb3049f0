package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.trace.TraceKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VASI migration stream of a partition (one {@code Migrate}): its state machine, the ibm,suspend-me
 * attempts seen, and who waits for its end.
 *
 * <p>Confined to the owning partition's lock: a stream is reachable only through {@code Partition.migration} (annotated
 * {@code @GuardedBy("lock")}), so every access to the mutable fields below happens with {@code partition.lock} held.
 * Error Prone cannot follow that reachability (annotating these fields {@code @GuardedBy("partition.lock")} makes
 * it reject every caller that holds the same lock as {@code p.lock}), so the rule is stated here. Every state
 * change goes through {@link #transition}, which checks the edge ({@link VasiState#canBecome}), writes a
 * STATE trace record {@code "VASI old -> new (reason)"} and logs it.
 */
final class VasiStream {
    private static final Logger LOG = LoggerFactory.getLogger(VasiStream.class);

    // immutable
    final long streamId;
    final Partition partition;
    final ManagedSystem source;
    final ManagedSystem destination;
    final long startNanos;
    final long callsAtStart;

    // mutable: confined to partition.lock (see above)
    VasiState state = VasiState.INVALID;
    long eventId;
    final List<Integer> rtasStatuses = new ArrayList<>();
    String reason = "";
    /** The accepted ibm,suspend-me call, answered at resume. */
    CompletableFuture<CallResult> suspendCall;
    ScheduledFuture<?> readyTimer;
    ScheduledFuture<?> timeoutTimer;
    /** AwaitMigration callers waiting for the end. */
    final List<CompletableFuture<MigrationOutcome>> waiters = new ArrayList<>();
    /** Set when the stream ends. */
    MigrationOutcome outcome;

    VasiStream(long streamId, Partition partition, ManagedSystem source, ManagedSystem destination, long startNanos,
               long callsAtStart) {
        this.streamId = streamId;
        this.partition = partition;
        this.source = source;
        this.destination = destination;
        this.startNanos = startNanos;
        this.callsAtStart = callsAtStart;
    }

    /**
     * The only way the state changes: checks the edge, traces and logs {@code old -> new (reason)}.
     *
     * @throws IllegalStateException for an edge the state machine does not have (a bug in the caller)
     */
    void transition(VasiState next, String reason) {
        VasiState old = state;
        if (!old.canBecome(next)) {
            throw new IllegalStateException("stream " + streamId + ": VASI " + old + " -> " + next + " not allowed ("
                    + reason + ")");
        }
        state = next;
        String line = "VASI " + old + " -> " + next + " (" + reason + ")";
        partition.services.trace().note(TraceKind.STATE, partition.name, line, "stream " + streamId);
        LOG.info("{}: stream {}: {}", partition.name, streamId, line);
    }

    boolean active() {
        return state != VasiState.INVALID && !state.terminal();
    }

    PartitionView.MigrationView view() {
        return new PartitionView.MigrationView(streamId, state, source.name(), destination.name(),
                rtasStatuses.size(), List.copyOf(rtasStatuses), reason);
    }
}
