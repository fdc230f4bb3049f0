package org.lparemu.core.hypervisor;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.trace.TraceKind;

/**
 * One guest connection bound to a partition (after Hello). The transport calls in here; the platform calls
 * out through the {@link GuestSink}.
 *
 * <p>Thread-safety: every method may be called from any thread; calls are dispatched asynchronously and
 * answered through the returned futures, possibly out of order.
 */
public final class GuestSession {
    private final long id;
    private final Platform platform;
    private final Partition partition;
    private final String clientName;
    private final boolean receivesEvents;
    private final GuestSink sink;
    private final AtomicBoolean open = new AtomicBoolean(true);
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Removed from its partition by {@link Platform#forget} (after close, once no call is left in flight). */
    private final AtomicBoolean forgotten = new AtomicBoolean();

    GuestSession(long id, Platform platform, Partition partition, String clientName, boolean receivesEvents,
                 GuestSink sink) {
        this.id = id;
        this.platform = platform;
        this.partition = partition;
        this.clientName = clientName == null ? "" : clientName;
        this.receivesEvents = receivesEvents;
        this.sink = sink;
    }

    public long id() {
        return id;
    }

    public Partition partition() {
        return partition;
    }

    public String clientName() {
        return clientName;
    }

    public boolean receivesEvents() {
        return receivesEvents;
    }

    GuestSink sink() {
        return sink;
    }

    public boolean isOpen() {
        return open.get();
    }

    /**
     * Calls dispatched on this session and waiting for their answer (held by a fault action, a deferred H_JOIN or
     * ibm,suspend-me); a call answered while it is dispatched is not counted.
     */
    public int callsInFlight() {
        return inFlight.get();
    }

    /** What the guest learns at Hello (Welcome). */
    public BootInfo bootInfo() {
        return partition.bootInfo();
    }

    /**
     * Dispatches one hcall; {@code task} names the guest thread (may be empty); {@code interruptsDisabled} is
     * MSR[EE]=0 (H_JOIN requires it). The answer is an
     * {@link org.lparemu.core.port.HcallResult} or a {@link org.lparemu.core.port.CallRefusal}.
     */
    public CompletableFuture<CallResult> hcall(int vcpu, long opcode, long[] args, byte[] buffer, String task,
                                               boolean interruptsDisabled) {
        CallAnswer.Future f = new CallAnswer.Future();
        hcall(vcpu, opcode, args, buffer, task, interruptsDisabled, f);
        return f;
    }

    /**
     * {@link #hcall(int, long, long[], byte[], String, boolean)} answered through {@code answer} instead of a future
     * (the transports' hot path: see {@link CallAnswer}).
     */
    public void hcall(int vcpu, long opcode, long[] args, byte[] buffer, String task, boolean interruptsDisabled,
                      CallAnswer answer) {
        platform.dispatch(this, vcpu, task, opcode, null, args, buffer, interruptsDisabled, answer);
    }

    /**
     * Dispatches one RTAS call (the OS enters RTAS with interrupts disabled). The answer is an
     * {@link org.lparemu.core.port.RtasResult} or a {@link org.lparemu.core.port.CallRefusal}.
     */
    public CompletableFuture<CallResult> rtas(int vcpu, String service, long[] args, byte[] workArea, String task) {
        CallAnswer.Future f = new CallAnswer.Future();
        rtas(vcpu, service, args, workArea, task, f);
        return f;
    }

    /** {@link #rtas(int, String, long[], byte[], String)} answered through {@code answer}. */
    public void rtas(int vcpu, String service, long[] args, byte[] workArea, String task, CallAnswer answer) {
        platform.dispatch(this, vcpu, task, 0, service, args, workArea, true, answer);
    }

    /** One of this session's calls waits (a fault action or a deferred handler holds it back). */
    void callStarted() {
        inFlight.incrementAndGet();
    }

    /** A call counted by {@link #callStarted} is answered (just before the answer is delivered). */
    void callAnswered() {
        if (inFlight.decrementAndGet() == 0 && !open.get()) {
            platform.forget(this); // the last call of a closed connection has left its vCPU
        }
    }

    /** The guest finished handling an event. */
    public void ack(long eventId, int status, String detail) {
        platform.acknowledge(this, eventId, status, detail);
    }

    /** A guest kernel tracepoint: one GUEST trace record. */
    public void tracepoint(int vcpu, String task, String name, String detail) {
        platform.trace().append(TraceKind.GUEST, partition.name(), vcpu, task, name, null, 0,
                0, 0, detail, 0);
    }

    /** The guest's own view; the latest one is kept for GetState and the oracles. */
    public void report(GuestReport report) {
        platform.acceptReport(this, report);
    }

    /** The transport is gone (socket closed, port closed): the platform cleans up after this connection. */
    public void close() {
        if (open.compareAndSet(true, false)) {
            platform.detach(this);
        }
    }

    /** True the first time only: {@link Platform#forget} removes the session once. */
    boolean markForgotten() {
        return forgotten.compareAndSet(false, true);
    }

    /** Marks the session closed without calling back into the platform (the platform is closing it). */
    boolean markClosed() {
        return open.compareAndSet(true, false);
    }

    @Override
    public String toString() {
        return "connection " + id + " (" + partition.name() + ", " + clientName + ", " + sink.remote() + ")";
    }
}
