package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;

/**
 * One guest call as a handler sees it: who made it, its arguments and buffer, and the partition it runs
 * against. Handlers run under {@code partition.lock}; they read arguments into named locals on their first
 * lines and return a PAPR status directly.
 *
 * <p>A handler that cannot answer at once (H_JOIN waiting for the other vCPUs, ibm,suspend-me waiting for
 * the resume) calls {@link #defer()} and returns {@link #PENDING_HCALL} / {@link #PENDING_RTAS} (the pipeline
 * looks at {@link #isDeferred()}, not at the value); whoever completes the returned future later does so from
 * any thread (the pipeline continues off the lock).
 *
 * <p>Handlers reach the rest of the platform only through {@link #services()}.
 *
 * <p>Not final only so that the pipeline's own per-call object can be the context too (one allocation per call
 * instead of two); the constructor is package-private, so no other code can extend it.
 */
public class CallContext {
    /** Marker return value of a deferred hcall handler. */
    public static final HcallResult PENDING_HCALL = new HcallResult(Long.MIN_VALUE, null, null);
    /** Marker return value of a deferred RTAS handler. */
    public static final RtasResult PENDING_RTAS = new RtasResult(Integer.MIN_VALUE, null, null);

    private static final long[] NO_ARGS = new long[0];
    private static final byte[] NO_DATA = new byte[0];

    private final PlatformServices services;
    private final Partition partition;
    private final GuestSession session;
    private final int vcpu;
    private final String task;
    private final long opcode;
    private final String service;
    private final long[] args;
    private final boolean interruptsDisabled;
    private final byte[] data;
    private CompletableFuture<CallResult> deferred;
    private List<Runnable> afterUnlock;

    CallContext(PlatformServices services, Partition partition, GuestSession session, int vcpu, String task, long opcode,
                String service, long[] args, byte[] data, boolean interruptsDisabled) {
        this.services = services;
        this.partition = partition;
        this.session = session;
        this.vcpu = vcpu;
        this.task = task == null ? "" : task;
        this.opcode = opcode;
        this.service = service;
        this.args = args == null ? NO_ARGS : args;
        this.data = data == null ? NO_DATA : data;
        this.interruptsDisabled = interruptsDisabled;
    }

    /** Configuration, trace, timers and events: what a handler may use beyond its partition. */
    public PlatformServices services() {
        return services;
    }

    public Partition partition() {
        return partition;
    }

    /** The connection that made the call (null for calls the platform makes itself). */
    public GuestSession session() {
        return session;
    }

    public int vcpu() {
        return vcpu;
    }

    public String task() {
        return task;
    }

    public long opcode() {
        return opcode;
    }

    /** MSR[EE] was 0 at the call: the caller runs with external interrupts disabled. */
    public boolean interruptsDisabled() {
        return interruptsDisabled;
    }

    /** RTAS service name, or null for an hcall. */
    public String service() {
        return service;
    }

    public boolean isRtas() {
        return service != null;
    }

    /** Argument register i (R4 = 0), or 0 when the caller passed fewer. */
    public long arg(int i) {
        return i < args.length ? args[i] : 0;
    }

    public int argCount() {
        return args.length;
    }

    public long[] args() {
        return args.clone();
    }

    /** Input buffer (hcall) or work area (RTAS); empty when none was passed. Not a copy: do not modify. */
    public byte[] data() {
        return data;
    }

    /**
     * Marks the call as answered later and returns the future to complete with an {@link HcallResult} or an
     * {@link RtasResult}. Complete it off the partition lock: through {@link #afterUnlock}, or from a task on
     * the platform executor.
     */
    public CompletableFuture<CallResult> defer() {
        if (deferred == null) {
            deferred = new CompletableFuture<>();
        }
        return deferred;
    }

    CompletableFuture<CallResult> deferredFuture() {
        return deferred;
    }

    /** Whether the handler deferred its answer. */
    boolean isDeferred() {
        return deferred != null;
    }

    /**
     * Work the handler wants done once the partition lock is released (completing other calls' deferred
     * futures, AwaitMigration waiters). Run by the dispatcher in registration order, on the calling thread.
     */
    public void afterUnlock(Runnable r) {
        if (afterUnlock == null) {
            afterUnlock = new ArrayList<>();
        }
        afterUnlock.add(r);
    }

    /** Runs and forgets what {@link #afterUnlock} collected. Caller does not hold the partition lock. */
    void runAfterUnlock() {
        if (afterUnlock == null) {
            return;
        }
        List<Runnable> todo = afterUnlock;
        afterUnlock = null;
        for (Runnable r : todo) {
            r.run();
        }
    }

    /** "H_JOIN vcpu 2" style label for logs. */
    public String label() {
        return (service != null ? service : Hcall.name(opcode)) + " vcpu " + vcpu;
    }
}
