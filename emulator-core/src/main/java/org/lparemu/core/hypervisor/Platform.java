package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import org.lparemu.core.fault.FaultPlan;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.Holds;
import org.lparemu.core.fault.ParkedCall;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.GuestReport;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emulated PowerVM platform, as transports and operators see it: managed systems, the partition registry,
 * guest connections, the operator (HMC-role) actions, faults and holds. It is a facade over three parts:
 * <ul>
 *   <li>{@link CallPipeline}: every guest call (trace, fault plan, handler, deferral, reply);</li>
 *   <li>{@link PlatformEvents}: events pushed to guests, their acknowledgements and the waits on them;</li>
 *   <li>{@link PlatformServices}: the narrow view of configuration, trace, timers and events that the hcall
 *       families, {@link Mobility} and {@link Reconfiguration} receive instead of this class.</li>
 * </ul>
 * Transports (the Netty daemon, the in-process port) reach the pipeline through {@link GuestSession}.
 *
 * <p>Thread-safety: the partition map is concurrent (changes to it are serialised on its monitor); each
 * partition's state is guarded by its own lock; counters are atomics. No method blocks on another thread's
 * progress except {@link #close()}.
 */
public final class Platform implements AutoCloseable, OperatorActions {
    private static final Logger LOG = LoggerFactory.getLogger(Platform.class);

    // immutable after construction
    private final PlatformConfig config;
    private final Map<String, ManagedSystem> systems = new LinkedHashMap<>();
    private final DispatchTable table = new DispatchTable();
    private final TraceRing trace;
    private final ScheduledExecutorService executor;
    private final boolean ownsExecutor;
    private final FaultPlan faults;
    private final Holds holds;
    private final PlatformEvents events;
    private final PlatformServices services;
    private final CallPipeline pipeline;
    private final PlatformCounters counters = new PlatformCounters();

    // concurrent; structural changes under the map's monitor
    private final ConcurrentHashMap<String, Partition> partitions = new ConcurrentHashMap<>();
    private final AtomicLong nextSessionId = new AtomicLong(1);
    private volatile boolean closed;

    /** A platform with its own two-thread executor for timers and deferred completions. */
    public Platform(PlatformConfig config) {
        this(config, newExecutor(), true);
    }

    /** A platform using the given executor (tests pass a manual or shared one); it is not shut down here. */
    public Platform(PlatformConfig config, ScheduledExecutorService executor) {
        this(config, executor, false, System::nanoTime);
    }

    /**
     * A platform whose timers run on {@code executor} and whose trace's time base is {@code nanoClock}: a
     * simulation passes its scheduler and virtual clock, so that everything the platform does is a function of the
     * schedule. Neither is shut down here.
     */
    public Platform(PlatformConfig config, ScheduledExecutorService executor, LongSupplier nanoClock) {
        this(config, executor, false, nanoClock);
    }

    private Platform(PlatformConfig config, ScheduledExecutorService executor, boolean ownsExecutor) {
        this(config, executor, ownsExecutor, System::nanoTime);
    }

    private Platform(PlatformConfig config, ScheduledExecutorService executor, boolean ownsExecutor,
                     LongSupplier nanoClock) {
        this.config = config;
        this.executor = executor;
        this.ownsExecutor = ownsExecutor;
        this.trace = new TraceRing(config.limits().traceCapacity(), nanoClock);
        this.faults = new FaultPlan(config.limits().maxFaultRules());
        this.holds = new Holds(config.limits().maxParkedHolds());
        int i = 0;
        for (PlatformConfig.SystemConfig s : config.systems()) {
            systems.put(s.name(), new ManagedSystem(s, i++));
        }
        this.events = new PlatformEvents(config.limits(), trace, executor, partitions::values, counters);
        this.services = new PlatformServices(config, systems, trace, executor, events, counters);
        this.pipeline = new CallPipeline(services, table, faults, holds, this);
        HypervisorCalls.registerAll(table);
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

    /** Events pushed and migrations ended since start (monotonic, for the daemon's metrics). */
    public PlatformCounters counters() {
        return counters;
    }

    /** Total hcalls and RTAS calls dispatched since start. */
    public long callCount() {
        return pipeline.callCount();
    }

    public ManagedSystem system(String name) {
        return services.system(name);
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

    // ---------------------------------------------------------------------------------------------
    // platform operations

    /** Creates a partition; unset spec fields take the configured defaults. */
    public PartitionView createPartition(PartitionSpec requested) {
        checkOpen();
        String firstSystem = systems.keySet().iterator().next();
        PartitionSpec spec = requested.withDefaults(config.partitionDefaults(), firstSystem);
        ManagedSystem system = services.system(spec.system());
        synchronized (partitions) {
            if (partitions.containsKey(spec.name())) {
                throw new ControlException(ControlError.DUPLICATE_NAME, "partition '" + spec.name() + "' exists");
            }
            if (partitions.size() >= config.limits().maxPartitions()) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED,
                        "partition limit " + config.limits().maxPartitions() + " reached");
            }
            Partition p = new Partition(services, spec, system);
            partitions.put(spec.name(), p);
            trace.note(TraceKind.OPERATOR, spec.name(), "CreatePartition",
                    "vcpus " + spec.vcpus() + " cores " + spec.cores() + " on " + system.name());
            LOG.info("partition {} created on {} ({} vcpus, {} cores)", spec.name(), system.name(), spec.vcpus(),
                    spec.cores());
            return view(p, true);
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
        LOG.info("partition {} deleted", name);
    }

    private void retire(Partition p, GuestSink.DisconnectReason reason, String message) {
        List<GuestSession> sessions;
        List<Partition.PendingEventEntry> pendingEvents;
        List<Runnable> pending;
        p.lock.lock();
        try {
            p.deleted = true;
            sessions = new ArrayList<>(p.sessions);
            p.sessions.clear();
            pendingEvents = new ArrayList<>(p.events.values());
            p.events.clear();
            pending = HypervisorCalls.retireLocked(p);
        } finally {
            p.lock.unlock();
        }
        pending.forEach(Runnable::run);
        holds.failPartition(p.name, message);
        for (Partition.PendingEventEntry e : pendingEvents) {
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
            PartitionView v = view(p, true);
            out.add(new PartitionView.Summary(p.name, v.system(), v.spec().vcpus(), v.spec().cores(),
                    v.windows().size(), v.migration() == null ? VasiState.INVALID : v.migration().vasiState(),
                    v.connections().size()));
        }
        out.sort(Comparator.comparing(PartitionView.Summary::name));
        return out;
    }

    public PartitionView getState(String name) {
        return view(partition(name), true);
    }

    /**
     * The partition's state without its device tree ({@link PartitionView#deviceTree()} is null): what a check
     * after every step of a simulation reads, where copying the tree would be most of the cost.
     */
    public PartitionView getStateWithoutTree(String name) {
        return view(partition(name), false);
    }

    private PartitionView view(Partition p, boolean withTree) {
        p.lock.lock();
        try {
            List<PartitionView.EventView> pendingEvents = new ArrayList<>();
            for (Partition.PendingEventEntry e : p.events.values()) {
                pendingEvents.add(new PartitionView.EventView(e.event.eventId(), e.event.kind(),
                        e.deliveredTo == null ? "pending" : "delivered", e.detail));
            }
            List<PartitionView.ConnectionView> conns = new ArrayList<>();
            for (GuestSession s : p.sessions) {
                conns.add(new PartitionView.ConnectionView(s.id(), s.clientName(), s.sink().remote(),
                        s.receivesEvents(), s.callsInFlight(), !s.isOpen()));
            }
            return HypervisorCalls.viewLocked(p, pendingEvents, conns, withTree);
        } finally {
            p.lock.unlock();
        }
    }

    /**
     * Removes every partition, fails every parked or pending call, clears the fault rules and the trace, and
     * recreates the configured partitions: the platform as freshly started.
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
        trace.clear();
        for (PartitionSpec spec : config.partitions()) {
            createPartition(spec);
        }
        LOG.info("reset: {} partition(s) recreated", config.partitions().size());
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
    @Override
    public OperatorResults.MigrateResult migrate(String partition, String destination) {
        checkOpen();
        return Mobility.migrate(services, partition(partition), destination);
    }

    /**
     * The outcome of the partition's current migration when it ends (COMPLETED or ABORTED), or at once the
     * most recent outcome when none is under way. Fails with INVALID_STATE when the partition never migrated,
     * TIMEOUT after {@code timeoutMs} (0 = wait as long as it takes).
     */
    public CompletableFuture<MigrationOutcome> awaitMigration(String partition, long timeoutMs) {
        checkOpen();
        return Mobility.awaitMigration(services, partition(partition), timeoutMs);
    }

    /**
     * Platform Resource Reassignment: applies the changes to the partition's tree on its current system,
     * records the touched nodes under a new scope (1, 2, ... per partition) and pushes PrrnEvent(scope), or with
     * {@code prrnDelivery} EVENT_LOG queues an RTAS event log of type 0xA0 for event-scan (event id 0: no ack).
     *
     * @throws ControlException BAD_REQUEST (no changes, unknown node or property, bad path; nothing changed),
     *                          LIMIT_EXCEEDED, UNKNOWN_PARTITION
     */
    @Override
    public OperatorResults.PrrnResult prrn(String partition, List<DeviceTreeChange> changes) {
        checkOpen();
        return Reconfiguration.prrn(services, partition(partition), changes);
    }

    /**
     * DLPAR of processor cores: adds or removes (highest first) {@code cores} cores, with their CPU nodes;
     * the Default credit target follows; one DlparCpu event per core, with its DRC index.
     *
     * @throws ControlException BAD_REQUEST (cores &lt; 1, none would remain), LIMIT_EXCEEDED (more than
     *                          {@link PartitionSpec#MAX_CORES}), UNKNOWN_PARTITION
     */
    @Override
    public OperatorResults.DlparCpuResult dlparCpu(String partition, boolean add, int cores) {
        checkOpen();
        return Reconfiguration.dlparCpu(services, partition(partition), add, cores);
    }

    /** Sets the partition's QoS credits (its QoS target) and pushes QosCredits; returns the event id. */
    @Override
    public long setQosCredits(String partition, int credits) {
        checkOpen();
        return Reconfiguration.setQosCredits(services, partition(partition), credits);
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

    /**
     * A connection went away: its H_JOINs and parked calls are failed at once, but the connection is forgotten (and
     * its undelivered events handed to the next event connection) only when the last of its calls has left its
     * vCPU ({@link #forget}). Until then it is listed as closing and its vCPUs stay busy, as a real vCPU stays in
     * its call until the call returns: a partition that shows no connection has no vCPU still held by a gone one.
     */
    void detach(GuestSession s) {
        Partition p = s.partition();
        List<Runnable> pending;
        p.lock.lock();
        try {
            pending = HypervisorCalls.detachLocked(p, s);
        } finally {
            p.lock.unlock();
        }
        pending.forEach(Runnable::run);
        holds.failConnection(s.id(), "the guest connection closed");
        if (s.callsInFlight() == 0) {
            forget(s);
        }
    }

    /**
     * A closed connection with no call left in flight: removes it from its partition and hands the events it had
     * been given to the next event connection. Runs once, from {@link #detach} or from the answer of its last call.
     */
    void forget(GuestSession s) {
        if (!s.markForgotten()) {
            return;
        }
        Partition p = s.partition();
        List<PlatformEvent> redeliver = new ArrayList<>();
        GuestSession next;
        p.lock.lock();
        try {
            p.sessions.remove(s);
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
        trace.note(TraceKind.CONNECTION, p.name, "disconnect", s.toString());
        if (next != null) {
            for (PlatformEvent e : redeliver) {
                next.sink().deliver(e);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // platform events

    /** Pushes an event to the partition's guest (see {@link PlatformEvents#push}). */
    public PlatformEvent pushEvent(Partition p, LongFunction<PlatformEvent> factory, String detail) {
        return events.push(p, factory, detail);
    }

    /** The guest's ack of an event, when it comes; TIMEOUT after {@code timeoutMs}; UNKNOWN_EVENT if never pushed. */
    public CompletableFuture<Partition.EventAck> awaitEvent(long eventId, long timeoutMs) {
        return events.await(eventId, timeoutMs);
    }

    /**
     * Asks the partition's guest for a fresh report and completes with it once the guest has acknowledged the
     * request; empty when no guest connection takes events (see {@link PlatformEvents#freshReport}).
     */
    public CompletableFuture<Optional<GuestReport>> freshReport(String partition, long timeoutMs) {
        return events.freshReport(partition(partition), timeoutMs);
    }

    /** A copy of {@code f} that fails with TIMEOUT after {@code timeoutMs} (0 = no timeout). */
    public <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, long timeoutMs, String what) {
        return services.withTimeout(f, timeoutMs, what);
    }

    // ---------------------------------------------------------------------------------------------
    // the transports' side (through GuestSession)

    void dispatch(GuestSession session, int vcpu, String task, long opcode, String service, long[] args, byte[] data,
                  boolean interruptsDisabled, CallAnswer answer) {
        pipeline.dispatch(session, vcpu, task, opcode, service, args, data, interruptsDisabled, answer);
    }

    void acknowledge(GuestSession s, long eventId, int status, String detail) {
        events.acknowledge(s, eventId, status, detail);
    }

    void acceptReport(GuestSession s, GuestReport report) {
        events.acceptReport(s, report);
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
}
