package org.lparemu.client;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.port.BootInfo;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallPort;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.PlatformEventListener;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.GuestFrame;
import org.lparemu.proto.v1.HcallRequest;
import org.lparemu.proto.v1.Hello;
import org.lparemu.proto.v1.HostFrame;
import org.lparemu.proto.v1.ProtocolError;
import org.lparemu.proto.v1.RtasRequest;
import org.lparemu.proto.v1.Tracepoint;
import org.lparemu.proto.v1.Welcome;
import org.lparemu.wire.ProtoMapping;
import org.lparemu.wire.Protocol;

/**
 * A guest kernel's connection to the daemon's guest port: the socket implementation of {@link HcallPort}.
 *
 * <p>Many calls may be in flight from many threads; each gets a fresh call id and its reply is matched by
 * id, in whatever order replies arrive. Blocking calls wait for at most the call timeout (default: none,
 * because a real hcall such as H_JOIN may legitimately wait a long time; set one for tests). When the daemon
 * goes away every pending call fails with a {@link PortException} naming why.
 */
public final class GuestConnection implements HcallPort {
    private final FrameChannel<HostFrame> channel;
    private final ConcurrentHashMap<Long, CompletableFuture<HostFrame>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextCallId = new AtomicLong(1);
    private final CompletableFuture<Welcome> welcome = new CompletableFuture<>();
    private final Object listenerLock = new Object();
    private final List<PlatformEvent> early = new ArrayList<>();
    private final long callTimeoutMs;
    private PlatformEventListener listener;
    private volatile String closeReason;
    private volatile ProtocolError.Code closeCode;
    private final BootInfo bootInfo;

    /** Connects and binds to a partition with default options (events delivered, no call timeout). */
    public static GuestConnection connect(String host, int port, String partition) {
        return connect(host, port, partition, "lparemu-java-client", true, Duration.ofSeconds(10), Duration.ZERO);
    }

    /**
     * Connects, sends Hello and waits for Welcome.
     *
     * @param receivesEvents false for a calls-only connection (Hello.no_events)
     * @param callTimeout    limit for each blocking call; zero = wait as long as the hypervisor takes
     * @throws PortException when the daemon is unreachable or refuses the Hello (unknown partition, version)
     */
    public static GuestConnection connect(String host, int port, String partition, String clientName,
                                          boolean receivesEvents, Duration connectTimeout, Duration callTimeout) {
        return new GuestConnection(host, port, partition, clientName, receivesEvents, connectTimeout, callTimeout);
    }

    private GuestConnection(String host, int port, String partition, String clientName, boolean receivesEvents,
                            Duration connectTimeout, Duration callTimeout) {
        this.callTimeoutMs = callTimeout.toMillis();
        this.channel = new FrameChannel<>(host, port, HostFrame.getDefaultInstance(), this::onFrame, this::onClose,
                connectTimeout.toMillis(), "lparemu-guest-io");
        channel.send(GuestFrame.newBuilder().setHello(Hello.newBuilder().setPartition(partition)
                .setProtocolVersion(Protocol.PROTOCOL_VERSION).setClientName(clientName)
                .setNoEvents(!receivesEvents)).build());
        Welcome w;
        try {
            w = welcome.get(connectTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            channel.close();
            throw new PortException("interrupted while waiting for Welcome", e);
        } catch (ExecutionException | TimeoutException e) {
            channel.close();
            Throwable c = e.getCause() != null ? e.getCause() : e;
            throw c instanceof PortException pe ? pe : new PortException("no Welcome from the daemon: " + c, c);
        }
        bootInfo = ProtoMapping.fromProto(w);
    }

    /** The code of the ProtocolError that closed this connection, or null. */
    public ProtocolError.Code closeCode() {
        return closeCode;
    }

    /** Calls sent and not yet answered. */
    public int pendingCalls() {
        return pending.size();
    }

    private void onFrame(HostFrame f) {
        switch (f.getKindCase()) {
            case WELCOME -> welcome.complete(f.getWelcome());
            case HCALL, RTAS, REFUSED -> complete(ProtoMapping.replyCallId(f), f);
            case EVENT -> {
                PlatformEvent e = ProtoMapping.fromProto(f.getEvent());
                if (e != null) {
                    deliver(e);
                }
            }
            case ERROR -> {
                closeCode = f.getError().getCode();
                closeReason = f.getError().getCode() + ": " + f.getError().getMessage();
                welcome.completeExceptionally(new PortException("daemon refused the connection: " + closeReason));
            }
            case KIND_NOT_SET -> {
            }
        }
    }

    private void complete(long callId, HostFrame f) {
        CompletableFuture<HostFrame> p = pending.remove(callId);
        if (p != null) {
            p.complete(f);
        }
    }

    private void onClose(Throwable cause) {
        if (closeReason == null) {
            closeReason = cause == null ? "connection to the daemon closed" : "connection to the daemon lost: " + cause;
        }
        PortException e = new PortException(closeReason);
        welcome.completeExceptionally(e);
        for (Map.Entry<Long, CompletableFuture<HostFrame>> p : pending.entrySet()) {
            if (pending.remove(p.getKey()) != null) {
                p.getValue().completeExceptionally(e);
            }
        }
    }

    private void deliver(PlatformEvent e) {
        PlatformEventListener l;
        synchronized (listenerLock) {
            l = listener;
            if (l == null) {
                early.add(e);
                return;
            }
        }
        l.onEvent(e);
    }

    @Override
    public BootInfo bootInfo() {
        return bootInfo;
    }

    private CompletableFuture<HostFrame> send(long callId, GuestFrame frame) {
        CompletableFuture<HostFrame> f = new CompletableFuture<>();
        pending.put(callId, f);
        if (!channel.send(frame)) {
            pending.remove(callId);
            f.completeExceptionally(new PortException(closeReason != null ? closeReason : "connection closed"));
        }
        return f;
    }

    @Override
    public HcallResult hcall(int vcpu, long opcode, long[] args, byte[] buffer, boolean interruptsDisabled) {
        return await(hcallAsync(vcpu, opcode, args, buffer, interruptsDisabled));
    }

    @Override
    public CompletableFuture<HcallResult> hcallAsync(int vcpu, long opcode, long[] args, byte[] buffer,
                                                     boolean interruptsDisabled) {
        long id = nextCallId.getAndIncrement();
        HcallRequest.Builder b = HcallRequest.newBuilder().setCallId(id).setVcpu(vcpu).setOpcode(opcode)
                .setTask(Thread.currentThread().getName()).setInterruptsDisabled(interruptsDisabled);
        if (args != null) {
            for (long a : args) {
                b.addArgs(a);
            }
        }
        if (buffer != null) {
            b.setBuffer(ByteString.copyFrom(buffer));
        }
        return send(id, GuestFrame.newBuilder().setHcall(b).build()).thenApply(f -> ProtoMapping.fromReply(f).asHcall());
    }

    @Override
    public RtasResult rtas(int vcpu, String service, long[] args, byte[] workArea) {
        return await(rtasAsync(vcpu, service, args, workArea));
    }

    @Override
    public CompletableFuture<RtasResult> rtasAsync(int vcpu, String service, long[] args, byte[] workArea) {
        long id = nextCallId.getAndIncrement();
        RtasRequest.Builder b = RtasRequest.newBuilder().setCallId(id).setVcpu(vcpu).setService(service)
                .setTask(Thread.currentThread().getName());
        if (args != null) {
            for (long a : args) {
                b.addArgs(a);
            }
        }
        if (workArea != null) {
            b.setWorkArea(ByteString.copyFrom(workArea));
        }
        return send(id, GuestFrame.newBuilder().setRtas(b).build()).thenApply(f -> ProtoMapping.fromReply(f).asRtas());
    }

    private <T> T await(CompletableFuture<T> f) {
        try {
            return callTimeoutMs > 0 ? f.get(callTimeoutMs, TimeUnit.MILLISECONDS) : f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PortException("interrupted while waiting for the hypervisor", e);
        } catch (TimeoutException e) {
            throw new PortException("no answer from the hypervisor within " + callTimeoutMs + " ms", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            throw c instanceof PortException pe ? pe : new PortException(String.valueOf(c), c);
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
        channel.send(GuestFrame.newBuilder().setEventAck(EventAck.newBuilder().setEventId(eventId).setStatus(status)
                .setDetail(detail == null ? "" : detail)).build());
    }

    @Override
    public void report(GuestReport report) {
        channel.send(GuestFrame.newBuilder().setReport(ProtoMapping.toProto(report)).build());
    }

    @Override
    public void tracepoint(int vcpu, String name, String detail) {
        channel.send(GuestFrame.newBuilder().setTracepoint(Tracepoint.newBuilder()
                .setVcpu(Math.max(0, vcpu)).setName(name).setDetail(detail == null ? "" : detail)
                .setTask(Thread.currentThread().getName())).build());
    }

    @Override
    public boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        closeReason = closeReason == null ? "closed by the guest" : closeReason;
        channel.close();
    }
}
