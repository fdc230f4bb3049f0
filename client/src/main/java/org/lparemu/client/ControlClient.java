package org.lparemu.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.port.PortException;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.CreatePartition;
import org.lparemu.proto.v1.DeletePartition;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.GetState;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.PartitionSummary;
import org.lparemu.proto.v1.Reset;
import org.lparemu.proto.v1.TraceChunk;

/**
 * A test client's or operator's connection to the control port. {@link #call} is asynchronous (responses are
 * matched by request id, in any order); {@link #request} blocks and turns an {@code Error} response into a
 * {@link ControlClientException} carrying its code. When the daemon goes away every outstanding request fails
 * with a {@link PortException}.
 */
public final class ControlClient implements AutoCloseable {
    /** Added to a request's own server-side timeout when waiting for its response. */
    public static final Duration GRACE = Duration.ofSeconds(10);

    private final FrameChannel<ControlResponse> channel;
    private final ConcurrentHashMap<Long, CompletableFuture<ControlResponse>> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);
    private final String token;
    private volatile String closeReason;

    public static ControlClient connect(String host, int port) {
        return connect(host, port, null, Duration.ofSeconds(10));
    }

    /** Connects; {@code token} is the daemon's control token or null. */
    public static ControlClient connect(String host, int port, String token, Duration connectTimeout) {
        return new ControlClient(host, port, token, connectTimeout);
    }

    private ControlClient(String host, int port, String token, Duration connectTimeout) {
        this.token = token;
        this.channel = new FrameChannel<>(host, port, ControlResponse.getDefaultInstance(), this::onResponse,
                this::onClose, connectTimeout.toMillis(), "lparemu-control-io");
    }

    private void onResponse(ControlResponse r) {
        CompletableFuture<ControlResponse> f = pending.remove(r.getRequestId());
        if (f != null) {
            f.complete(r);
        } else if (r.hasError()) {
            // An error for request 0: the daemon refused the connection itself.
            closeReason = r.getError().getCode() + ": " + r.getError().getMessage();
        }
    }

    private void onClose(Throwable cause) {
        String reason = closeReason != null ? closeReason
                : cause == null ? "control connection closed by the daemon" : "control connection lost: " + cause;
        closeReason = reason;
        for (Map.Entry<Long, CompletableFuture<ControlResponse>> e : pending.entrySet()) {
            if (pending.remove(e.getKey()) != null) {
                e.getValue().completeExceptionally(new PortException(reason));
            }
        }
    }

    /** Sends a request (its id and token are filled in); the future completes with the raw response. */
    public CompletableFuture<ControlResponse> call(ControlRequest.Builder req) {
        long id = nextId.getAndIncrement();
        req.setRequestId(id);
        if (token != null) {
            req.setAuthToken(token);
        }
        CompletableFuture<ControlResponse> f = new CompletableFuture<>();
        pending.put(id, f);
        if (!channel.send(req.build())) {
            pending.remove(id);
            f.completeExceptionally(new PortException(closeReason != null ? closeReason : "control connection closed"));
        }
        return f;
    }

    /** Sends and waits up to {@code wait}; an Error response throws {@link ControlClientException}. */
    public ControlResponse request(ControlRequest.Builder req, Duration wait) {
        try {
            ControlResponse r = call(req).get(wait.toMillis(), TimeUnit.MILLISECONDS);
            if (r.hasError()) {
                throw new ControlClientException(r.getError().getCode(), r.getError().getMessage());
            }
            return r;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PortException("interrupted", e);
        } catch (TimeoutException e) {
            throw new ControlClientException(ErrorCode.TIMEOUT, "no response from the daemon within " + wait);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof RuntimeException re ? re : new PortException(String.valueOf(c), c);
        }
    }

    /** Sends and waits the default 30 s. */
    public ControlResponse request(ControlRequest.Builder req) {
        return request(req, Duration.ofSeconds(30));
    }

    public boolean isOpen() {
        return channel.isActive();
    }

    // convenience

    public PartitionState createPartition(PartitionSpec spec) {
        return request(ControlRequest.newBuilder().setCreatePartition(CreatePartition.newBuilder().setSpec(spec)))
                .getPartition();
    }

    public void deletePartition(String name) {
        request(ControlRequest.newBuilder().setDeletePartition(DeletePartition.newBuilder().setPartition(name)));
    }

    public List<PartitionSummary> listPartitions() {
        return request(ControlRequest.newBuilder().setListPartitions(ListPartitions.getDefaultInstance()))
                .getPartitions().getPartitionsList();
    }

    public PartitionState getState(String partition) {
        return request(ControlRequest.newBuilder().setGetState(GetState.newBuilder().setPartition(partition)))
                .getPartition();
    }

    public void reset() {
        request(ControlRequest.newBuilder().setReset(Reset.getDefaultInstance()));
    }

    public EventAck awaitEvent(long eventId, Duration timeout) {
        return request(ControlRequest.newBuilder().setAwaitEvent(org.lparemu.proto.v1.AwaitEvent.newBuilder()
                .setEventId(eventId).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getEventAck();
    }

    public TraceChunk getTrace(String partition, long sinceSeq, int max) {
        return request(ControlRequest.newBuilder().setGetTrace(GetTrace.newBuilder().setPartition(partition)
                .setSinceSeq(sinceSeq).setMaxRecords(max))).getTrace();
    }

    public org.lparemu.proto.v1.MigrateResult migrate(String partition, String destination) {
        return request(ControlRequest.newBuilder().setMigrate(org.lparemu.proto.v1.Migrate.newBuilder()
                .setPartition(partition).setDestination(destination == null ? "" : destination))).getMigrate();
    }

    public org.lparemu.proto.v1.MigrationOutcome awaitMigration(String partition, Duration timeout) {
        return request(ControlRequest.newBuilder().setAwaitMigration(org.lparemu.proto.v1.AwaitMigration.newBuilder()
                .setPartition(partition).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getMigration();
    }

    public org.lparemu.proto.v1.PrrnResult prrn(String partition, List<org.lparemu.proto.v1.DeviceTreeChange> changes) {
        return request(ControlRequest.newBuilder().setPrrn(org.lparemu.proto.v1.Prrn.newBuilder()
                .setPartition(partition).addAllChanges(changes))).getPrrn();
    }

    public org.lparemu.proto.v1.DlparCpuResult dlparCpu(String partition, boolean add, int cores) {
        return request(ControlRequest.newBuilder().setDlparCpu(org.lparemu.proto.v1.DlparCpu.newBuilder()
                .setPartition(partition).setAction(add ? org.lparemu.proto.v1.DlparAction.ADD
                        : org.lparemu.proto.v1.DlparAction.REMOVE).setCores(cores))).getDlparCpu();
    }

    /** Returns the QosCredits event id. */
    public long setQosCredits(String partition, int credits) {
        return request(ControlRequest.newBuilder().setSetQosCredits(org.lparemu.proto.v1.SetQosCredits.newBuilder()
                .setPartition(partition).setCredits(credits))).getEventPushed().getEventId();
    }

    public long addFault(org.lparemu.proto.v1.FaultRule rule) {
        return request(ControlRequest.newBuilder().setAddFault(org.lparemu.proto.v1.AddFault.newBuilder().setRule(rule)))
                .getAddFault().getRuleId();
    }

    public List<org.lparemu.proto.v1.FaultRuleStatus> listFaults() {
        return request(ControlRequest.newBuilder().setListFaults(org.lparemu.proto.v1.ListFaults.getDefaultInstance()))
                .getFaults().getRulesList();
    }

    public long clearFaults() {
        return request(ControlRequest.newBuilder().setClearFaults(org.lparemu.proto.v1.ClearFaults.getDefaultInstance()))
                .getCount().getValue();
    }

    public List<org.lparemu.proto.v1.ParkedCall> awaitHold(String latch, int minCount, Duration timeout) {
        return request(ControlRequest.newBuilder().setAwaitHold(org.lparemu.proto.v1.AwaitHold.newBuilder()
                .setLatch(latch).setMinCount(minCount).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE))
                .getParked().getCallsList();
    }

    /** Releases up to {@code count} parked calls (0 = all); returns how many. */
    public long releaseHold(String latch, int count) {
        return request(ControlRequest.newBuilder().setReleaseHold(org.lparemu.proto.v1.ReleaseHold.newBuilder()
                .setLatch(latch).setCount(count))).getCount().getValue();
    }

    public org.lparemu.proto.v1.InvariantReport checkInvariants(String partition, Duration timeout) {
        return request(ControlRequest.newBuilder().setCheckInvariants(org.lparemu.proto.v1.CheckInvariants.newBuilder()
                .setPartition(partition == null ? "" : partition).setTimeoutMs((int) timeout.toMillis())),
                timeout.plus(GRACE)).getInvariants();
    }

    /** The first trace record after {@code sinceSeq} whose name contains any of {@code names}. */
    public org.lparemu.proto.v1.TraceRecord awaitTrace(String partition, long sinceSeq, Duration timeout,
                                                       String... names) {
        return request(ControlRequest.newBuilder().setAwaitTrace(org.lparemu.proto.v1.AwaitTrace.newBuilder()
                .setPartition(partition).setSinceSeq(sinceSeq).addAllNameContains(List.of(names))
                .setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getTraceRecord();
    }

    @Override
    public void close() {
        channel.close();
    }
}
