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
import org.lparemu.proto.v1.AddFault;
import org.lparemu.proto.v1.AwaitEvent;
import org.lparemu.proto.v1.AwaitHold;
import org.lparemu.proto.v1.AwaitMigration;
import org.lparemu.proto.v1.AwaitTrace;
import org.lparemu.proto.v1.CheckInvariants;
import org.lparemu.proto.v1.ClearFaults;
import org.lparemu.proto.v1.ControlRequest;
import org.lparemu.proto.v1.ControlResponse;
import org.lparemu.proto.v1.CreatePartition;
import org.lparemu.proto.v1.DeletePartition;
import org.lparemu.proto.v1.DeviceTreeChange;
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.DlparCpuResult;
import org.lparemu.proto.v1.ErrorCode;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.FaultRuleStatus;
import org.lparemu.proto.v1.GetState;
import org.lparemu.proto.v1.GetTrace;
import org.lparemu.proto.v1.InvariantReport;
import org.lparemu.proto.v1.ListFaults;
import org.lparemu.proto.v1.ListPartitions;
import org.lparemu.proto.v1.Migrate;
import org.lparemu.proto.v1.MigrateResult;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.ParkedCall;
import org.lparemu.proto.v1.PartitionSpec;
import org.lparemu.proto.v1.PartitionState;
import org.lparemu.proto.v1.PartitionSummary;
import org.lparemu.proto.v1.Prrn;
import org.lparemu.proto.v1.PrrnResult;
import org.lparemu.proto.v1.ReleaseHold;
import org.lparemu.proto.v1.Reset;
import org.lparemu.proto.v1.SetQosCredits;
import org.lparemu.proto.v1.TraceChunk;
import org.lparemu.proto.v1.TraceRecord;

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
        return request(ControlRequest.newBuilder().setAwaitEvent(AwaitEvent.newBuilder()
                .setEventId(eventId).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getEventAck();
    }

    public TraceChunk getTrace(String partition, long sinceSeq, int max) {
        return request(ControlRequest.newBuilder().setGetTrace(GetTrace.newBuilder().setPartition(partition)
                .setSinceSeq(sinceSeq).setMaxRecords(max))).getTrace();
    }

    public MigrateResult migrate(String partition, String destination) {
        return request(ControlRequest.newBuilder().setMigrate(Migrate.newBuilder()
                .setPartition(partition).setDestination(destination == null ? "" : destination))).getMigrate();
    }

    public MigrationOutcome awaitMigration(String partition, Duration timeout) {
        return request(ControlRequest.newBuilder().setAwaitMigration(AwaitMigration.newBuilder()
                .setPartition(partition).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getMigration();
    }

    public PrrnResult prrn(String partition, List<DeviceTreeChange> changes) {
        return request(ControlRequest.newBuilder().setPrrn(Prrn.newBuilder()
                .setPartition(partition).addAllChanges(changes))).getPrrn();
    }

    public DlparCpuResult dlparCpu(String partition, boolean add, int cores) {
        return request(ControlRequest.newBuilder().setDlparCpu(DlparCpu.newBuilder()
                .setPartition(partition).setAction(add ? DlparAction.ADD
                        : DlparAction.REMOVE).setCores(cores))).getDlparCpu();
    }

    /** Returns the QosCredits event id. */
    public long setQosCredits(String partition, int credits) {
        return request(ControlRequest.newBuilder().setSetQosCredits(SetQosCredits.newBuilder()
                .setPartition(partition).setCredits(credits))).getEventPushed().getEventId();
    }

    public long addFault(FaultRule rule) {
        return request(ControlRequest.newBuilder().setAddFault(AddFault.newBuilder().setRule(rule)))
                .getAddFault().getRuleId();
    }

    public List<FaultRuleStatus> listFaults() {
        return request(ControlRequest.newBuilder().setListFaults(ListFaults.getDefaultInstance()))
                .getFaults().getRulesList();
    }

    public long clearFaults() {
        return request(ControlRequest.newBuilder().setClearFaults(ClearFaults.getDefaultInstance()))
                .getCount().getValue();
    }

    public List<ParkedCall> awaitHold(String latch, int minCount, Duration timeout) {
        return request(ControlRequest.newBuilder().setAwaitHold(AwaitHold.newBuilder()
                .setLatch(latch).setMinCount(minCount).setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE))
                .getParked().getCallsList();
    }

    /** Releases up to {@code count} parked calls (0 = all); returns how many. */
    public long releaseHold(String latch, int count) {
        return request(ControlRequest.newBuilder().setReleaseHold(ReleaseHold.newBuilder()
                .setLatch(latch).setCount(count))).getCount().getValue();
    }

    public InvariantReport checkInvariants(String partition, Duration timeout) {
        return request(ControlRequest.newBuilder().setCheckInvariants(CheckInvariants.newBuilder()
                .setPartition(partition == null ? "" : partition).setTimeoutMs((int) timeout.toMillis())),
                timeout.plus(GRACE)).getInvariants();
    }

    /** The first trace record after {@code sinceSeq} whose name contains any of {@code names}. */
    public TraceRecord awaitTrace(String partition, long sinceSeq, Duration timeout,
                                                       String... names) {
        return request(ControlRequest.newBuilder().setAwaitTrace(AwaitTrace.newBuilder()
                .setPartition(partition).setSinceSeq(sinceSeq).addAllNameContains(List.of(names))
                .setTimeoutMs((int) timeout.toMillis())), timeout.plus(GRACE)).getTraceRecord();
    }

    @Override
    public void close() {
        channel.close();
    }
}
