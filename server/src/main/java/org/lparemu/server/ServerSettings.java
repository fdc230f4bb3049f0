package org.lparemu.server;

import java.net.InetAddress;
import org.lparemu.server.trace.TraceFileWriter;

/**
 * How the daemon listens.
 *
 * @param bind         address both ports bind to (loopback by default)
 * @param guestPort    guest port (7720; 0 = ephemeral)
 * @param controlPort  control port (7721; 0 = ephemeral)
 * @param controlToken shared secret required on the control port, or null for none
 * @param ioThreads    Netty IO threads (1 measured best on 2 cores)
 * @param metricsBind  address the metrics endpoint binds to (loopback unless asked otherwise, whatever {@code bind} is)
 * @param metricsPort  port of the Prometheus metrics endpoint ({@code /metrics}); -1 = no metrics (the default),
 *                     0 = ephemeral
 * @param traceFile    where trace records are streamed as JSON lines, or null for nowhere (the default)
 */
public record ServerSettings(InetAddress bind, int guestPort, int controlPort, String controlToken, int ioThreads,
                             InetAddress metricsBind, int metricsPort, TraceFileWriter.Settings traceFile) {
    public static final int DEFAULT_GUEST_PORT = 7720;
    public static final int DEFAULT_CONTROL_PORT = 7721;
    /** No metrics endpoint. */
    public static final int NO_METRICS = -1;

    public ServerSettings {
        if (metricsBind == null) {
            metricsBind = InetAddress.getLoopbackAddress();
        }
        if (metricsPort < NO_METRICS || metricsPort > 65535) {
            throw new IllegalArgumentException("metrics port must be 0..65535 (or -1 for none), got " + metricsPort);
        }
    }

    /** No metrics endpoint and no trace file. */
    public ServerSettings(InetAddress bind, int guestPort, int controlPort, String controlToken, int ioThreads) {
        this(bind, guestPort, controlPort, controlToken, ioThreads, null, NO_METRICS, null);
    }

    public static ServerSettings loopback(int guestPort, int controlPort) {
        return new ServerSettings(InetAddress.getLoopbackAddress(), guestPort, controlPort, null, 1);
    }

    public static ServerSettings ephemeral() {
        return loopback(0, 0);
    }

    public ServerSettings withToken(String token) {
        return new ServerSettings(bind, guestPort, controlPort, token, ioThreads, metricsBind, metricsPort, traceFile);
    }

    /** Serves metrics on {@code address:port} (null address = loopback; port 0 = ephemeral). */
    public ServerSettings withMetrics(InetAddress address, int port) {
        return new ServerSettings(bind, guestPort, controlPort, controlToken, ioThreads, address, port, traceFile);
    }

    /** Streams the trace to a file. */
    public ServerSettings withTraceFile(TraceFileWriter.Settings file) {
        return new ServerSettings(bind, guestPort, controlPort, controlToken, ioThreads, metricsBind, metricsPort, file);
    }
}
