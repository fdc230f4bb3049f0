package org.lparemu.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.LongFunction;
import org.lparemu.core.hypervisor.DispatchTable;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallResult;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.RtasResult;

/**
 * The per-call metrics of the guest port: calls by name and status, a latency histogram per name, and calls refused
 * by the vCPU rules by reason.
 *
 * <p><b>The call path stays cheap.</b> The guest handler looks its call's {@link Series} up once per call (a binary
 * search over the registered opcodes, or a map lookup by RTAS service name, both allocation-free) and, when the
 * call is answered, {@link Series#record records} it: one status lookup in a small array, one counter increment and
 * one histogram observation, both of which the Prometheus client implements with {@code LongAdder}s and no lock
 * outside a scrape. Label children are resolved once, when a name or a (name, status) pair is first seen, and kept;
 * the copy-on-write that adds one takes a lock, but only the first time that pair occurs.
 *
 * <p><b>Bounded.</b> A guest chooses its opcodes, service names and (through fault rules, the operator) statuses,
 * so none of them may grow the label sets without bound: names are the dispatch table's registered hcalls and RTAS
 * services plus {@value #OTHER}; each name keeps at most {@value #MAX_STATUSES} statuses, later ones count under
 * {@value #OTHER}.
 *
 * <p>Thread-safety: every method may be called from any thread (calls are answered on platform threads).
 */
public final class CallMetrics {
    /** The label value for a name or status beyond the known set. */
    public static final String OTHER = "other";
    /** Distinct statuses kept per call name; beyond that they count as {@value #OTHER}. */
    static final int MAX_STATUSES = 16;
    /** Latency buckets, in seconds: 10 µs to 10 s. */
    static final double[] BUCKETS = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05,
        0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final Counter hcalls;
    private final Counter rtasCalls;
    private final Histogram duration;
    /** Registered opcodes, sorted; {@link #hcallSeries} holds their series at the same index, then "other". */
    private final long[] opcodes;
    private final AtomicReferenceArray<Series> hcallSeries;
    /** Registered RTAS services to their index in {@link #rtasSeries}; the last index is "other". */
    private final Map<String, Integer> services;
    private final AtomicReferenceArray<Series> rtasSeries;
    private final Map<CallRefusal.Reason, CounterDataPoint> refusedByReason = new EnumMap<>(CallRefusal.Reason.class);

    CallMetrics(PrometheusRegistry registry, DispatchTable table) {
        hcalls = Counter.builder().name("lparemu_hcalls").help("Hcalls answered, by call and PAPR status")
                .labelNames("call", "status").withoutExemplars().register(registry);
        rtasCalls = Counter.builder().name("lparemu_rtas_calls").help("RTAS calls answered, by service and RTAS status")
                .labelNames("service", "status").withoutExemplars().register(registry);
        duration = Histogram.builder().name("lparemu_call_duration_seconds")
                .help("Time from a call's request frame to its answer, by hcall or RTAS service name")
                .labelNames("call").classicOnly().classicUpperBounds(BUCKETS).withoutExemplars().register(registry);
        Counter refused = Counter.builder().name("lparemu_calls_refused")
                .help("Calls refused by the vCPU rules (CallRefused), by reason: no real processor could have made them")
                .labelNames("reason").withoutExemplars().register(registry);
        opcodes = table.hcalls().keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        hcallSeries = new AtomicReferenceArray<>(opcodes.length + 1);
        services = new HashMap<>();
        for (String s : table.rtasServices().keySet()) {
            services.put(s, services.size());
        }
        rtasSeries = new AtomicReferenceArray<>(services.size() + 1);
        for (CallRefusal.Reason r : CallRefusal.Reason.values()) {
            refusedByReason.put(r, refused.labelValues(r.name()));
        }
    }

    /** The series of an hcall opcode (an unregistered one counts as {@value #OTHER}). */
    public Series hcall(long opcode) {
        int i = Arrays.binarySearch(opcodes, opcode);
        int slot = i >= 0 ? i : opcodes.length;
        Series s = hcallSeries.get(slot);
        if (s == null) {
            String name = i >= 0 ? Hcall.name(opcode) : OTHER;
            s = install(hcallSeries, slot, new Series(hcalls, duration, name, HStatus::name));
        }
        return s;
    }

    /** The series of an RTAS service (an unregistered one counts as {@value #OTHER}). */
    public Series rtas(String service) {
        Integer i = services.get(service);
        int slot = i != null ? i : services.size();
        Series s = rtasSeries.get(slot);
        if (s == null) {
            s = install(rtasSeries, slot, new Series(rtasCalls, duration, i != null ? service : OTHER, RtasStatus::name));
        }
        return s;
    }

    private static Series install(AtomicReferenceArray<Series> slots, int slot, Series fresh) {
        return slots.compareAndSet(slot, null, fresh) ? fresh : slots.get(slot);
    }

    /**
     * Records one answered call: a {@link CallRefusal} counts by reason (it never ran, so it has no latency); an
     * hcall or RTAS answer counts under its status and observes its latency.
     */
    public void record(Series series, CallResult result, long nanos) {
        if (result instanceof CallRefusal refusal) {
            refusedByReason.get(refusal.reason()).inc();
        } else if (result instanceof HcallResult h) {
            series.record(h.status(), nanos);
        } else if (result instanceof RtasResult r) {
            series.record(r.status(), nanos);
        }
    }

    /** One call name: its latency child and its status children, resolved once each. */
    public static final class Series {
        private final Counter counter;
        private final String name;
        private final LongFunction<String> statusName;
        private final DistributionDataPoint latency;
        private final Object growLock = new Object();
        /** Statuses seen so far and their counter children (copy-on-write; replaced as a whole). */
        private volatile Statuses statuses = new Statuses(new long[0], new CounterDataPoint[0], null);

        Series(Counter counter, Histogram duration, String name, LongFunction<String> statusName) {
            this.counter = counter;
            this.name = name;
            this.statusName = statusName;
            this.latency = duration.labelValues(name);
        }

        public String name() {
            return name;
        }

        void record(long status, long nanos) {
            statuses.point(status, this).inc();
            latency.observe(nanos / 1e9);
        }

        CounterDataPoint grow(long status) {
            synchronized (growLock) {
                Statuses s = statuses;
                CounterDataPoint known = s.find(status);
                if (known != null) {
                    return known;
                }
                if (s.codes.length >= MAX_STATUSES) {
                    if (s.other == null) {
                        statuses = new Statuses(s.codes, s.points, counter.labelValues(name, OTHER));
                    }
                    return statuses.other;
                }
                long[] codes = Arrays.copyOf(s.codes, s.codes.length + 1);
                CounterDataPoint[] points = Arrays.copyOf(s.points, s.points.length + 1);
                codes[s.codes.length] = status;
                points[s.points.length] = counter.labelValues(name, statusName.apply(status));
                statuses = new Statuses(codes, points, s.other);
                return points[s.points.length];
            }
        }
    }

    /** An immutable status table: the codes seen, their children, and the overflow child once needed. */
    private record Statuses(long[] codes, CounterDataPoint[] points, CounterDataPoint other) {
        CounterDataPoint find(long status) {
            for (int i = 0; i < codes.length; i++) {
                if (codes[i] == status) {
                    return points[i];
                }
            }
            return null;
        }

        CounterDataPoint point(long status, Series owner) {
            CounterDataPoint p = find(status);
            if (p != null) {
                return p;
            }
            return other != null ? other : owner.grow(status);
        }
    }
}
