package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.lparemu.core.fault.CallInfo;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultPlan;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.Holds;
import org.lparemu.core.fault.ParkedCall;
import org.lparemu.core.fault.When;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.PortException;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emulated PowerVM platform: managed systems, partitions, the hcall/RTAS dispatcher, platform events,
 * the trace, and the control operations an operator or test client performs. Transports (the Netty daemon,
 * the in-process port) talk to it through {@link GuestSession} and the public control methods.
 *
 * <h2>Data flow of one call</h2>
 * {@code GuestSession.hcall} -> {@link #dispatch}: CALL_BEGIN trace record -> if the partition is suspended,
 * the call is queued until resume -> handler from the {@link DispatchTable} under the partition lock (no
 * handler: H_FUNCTION) -> CALL_END trace record -> the future completes (on the dispatching thread when the
 * handler answered at once, on the platform executor when it was deferred).
 *
 * <p>Thread-safety: the partition map is concurrent; each partition's state is guarded by its own lock;
 * counters are atomics. No method blocks on another thread's progress except {@link #close()}.
 */
public final class Platform implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Platform.class);

    // immutable after construction
    private final PlatformConfig config;
    private final Map<String, ManagedSystem> systems = new LinkedHashMap<>();
    private final DispatchTable table = new DispatchTable();
    private final TraceRing trace;
    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;

    // concurrent
    private final ConcurrentHashMap<String, Partition> partitions = new ConcurrentHashMap<>();
    private final AtomicLong nextSessionId = new AtomicLong(1);
    private final AtomicLong nextEventId = new AtomicLong(1);
    private final AtomicLong hcallCount = new AtomicLong();
    private final FaultPlan faults;
    private final Holds holds;
    private final AtomicLong nextStreamId = new AtomicLong(1);
    private volatile boolean closed;

    /** A platform with its own two-thread executor for timers and deferred completions. */
    public Platform(PlatformConfig config) {
        this(config, newExecutor(), true);
    }

    /** A platform using the given executor (tests pass a manual or shared one); it is not shut down here. */
    public Platform(PlatformConfig config, ScheduledExecutorService executor) {
        this(config, executor, false);
    }

    private Platform(PlatformConfig config, ScheduledExecutorService executor, boolean ownsExecutor) {
        this.config = config;
        this.executor = executor;
        this.ownsExecutor = ownsExecutor;
        this.trace = new TraceRing(config.limits().traceCapacity());
        this.faults = new FaultPlan(config.limits().maxFaultRules());
        this.holds = new Holds(config.limits().maxParkedHolds());
        int i = 0;
        for (PlatformConfig.SystemConfig s : config.systems()) {
            systems.put(s.name(), new ManagedSystem(s, i++));
        }
        HypervisorCalls.registerAll(table, this);
        table.seal();
        for (PartitionSpec spec : config.partitions()) {
            createPartition(spec);
        }
    }

    private static ScheduledExecutorService newExecutor() {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "lparemu-platform-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(2, tf);
        ex.setRemoveOnCancelPolicy(true);
        return ex;
    }

    public PlatformConfig config() {
        return config;
    }

    public TraceRing trace() {
        return trace;
    }

    public DispatchTable dispatchTable() {
        return table;
    }

    /** Executor for timers and deferred completions. */
    public ScheduledExecutorService executor() {
        return executor;
    }

    /** Total hcalls and RTAS calls dispatched since start. */
    public long callCount() {
        return hcallCount.get();
    }

    public ManagedSystem system(String name) {
        ManagedSystem s = systems.get(name);
        if (s == null) {
            throw new ControlException(ControlError.UNKNOWN_SYSTEM,
                    "no managed system '" + name + "' (have " + systems.keySet() + ")");
        }
        return s;
    }

    public List<ManagedSystem> systems() {
        return List.copyOf(systems.values());
    }

    /** The partition, or UNKNOWN_PARTITION. */
    public Partition partition(String name) {
        Partition p = name == null ? null : partitions.get(name);
        if (p == null) {
            throw new ControlException(ControlError.UNKNOWN_PARTITION, "no partition '" + name + "'");
        }
        return p;
    }

    public long newEventId() {
        return nextEventId.getAndIncrement();
    }

    /** A VASI stream id never handed out before by this platform. */
    long newStreamId() {
        return nextStreamId.getAndIncrement();
    }

    // ---------------------------------------------------------------------------------------------
    // platform operations

    /** Creates a partition; unset spec fields take the configured defaults. */
    public PartitionView createPartition(PartitionSpec requested) {
        checkOpen();
        String firstSystem = systems.keySet().iterator().next();
        PartitionSpec spec = requested.withDefaults(config.partitionDefaults(), firstSystem);
        ManagedSystem system = systems.get(spec.system());
        if (system == null) {
            throw new ControlException(ControlError.UNKNOWN_SYSTEM,
                    "no managed system '" + spec.system() + "' (have " + systems.keySet() + ")");
        }
        synchronized (partitions) {
            if (partitions.containsKey(spec.name())) {
                throw new ControlException(ControlError.DUPLICATE_NAME, "partition '" + spec.name() + "' exists");
            }
            if (partitions.size() >= config.limits().maxPartitions()) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED,
                        "partition limit " + config.limits().maxPartitions() + " reached");
            }
            Partition p = new Partition(this, spec, system);
            partitions.put(spec.name(), p);
            trace.note(TraceKind.OPERATOR, spec.name(), "CreatePartition",
                    "vcpus " + spec.vcpus() + " cores " + spec.cores() + " on " + system.name());
            log.info("partition {} created on {} ({} vcpus, {} cores)", spec.name(), system.name(), spec.vcpus(),
                    spec.cores());
            return view(p);
        }
    }

    /**
     * Deletes a partition: its guest connections are closed (PARTITION_GONE), calls still pending on it are
     * failed, and its windows and events are dropped with it.
     */
    public void deletePartition(String name) {
        checkOpen();
        Partition p;
        synchronized (partitions) {
            p = partition(name);
            partitions.remove(name);
        }
        retire(p, GuestSink.DisconnectReason.PARTITION_GONE, "partition " + name + " was deleted");
        trace.note(TraceKind.OPERATOR, name, "DeletePartition", "");
        log.info("partition {} deleted", name);
    }

    private void retire(Partition p, GuestSink.DisconnectReason reason, String message) {
        List<GuestSession> sessions;
        List<Runnable> deferred;
        List<Partition.PendingEventEntry> events;
        List<Runnable> pending;
        p.lock.lock();
        try {
            p.deleted = true;
            sessions = new ArrayList<>(p.sessions);
            p.sessions.clear();
            deferred = new ArrayList<>(p.deferredCalls);
            p.deferredCalls.clear();
            events = new ArrayList<>(p.events.values());
            p.events.clear();
            pending = HypervisorCalls.retireLocked(p);
        } finally {
            p.lock.unlock();
        }
        pending.forEach(Runnable::run);
        holds.failPartition(p.name, message);
        // Deferred calls re-run, see the partition deleted, and fail.
        deferred.forEach(executor::execute);
        for (Partition.PendingEventEntry e : events) {
            e.ack.completeExceptionally(new ControlException(ControlError.UNKNOWN_PARTITION, message));
        }
        for (GuestSession s : sessions) {
            if (s.markClosed()) {
                s.sink().disconnect(reason, message);
            }
        }
    }

    public List<PartitionView.Summary> listPartitions() {
        List<PartitionView.Summary> out = new ArrayList<>();
        for (Partition p : partitions.values()) {
            PartitionView v = view(p);
            out.add(new PartitionView.Summary(p.name, v.system(), v.spec().vcpus(), v.spec().cores(),
                    v.windows().size(), v.migration() == null ? org.lparemu.core.papr.VasiState.INVALID
                    : v.migration().vasiState(), v.connections().size()));
        }
        out.sort(Comparator.comparing(PartitionView.Summary::name));
        return out;
    }

    public PartitionView getState(String name) {
        return view(partition(name));
    }

    private PartitionView view(Partition p) {
        p.lock.lock();
        try {
            List<PartitionView.EventView> events = new ArrayList<>();
            for (Partition.PendingEventEntry e : p.events.values()) {
                events.add(new PartitionView.EventView(e.event.eventId(), e.event.kind(),
                        e.deliveredTo == null ? "pending" : "delivered", e.detail));
            }
            List<PartitionView.ConnectionView> conns = new ArrayList<>();
            for (GuestSession s : p.sessions) {
                conns.add(new PartitionView.ConnectionView(s.id(), s.clientName(), s.sink().remote(),
                        s.receivesEvents(), s.callsInFlight()));
            }
            return HypervisorCalls.viewLocked(p, events, conns);
        } finally {
            p.lock.unlock();
        }
    }

    /**
     * Removes every partition, fails every parked or pending call, clears the trace, and recreates the
     * configured partitions: the platform as freshly started.
     */
    public void reset() {
        checkOpen();
        List<Partition> all;
        synchronized (partitions) {
            all = new ArrayList<>(partitions.values());
            partitions.clear();
        }
        faults.clear();
        holds.failAll("daemon reset");
        for (Partition p : all) {
            retire(p, GuestSink.DisconnectReason.PARTITION_GONE, "daemon reset");
        }
        resetHooks.forEach(Runnable::run);
        trace.clear();
        for (PartitionSpec spec : config.partitions()) {
            createPartition(spec);
        }
        log.info("reset: {} partition(s) recreated", config.partitions().size());
    }

    private final List<Runnable> resetHooks = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Runs on every {@link #reset()} after the partitions are gone (fault plan, holds). */
    public void onReset(Runnable hook) {
        resetHooks.add(hook);
    }

    // ---------------------------------------------------------------------------------------------
    // operator actions (HMC role)

    /**
     * Starts a Live Partition Mobility: opens a VASI stream (ENABLED), pushes MigrationRequest, moves the
     * stream to SUSPENDING after {@code orchestratorReadyMs} (at once for 0) and aborts it if the partition
     * has not suspended within {@code migrationTimeoutMs}.
     *
     * @param destination managed system to move to; null or empty = the first other system
     * @throws ControlException UNKNOWN_PARTITION, UNKNOWN_SYSTEM, INVALID_STATE (same system, no other
     *                          system, a migration already under way), LIMIT_EXCEEDED (too many pending events)
     */
    public OperatorResults.MigrateResult migrate(String partition, String destination) {
        checkOpen();
        return Mobility.migrate(this, partition(partition), destination);
    }

    /**
     * The outcome of the partition's current migration when it ends (COMPLETED or ABORTED), or at once the
     * most recent outcome when none is under way. Fails with INVALID_STATE when the partition never migrated,
     * TIMEOUT after {@code timeoutMs} (0 = wait as long as it takes).
     */
    public CompletableFuture<MigrationOutcome> awaitMigration(String partition, long timeoutMs) {
        checkOpen();
        return Mobility.awaitMigration(this, partition(partition), timeoutMs);
    }

    /**
     * Platform Resource Reassignment: applies the changes to the partition's tree on its current system,
     * records the touched nodes under a new scope (1, 2, ... per partition) and pushes PrrnEvent(scope).
     *
     * @throws ControlException BAD_REQUEST (no changes, unknown node or property, bad path; nothing changed),
     *                          LIMIT_EXCEEDED, UNKNOWN_PARTITION
     */
    public OperatorResults.PrrnResult prrn(String partition, List<DeviceTreeChange> changes) {
        checkOpen();
        return Reconfiguration.prrn(this, partition(partition), changes);
    }

    /**
     * DLPAR of processor cores: adds or removes (highest first) {@code cores} cores, with their CPU nodes;
     * the Default credit target follows; one DlparCpu event per core, with its DRC index.
     *
     * @throws ControlException BAD_REQUEST (cores &lt; 1, none would remain), LIMIT_EXCEEDED (more than
     *                          {@link PartitionSpec#MAX_CORES}), UNKNOWN_PARTITION
     */
    public OperatorResults.DlparCpuResult dlparCpu(String partition, boolean add, int cores) {
        checkOpen();
        return Reconfiguration.dlparCpu(this, partition(partition), add, cores);
    }

    /** Sets the partition's QoS credits (its QoS target) and pushes QosCredits; returns the event id. */
    public long setQosCredits(String partition, int credits) {
        checkOpen();
        return Reconfiguration.setQosCredits(this, partition(partition), credits);
    }

    // ---------------------------------------------------------------------------------------------
    // guest connections

    /**
     * Binds a new guest connection to a partition.
     *
     * @param receivesEvents false for a connection that only makes calls
     */
    public GuestSession attach(String partitionName, String clientName, boolean receivesEvents, GuestSink sink) {
        checkOpen();
        Partition p = partition(partitionName);
        GuestSession s = new GuestSession(nextSessionId.getAndIncrement(), this, p, clientName, receivesEvents, sink);
        List<PlatformEvent> redeliver = new ArrayList<>();
        p.lock.lock();
        try {
            if (p.deleted) {
                throw new ControlException(ControlError.UNKNOWN_PARTITION, "no partition '" + partitionName + "'");
            }
            p.sessions.add(s);
            if (p.eventSessionLocked() == s) {
                for (Partition.PendingEventEntry e : p.events.values()) {
                    e.deliveredTo = s;
                    redeliver.add(e.event);
                }
            }
        } finally {
            p.lock.unlock();
        }
        trace.note(TraceKind.CONNECTION, p.name, "connect", s.toString());
        for (PlatformEvent e : redeliver) {
            sink.deliver(e);
        }
        return s;
    }

    /** A connection went away: forget it, hand its undelivered events to the next event connection. */
    void detach(GuestSession s) {
        Partition p = s.partition();
        List<PlatformEvent> redeliver = new ArrayList<>();
        GuestSession next;
        List<Runnable> pending;
        p.lock.lock();
        try {
            p.sessions.remove(s);
            pending = HypervisorCalls.detachLocked(p, s);
            next = p.eventSessionLocked();
            for (Partition.PendingEventEntry e : p.events.values()) {
                if (e.deliveredTo == s) {
                    e.deliveredTo = next;
                    if (next != null) {
                        redeliver.add(e.event);
                    }
                }
            }
        } finally {
            p.lock.unlock();
        }
        pending.forEach(Runnable::run);
        holds.failConnection(s.id(), "the guest connection closed");
        trace.note(TraceKind.CONNECTION, p.name, "disconnect", s.toString());
        if (next != null) {
            for (PlatformEvent e : redeliver) {
                next.sink().deliver(e);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // platform events

    /**
     * Pushes an event to the partition's guest (or keeps it pending until a guest connects).
     *
     * @param factory builds the event from its new id
     * @return the event (its ack is awaited with {@link #awaitEvent})
     */
    public PlatformEvent pushEvent(Partition p, Function<Long, PlatformEvent> factory, String detail) {
        PlatformEvent event;
        GuestSession target;
        p.lock.lock();
        try {
            if (p.events.size() >= config.limits().maxPendingEvents()) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED, "partition " + p.name + " has "
                        + p.events.size() + " unacknowledged events (limit " + config.limits().maxPendingEvents() + ")");
            }
            event = factory.apply(newEventId());
            Partition.PendingEventEntry e = new Partition.PendingEventEntry(event, detail);
            target = p.eventSessionLocked();
            e.deliveredTo = target;
            p.events.put(event.eventId(), e);
        } finally {
            p.lock.unlock();
        }
        trace.append(TraceKind.EVENT, p.name, -1, "", event.kind(), new long[] {event.eventId()}, 0, 0, 0,
                detail, 0);
        if (target != null) {
            target.sink().deliver(event);
        }
        return event;
    }

    private final ConcurrentHashMap<Long, Partition.EventAck> recentAcks = new ConcurrentHashMap<>();
    private static final int RECENT_ACKS = 4096;

    void acknowledge(GuestSession s, long eventId, int status, String detail) {
        Partition p = s.partition();
        Partition.PendingEventEntry e;
        Partition.EventAck ack = new Partition.EventAck(eventId, status, detail == null ? "" : detail);
        p.lock.lock();
        try {
            e = p.events.remove(eventId);
            if (e != null) {
                // In the same critical section as the removal: an awaitEvent that no longer finds the event
                // pending (it looks under this lock) must find it here.
                if (recentAcks.size() >= RECENT_ACKS) {
                    recentAcks.keySet().stream().sorted().limit(RECENT_ACKS / 4).toList().forEach(recentAcks::remove);
                }
                recentAcks.put(eventId, ack);
            }
        } finally {
            p.lock.unlock();
        }
        trace.append(TraceKind.EVENT_ACK, p.name, -1, "", e == null ? "unknown event" : e.event.kind(),
                new long[] {eventId}, status, 0, 0, detail, 0);
        if (e == null) {
            log.debug("{}: ack for unknown event {}", p.name, eventId);
            return;
        }
        e.ack.complete(ack);
    }

    /** The guest's ack of an event, when it comes; TIMEOUT after {@code timeoutMs}; UNKNOWN_EVENT if never pushed. */
    public CompletableFuture<Partition.EventAck> awaitEvent(long eventId, long timeoutMs) {
        Partition.EventAck done = recentAcks.get(eventId);
        if (done != null) {
            return CompletableFuture.completedFuture(done);
        }
        for (Partition p : partitions.values()) {
            p.lock.lock();
            try {
                Partition.PendingEventEntry e = p.events.get(eventId);
                if (e != null) {
                    return withTimeout(e.ack, timeoutMs, "event " + eventId + " not acknowledged");
                }
            } finally {
                p.lock.unlock();
            }
        }
        Partition.EventAck late = recentAcks.get(eventId);
        if (late != null) {
            return CompletableFuture.completedFuture(late);
        }
        return CompletableFuture.failedFuture(new ControlException(ControlError.UNKNOWN_EVENT,
                "no event " + eventId + " is pending or recently acknowledged"));
    }

    /**
     * Asks the partition's guest for a fresh report (a ReportRequest event) and completes with it once the
     * guest has acknowledged the request; empty when no guest connection takes events. The guest sends the
     * report before the ack on the same connection, so the ack means the report has arrived.
     */
    public CompletableFuture<java.util.Optional<GuestReport>> freshReport(String partition, long timeoutMs) {
        Partition p = partition(partition);
        p.lock.lock();
        try {
            if (p.eventSessionLocked() == null) {
                return CompletableFuture.completedFuture(java.util.Optional.empty());
            }
        } finally {
            p.lock.unlock();
        }
        PlatformEvent e = pushEvent(p, PlatformEvent.ReportRequest::new, "invariant check");
        return awaitEvent(e.eventId(), timeoutMs <= 0 ? 5000 : timeoutMs).thenApply(ack -> {
            p.lock.lock();
            try {
                GuestReport r = p.latestReport;
                if (r == null || r.inReplyToEvent() != e.eventId()) {
                    throw new ControlException(ControlError.INVALID_STATE, "the guest of " + p.name
                            + " acknowledged report request " + e.eventId() + " without sending the report");
                }
                return java.util.Optional.of(r);
            } finally {
                p.lock.unlock();
            }
        });
    }

    void acceptReport(GuestSession s, GuestReport report) {
        Partition p = s.partition();
        p.lock.lock();
        try {
            p.latestReport = report;
        } finally {
            p.lock.unlock();
        }
    }

    /** A copy of {@code f} that fails with TIMEOUT after {@code timeoutMs} (0 = no timeout). */
    public <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, long timeoutMs, String what) {
        if (timeoutMs <= 0) {
            return f;
        }
        CompletableFuture<T> out = new CompletableFuture<>();
        var timer = executor.schedule(() -> out.completeExceptionally(
                new ControlException(ControlError.TIMEOUT, what + " within " + timeoutMs + " ms")),
                timeoutMs, TimeUnit.MILLISECONDS);
        f.whenComplete((v, e) -> {
            timer.cancel(false);
            if (e != null) {
                out.completeExceptionally(e instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : e);
            } else {
                out.complete(v);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // the dispatcher

    /**
     * Dispatches one guest call. Returns a future of {@link HcallResult} (hcall) or {@link RtasResult} (RTAS).
     * It fails only when the partition is gone or a fault rule disconnected the caller; every other outcome
     * is a PAPR or RTAS status.
     *
     * <p>Pipeline: CALL_BEGIN trace -> the fault plan's BEFORE actions in rule order (delay, hold, trigger;
     * a ReturnStatus answers instead of the handler; Disconnect closes the caller) -> the handler, or
     * deferral while the partition is suspended -> the AFTER actions -> CALL_END trace -> the reply.
     */
    CompletableFuture<Object> dispatch(GuestSession session, int vcpu, String task, long opcode, String service,
                                       long[] args, byte[] data) {
        hcallCount.incrementAndGet();
        Partition p = session.partition();
        p.callsMade.incrementAndGet();
        String name = service != null ? service : Hcall.name(opcode);
        long beginNanos = trace.now();
        long beginSeq = trace.append(TraceKind.CALL_BEGIN, p.name, vcpu, task, name, args, 0, 0, 0, "", opcode);
        CallContext ctx = new CallContext(this, p, session, vcpu, task, opcode, service, args, data);
        InFlight call = new InFlight(ctx, beginSeq, beginNanos);
        if (!faults.isEmpty()) {
            call.info = new CallInfo(p.name, vcpu, ctx.task(), opcode, service, ctx.args(), session.id(), beginSeq);
            call.fired = faults.evaluate(call.info);
        }
        call.before(0);
        return call.reply;
    }

    /** One call on its way through the pipeline; each step may continue on another thread. */
    private final class InFlight {
        final CallContext ctx;
        final long beginSeq;
        final long beginNanos;
        final CompletableFuture<Object> reply = new CompletableFuture<>();
        CallInfo info;
        List<FaultPlan.Fired> fired = List.of();

        InFlight(CallContext ctx, long beginSeq, long beginNanos) {
            this.ctx = ctx;
            this.beginSeq = beginSeq;
            this.beginNanos = beginNanos;
        }

        /** Applies BEFORE actions from index i, then runs the call. */
        void before(int i) {
            for (; i < fired.size(); i++) {
                FaultPlan.Fired f = fired.get(i);
                FaultAction a = f.action();
                if (a.when() != When.BEFORE) {
                    continue;
                }
                noteFault(f, null);
                int next = i + 1;
                if (a instanceof FaultAction.Delay d) {
                    executor.schedule(() -> before(next), d.ms(), TimeUnit.MILLISECONDS);
                    return;
                } else if (a instanceof FaultAction.Hold h) {
                    CompletableFuture<Void> released = holds.park(h.latch(), info, When.BEFORE, 0);
                    if (released == null) {
                        faults.holdRefused(f.ruleId());
                        continue;
                    }
                    released.whenCompleteAsync((v, e) -> {
                        if (e != null) {
                            finish(null, e);
                        } else {
                            before(next);
                        }
                    }, executor);
                    return;
                } else if (a instanceof FaultAction.Trigger t) {
                    trigger(f, t);
                } else if (a instanceof FaultAction.ReturnStatus rs) {
                    finish(injected(rs), null);
                    return;
                } else if (a instanceof FaultAction.Disconnect) {
                    GuestSession s = ctx.session();
                    s.sink().disconnect(GuestSink.DisconnectReason.FAULT_DISCONNECT,
                            "fault rule " + f.ruleId() + " disconnected this connection at " + ctx.label());
                    s.close();
                    finish(null, new PortException("disconnected by fault rule " + f.ruleId()));
                    return;
                }
            }
            invoke();
        }

        void invoke() {
            Partition p = ctx.partition();
            GuestSession caller = ctx.session();
            if (caller != null && !caller.isOpen()) {
                // The connection went away while the call waited (a Delay, a released Hold, a suspension):
                // nobody can receive the answer, so the call is cancelled rather than run. Running it could
                // allocate a window no guest will ever know about.
                finish(null, new PortException("the guest connection closed before " + ctx.label() + " ran"));
                return;
            }
            Object result;
            p.lock.lock();
            try {
                if (p.deleted) {
                    result = null;
                } else if (p.suspended) {
                    if (p.deferredCalls.size() >= config.limits().maxDeferredCalls()) {
                        result = busy(ctx);
                    } else {
                        p.deferredCalls.add(this::invoke);
                        return;
                    }
                } else {
                    result = invokeLocked(ctx);
                }
            } catch (RuntimeException e) {
                log.error("handler for {} failed on partition {}", ctx.label(), p.name, e);
                result = ctx.isRtas() ? RtasResult.of(RtasStatus.HARDWARE_ERROR) : HcallResult.of(HStatus.H_HARDWARE);
            } finally {
                p.lock.unlock();
            }
            ctx.runAfterUnlock();
            if (result == null) {
                finish(null, new ControlException(ControlError.UNKNOWN_PARTITION, "partition " + p.name + " is gone"));
            } else if (result == CallContext.PENDING_HCALL || result == CallContext.PENDING_RTAS) {
                ctx.deferredFuture().whenCompleteAsync((r, e) -> {
                    if (e != null) {
                        finish(null, e);
                    } else {
                        after(r, 0);
                    }
                }, executor);
            } else {
                after(result, 0);
            }
        }

        /** Applies AFTER actions from index i to the handler's result, then replies. */
        void after(Object handlerResult, int i) {
            Object result = handlerResult;
            for (; i < fired.size(); i++) {
                FaultPlan.Fired f = fired.get(i);
                FaultAction a = f.action();
                if (a.when() != When.AFTER) {
                    continue;
                }
                noteFault(f, result);
                int next = i + 1;
                Object current = result;
                if (a instanceof FaultAction.Delay d) {
                    executor.schedule(() -> after(current, next), d.ms(), TimeUnit.MILLISECONDS);
                    return;
                } else if (a instanceof FaultAction.Hold h) {
                    CompletableFuture<Void> released = holds.park(h.latch(), info, When.AFTER, status(current));
                    if (released == null) {
                        faults.holdRefused(f.ruleId());
                        continue;
                    }
                    released.whenCompleteAsync((v, e) -> {
                        if (e != null) {
                            finish(null, e);
                        } else {
                            after(current, next);
                        }
                    }, executor);
                    return;
                } else if (a instanceof FaultAction.Trigger t) {
                    trigger(f, t);
                } else if (a instanceof FaultAction.ReturnStatus rs) {
                    result = injected(rs);
                }
            }
            finish(result, null);
        }

        Object injected(FaultAction.ReturnStatus rs) {
            return ctx.isRtas() ? new RtasResult((int) rs.status(), rs.rets(), null)
                    : new HcallResult(rs.status(), rs.rets(), null);
        }

        void trigger(FaultPlan.Fired f, FaultAction.Trigger t) {
            try {
                Triggers.run(Platform.this, t.action(), ctx.partition().name);
            } catch (RuntimeException e) {
                trace.append(TraceKind.FAULT, ctx.partition().name, ctx.vcpu(), ctx.task(),
                        "rule " + f.ruleId() + " trigger failed", null, 0, beginSeq, 0, e.getMessage(), ctx.opcode());
                log.debug("trigger of rule {} failed: {}", f.ruleId(), e.toString());
            }
        }

        void noteFault(FaultPlan.Fired f, Object result) {
            FaultAction a = f.action();
            String what = a instanceof FaultAction.Hold h ? "Hold(" + h.latch() + ")"
                    : a instanceof FaultAction.Delay d ? "Delay(" + d.ms() + " ms)"
                    : a instanceof FaultAction.ReturnStatus rs ? "ReturnStatus(" + (ctx.isRtas()
                            ? RtasStatus.name(rs.status()) : HStatus.name(rs.status())) + ")"
                    : a instanceof FaultAction.Trigger t ? "Trigger(" + t.action().describe() + ")" : "Disconnect";
            trace.append(TraceKind.FAULT, ctx.partition().name, ctx.vcpu(), ctx.task(),
                    "rule " + f.ruleId() + " " + what + " " + a.when(), null, result == null ? 0 : status(result),
                    beginSeq, 0, ctx.label(), ctx.opcode());
        }

        void finish(Object result, Throwable error) {
            Platform.this.finish(ctx, reply, beginSeq, beginNanos, result, error);
        }
    }

    private static long status(Object result) {
        return result instanceof HcallResult h ? h.status() : result instanceof RtasResult r ? r.status() : 0;
    }

    private static Object busy(CallContext ctx) {
        return ctx.isRtas() ? RtasResult.of(RtasStatus.BUSY) : HcallResult.of(HStatus.H_BUSY);
    }

    private Object invokeLocked(CallContext ctx) {
        if (ctx.vcpu() < 0 || ctx.vcpu() >= ctx.partition().specLocked().vcpus()) {
            return ctx.isRtas() ? RtasResult.of(RtasStatus.PARAMETER_ERROR) : HcallResult.of(HStatus.H_PARAMETER);
        }
        if (ctx.isRtas()) {
            RtasHandler h = table.rtas(ctx.service());
            return h == null ? RtasResult.of(RtasStatus.PARAMETER_ERROR) : h.handle(ctx);
        }
        HcallHandler h = table.hcall(ctx.opcode());
        return h == null ? HcallResult.of(HStatus.H_FUNCTION) : h.handle(ctx);
    }

    private void finish(CallContext ctx, CompletableFuture<Object> reply, long beginSeq, long beginNanos, Object result,
                        Throwable error) {
        long status = result instanceof HcallResult h ? h.status() : result instanceof RtasResult r ? r.status() : 0;
        String name = ctx.isRtas() ? ctx.service() : Hcall.name(ctx.opcode());
        if (error != null) {
            trace.append(TraceKind.CALL_END, ctx.partition().name, ctx.vcpu(), ctx.task(), name, null, status,
                    beginSeq, beginNanos, error.toString(), ctx.opcode());
        } else {
            // The ring keeps the return registers as values ("rets [..]" is formatted when the trace is read).
            trace.appendCallEnd(ctx.partition().name, ctx.vcpu(), ctx.task(), name, status, beginSeq, beginNanos,
                    result instanceof HcallResult h ? h.rets() : null, ctx.opcode());
        }
        if (error != null) {
            reply.completeExceptionally(error);
        } else {
            reply.complete(result);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // faults and holds

    public FaultPlan faults() {
        return faults;
    }

    public Holds holds() {
        return holds;
    }

    /** Adds a fault rule; LIMIT_EXCEEDED past the configured maximum. */
    public long addFault(FaultRule rule) {
        try {
            long id = faults.add(rule);
            trace.note(TraceKind.OPERATOR, rule.match().partition(), "AddFault", "rule " + id + ": " + rule);
            return id;
        } catch (IllegalStateException e) {
            throw new ControlException(ControlError.LIMIT_EXCEEDED, e.getMessage());
        }
    }

    /** Waits until {@code minCount} calls are parked at a latch; TIMEOUT after {@code timeoutMs}. */
    public CompletableFuture<List<ParkedCall>> awaitHold(String latch, int minCount, long timeoutMs) {
        if (latch == null || latch.isEmpty()) {
            throw new ControlException(ControlError.BAD_REQUEST, "AwaitHold needs a latch name");
        }
        return withTimeout(holds.await(latch, minCount), timeoutMs, "no call parked at latch '" + latch + "'");
    }

    /** Re-runs the calls a suspension deferred (called by the resume path after it releases the lock). */
    void runDeferred(List<Runnable> calls) {
        for (Runnable r : calls) {
            executor.execute(r);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void checkOpen() {
        if (closed) {
            throw new ControlException(ControlError.SHUTTING_DOWN, "the platform is shutting down");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes every guest connection (SHUTTING_DOWN), fails pending calls, and stops the executor. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        holds.failAll("the daemon is shutting down");
        List<Partition> all = new ArrayList<>(partitions.values());
        partitions.clear();
        for (Partition p : all) {
            retire(p, GuestSink.DisconnectReason.SHUTTING_DOWN, "the daemon is shutting down");
        }
        if (ownsExecutor) {
            executor.shutdown();
            try {
                if (!executor.awaitTermination(2, TimeUnit.SECONDS)) {
                    executor.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                executor.shutdownNow();
            }
        }
    }

    /** Fails with TIMEOUT (a typed ControlException) — helper for awaiting control operations. */
    static ControlException timeout(String what, TimeoutException e) {
        return new ControlException(ControlError.TIMEOUT, what);
    }
}
