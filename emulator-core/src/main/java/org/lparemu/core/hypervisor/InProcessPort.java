package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.PlatformEventListener;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;

/**
 * The guest's port straight into the platform's dispatcher, with no socket: the same pipeline (trace,
 * deferral, handlers) as the daemon's guest port, so in-process tests and benchmarks see what socket
 * clients see. The calling thread's name is the guest task name.
 */
public final class InProcessPort implements HcallPort, GuestSink {
    private final GuestSession session;
    private final BootInfo bootInfo;
    private final Object listenerLock = new Object();
    private PlatformEventListener listener;
    private final List<PlatformEvent> early = new ArrayList<>();
    private volatile boolean open = true;
    private volatile String closeReason;

    /** Connects to a partition; {@code receivesEvents} as in Hello. */
    public InProcessPort(Platform platform, String partition, String clientName, boolean receivesEvents) {
        this.session = platform.attach(partition, clientName, receivesEvents, this);
        this.bootInfo = session.bootInfo();
    }

    public InProcessPort(Platform platform, String partition) {
        this(platform, partition, "in-process", true);
    }

    public GuestSession session() {
        return session;
    }

    @Override
    public BootInfo bootInfo() {
        return bootInfo;
    }

    @Override
    public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
        return join(hcallAsync(vcpu, opcode, args, buffer, interruptsDisabled));
    }

    @Override
    public CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                                     boolean interruptsDisabled) {
        if (!open) {
            return CompletableFuture.failedFuture(new PortException("port closed: " + closeReason));
        }
        Answer<HcallResult> f = new Answer<>(false);
        session.hcall(vcpu, opcode, args, buffer, Thread.currentThread().getName(), interruptsDisabled, f);
        return f;
    }

    @Override
    public RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea) {
        return join(rtasAsync(vcpu, service, args, workArea));
    }

    @Override
    public CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea) {
        if (!open) {
            return CompletableFuture.failedFuture(new PortException("port closed: " + closeReason));
        }
        Answer<RtasResult> f = new Answer<>(true);
        session.rtas(vcpu, service, args, workArea, Thread.currentThread().getName(), f);
        return f;
    }

    /**
     * The future a caller waits on, completed by the pipeline's answer with the result as the port's type (one
     * object per call; a refusal fails it with {@link org.lparemu.core.port.CallRefusedException}).
     */
    private static final class Answer<T> extends CompletableFuture<T> implements CallAnswer {
        private final boolean rtas;

        Answer(boolean rtas) {
            this.rtas = rtas;
        }

        @Override
        @SuppressWarnings("unchecked") // T is HcallResult when !rtas, RtasResult when rtas (the two constructors above)
        public void answer(CallResult result, Throwable error) {
            if (error != null) {
                completeExceptionally(CallAnswer.Future.wrap(error));
                return;
            }
            try {
                complete((T) (rtas ? result.asRtas() : result.asHcall()));
            } catch (RuntimeException e) {
                completeExceptionally(CallAnswer.Future.wrap(e));
            }
        }
    }

    private <T> T join(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PortException("interrupted while waiting for the hypervisor", e);
        } catch (ExecutionException | CompletionException e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            if (c instanceof PortException pe) {
                throw pe;
            }
            throw new PortException(c.getMessage(), c);
        }
    }

    @Override
    public void setEventListener(PlatformEventListener l) {
        List<PlatformEvent> backlog;
        synchronized (listenerLock) {
            listener = l;
            backlog = new ArrayList<>(early);
            early.clear();
        }
        backlog.forEach(l::onEvent);
    }

    @Override
    public void ackEvent(long eventId, int status, String detail) {
        if (open) {
            session.ack(eventId, status, detail);
        }
    }

    @Override
    public void report(GuestReport report) {
        if (open) {
            session.report(report);
        }
    }

    @Override
    public void tracepoint(int vcpu, String name, String detail) {
        if (open) {
            session.tracepoint(vcpu, Thread.currentThread().getName(), name, detail);
        }
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            closeReason = "closed by the guest";
            session.close();
        }
    }

    // GuestSink: the platform's side

    @Override
    public void deliver(PlatformEvent event) {
        PlatformEventListener l;
        synchronized (listenerLock) {
            l = listener;
            if (l == null) {
                early.add(event);
                return;
            }
        }
        l.onEvent(event);
    }

    @Override
    public void disconnect(DisconnectReason reason, String message) {
        closeReason = reason + ": " + message;
        open = false;
    }

    @Override
    public String remote() {
        return "in-process";
    }
}
