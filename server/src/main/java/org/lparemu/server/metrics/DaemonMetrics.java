package org.lparemu.server.metrics;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformCounters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's metrics in the Prometheus text format, served over HTTP ({@code serve --metrics-port}).
 *
 * <p>Two kinds of metric, chosen by what they cost the call path:
 * <ul>
 *   <li>per call ({@link CallMetrics}): hcalls and RTAS calls by name and status, the latency histogram per name,
 *       calls refused by the vCPU rules; recorded by the guest handler as each call is answered, with label
 *       children resolved once;</li>
 *   <li>read when scraped (callbacks): fault rules fired by action, migrations by outcome, platform events by kind
 *       (PRRN, DLPAR, migration requests, QoS), partitions, open connections by port, calls in flight, frames
 *       refused by kind. These come from counters and state the platform and the server keep anyway, so they add
 *       nothing to any call.</li>
 * </ul>
 * The registry is this daemon's own (not the client library's default one), so several daemons in one JVM, as
 * in tests, never share or clash.
 */
public final class DaemonMetrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonMetrics.class);

    /** What the server reports about its connections and refused frames when scraped. */
    public interface ServerState {
        /** Open connections by port ("guest", "control"). */
        Map<String, Integer> connectionsByPort();

        /** Frames and connections refused with a ProtocolError or a control Error, by kind, since start. */
        Map<String, Long> framesRefused();
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final CallMetrics calls;
    private HTTPServer http;

    public DaemonMetrics(Platform platform, ServerState server) {
        this.calls = new CallMetrics(registry, platform.dispatchTable());
        PlatformCounters counters = platform.counters();
        CounterWithCallback.builder().name("lparemu_fault_rules_fired")
                .help("Fault rule firings, by action (ReturnStatus, Delay, Hold, Disconnect, Trigger)")
                .labelNames("action")
                .callback(cb -> platform.faults().firedByAction().forEach((k, v) -> cb.call(v, k)))
                .register(registry);
        CounterWithCallback.builder().name("lparemu_migrations")
                .help("Migrations that ended, by outcome (completed, aborted)").labelNames("outcome")
                .callback(cb -> {
                    for (PlatformCounters.MigrationEnd e : PlatformCounters.MigrationEnd.values()) {
                        cb.call((double) counters.migrations(e), e.name().toLowerCase(Locale.ROOT));
                    }
                }).register(registry);
        CounterWithCallback.builder().name("lparemu_platform_events")
                .help("Platform events pushed to guests, by kind (MigrationRequest, PrrnEvent, DlparCpu, QosCredits, "
                        + "ReportRequest)")
                .labelNames("kind")
                .callback(cb -> counters.eventsPushed().forEach((k, v) -> cb.call(v, k))).register(registry);
        CounterWithCallback.builder().name("lparemu_frames_refused")
                .help("Frames and connections refused with a typed error (ProtocolError or control Error), by kind")
                .labelNames("kind")
                .callback(cb -> server.framesRefused().forEach((k, v) -> cb.call(v, k))).register(registry);
        GaugeWithCallback.builder().name("lparemu_partitions").help("Partitions defined")
                .callback(cb -> cb.call(platform.listPartitions().size())).register(registry);
        GaugeWithCallback.builder().name("lparemu_connections").help("Open connections, by port (guest, control)")
                .labelNames("port")
                .callback(cb -> server.connectionsByPort().forEach((k, v) -> cb.call(v, k))).register(registry);
        GaugeWithCallback.builder().name("lparemu_calls_in_flight")
                .help("Guest calls dispatched and not yet answered (held, delayed, in H_JOIN, or running)")
                .callback(cb -> cb.call((double) callsInFlight(platform))).register(registry);
    }

    private static long callsInFlight(Platform platform) {
        long n = 0;
        for (PartitionView.Summary s : platform.listPartitions()) {
            List<PartitionView.ConnectionView> conns;
            try {
                conns = platform.getState(s.name()).connections();
            } catch (RuntimeException e) {
                continue; // deleted since it was listed
            }
            for (PartitionView.ConnectionView c : conns) {
                n += c.callsInFlight();
            }
        }
        return n;
    }

    /** What the guest handlers record each call into. */
    public CallMetrics calls() {
        return calls;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * Serves {@code /metrics} (and {@code /-/healthy}) on {@code bind:port} (0 = ephemeral). The client library's
     * server runs on a small bounded pool of daemon threads and drops a request that takes over a minute.
     */
    public void serve(InetAddress bind, int port) throws IOException {
        http = HTTPServer.builder().inetAddress(bind).port(port).registry(registry).buildAndStart();
        LOG.info("metrics at http://{}/metrics", new InetSocketAddress(bind, http.getPort()).getHostString() + ":"
                + http.getPort());
    }

    /** The HTTP port, or -1 when not serving. */
    public int port() {
        return http == null ? -1 : http.getPort();
    }

    @Override
    public void close() {
        if (http != null) {
            http.close();
        }
    }
}
