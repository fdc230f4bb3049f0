package org.lparemu.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.server.LparemuServer;
import org.lparemu.server.ServerSettings;
import org.lparemu.server.trace.TraceFileWriter;
import org.lparemu.wire.ConfigLoader;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lparemu serve}: runs the daemon until SIGTERM / SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the hypervisor daemon (guest port + control port). Exits 0 on SIGTERM, after writing the "
                + "rest of the trace file.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Daemon configuration in protobuf text format (lparemu.v1.DaemonConfig). Default: the "
                    + "embedded one (systems 'source' and 'destination', partition 'lpar1').")
    Path config;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address both ports bind to (default ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--guest-port", defaultValue = "7720", description = "Guest port; 0 = ephemeral (default ${DEFAULT-VALUE}).")
    int guestPort;

    @Option(names = "--control-port", defaultValue = "7721", description = "Control port; 0 = ephemeral (default ${DEFAULT-VALUE}).")
    int controlPort;

    @Option(names = "--control-token", paramLabel = "TOKEN", description = "Require this shared token on the control port.")
    String token;

    @Option(names = "--control-token-file", paramLabel = "FILE", description = "Read the control token from a file (first line).")
    Path tokenFile;

    @Option(names = "--io-threads", defaultValue = "1", description = "Netty IO threads (default ${DEFAULT-VALUE}).")
    int ioThreads;

    @Option(names = "--metrics-port", paramLabel = "N", defaultValue = "-1",
            description = "Serve Prometheus metrics at http://ADDR:N/metrics; 0 = ephemeral (default: no metrics).")
    int metricsPort;

    @Option(names = "--metrics-bind", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address the metrics endpoint binds to, whatever --bind is (default ${DEFAULT-VALUE}).")
    String metricsBind;

    @Option(names = "--trace-file", paramLabel = "FILE",
            description = "Stream every trace record to FILE as JSON lines (lparemu.v1.TraceRecord); "
                    + "'lparemu trace-convert FILE' makes Chrome JSON for Perfetto of it.")
    Path traceFile;

    @Option(names = "--trace-file-max-mb", paramLabel = "MB", defaultValue = "64",
            description = "Rotate the trace file at this size: FILE becomes FILE.1, and so on (default ${DEFAULT-VALUE}).")
    long traceFileMaxMb;

    @Option(names = "--trace-file-keep", paramLabel = "N", defaultValue = "4",
            description = "Rotated trace files kept, oldest deleted (default ${DEFAULT-VALUE}).")
    int traceFileKeep;

    @Override
    public Integer call() throws Exception {
        if (System.getProperty("lparemu.log.level.set") == null) {
            LparemuCli.setRootLevel(Level.INFO);
        }
        PlatformConfig cfg = config == null ? PlatformConfig.defaults() : ConfigLoader.load(config);
        String tok = token;
        if (tokenFile != null) {
            tok = Files.readAllLines(tokenFile, StandardCharsets.UTF_8).stream().findFirst().orElse("").trim();
            if (tok.isEmpty()) {
                throw new LparemuCli.CliException("control token file " + tokenFile + " is empty", 2);
            }
        }
        if (metricsPort < -1 || metricsPort > 65535) {
            throw new LparemuCli.CliException("--metrics-port must be 0..65535, got " + metricsPort, 2);
        }
        ServerSettings settings = new ServerSettings(InetAddress.getByName(bind), guestPort, controlPort, tok, ioThreads)
                .withMetrics(InetAddress.getByName(metricsBind), metricsPort);
        if (traceFile != null) {
            try {
                settings = settings.withTraceFile(new TraceFileWriter.Settings(traceFile, traceFileMaxMb << 20,
                        traceFileKeep));
            } catch (IllegalArgumentException e) {
                throw new LparemuCli.CliException(e.getMessage(), 2);
            }
        }
        Platform platform = new Platform(cfg);
        LparemuServer server = LparemuServer.start(platform, settings);
        // Scripts read this line to learn the ephemeral ports.
        System.out.println("lparemu listening guest=" + settings.bind().getHostAddress() + ":" + server.guestPort()
                + " control=" + settings.bind().getHostAddress() + ":" + server.controlPort()
                + (server.metricsPort() < 0 ? "" : " metrics=" + settings.metricsBind().getHostAddress() + ":"
                        + server.metricsPort()));
        System.out.flush();
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM / SIGINT: stop accepting, fail pending calls with SHUTTING_DOWN, flush logs, exit 0.
        Signals.onTermination(stop::countDown);
        stop.await();
        LoggerFactory.getLogger(ServeCommand.class).info("signal received, shutting down");
        server.close();
        ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
        return 0;
    }
}
