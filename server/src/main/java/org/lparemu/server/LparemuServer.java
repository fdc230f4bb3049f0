package org.lparemu.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.server.connection.Connections;
import org.lparemu.server.connection.DistinctErrorLog;
import org.lparemu.server.connection.RateLimitedLog;
import org.lparemu.server.control.ControlCommandAdapter;
import org.lparemu.server.metrics.DaemonMetrics;
import org.lparemu.server.trace.TraceFileWriter;
import org.lparemu.wire.Protocol;
import org.lparemu.wire.Transports;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's bootstrap: two listeners (guest port, control port) over one Netty event-loop group, in
 * front of one {@link Platform}.
 *
 * <p>Each port's pipeline is wired in its own initializer ({@link GuestServerInitializer},
 * {@link ControlServerInitializer}); the per-connection handlers dispatch into the core asynchronously and never
 * block the event loop.
 */
public final class LparemuServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LparemuServer.class);

    /**
     * One open connection as {@link #connections()} reports it.
     *
     * @param port          "guest" or "control"
     * @param reading       whether the daemon is reading from it (false while backpressure holds it)
     * @param writable      whether its outbound buffer is below the high watermark
     * @param outboundBytes bytes queued for the peer and not yet written to the socket
     */
    public record ConnectionStats(String port, InetSocketAddress remote, boolean reading, boolean writable,
                                  long outboundBytes) {
    }

    private final Platform platform;
    private final ServerSettings settings;
    private final EventLoopGroup group;
    private final DistinctErrorLog errors = new DistinctErrorLog(LOG);
    private final RateLimitedLog connectionLog = new RateLimitedLog(LOG);
    private final ConnectionLimiter limiter;
    private final ControlCommandAdapter control;
    /** Null unless {@link ServerSettings#metricsPort()} asks for metrics. */
    private final DaemonMetrics metrics;
    private TraceFileWriter traceFile;
    /** Every accepted connection on both ports (a channel leaves the group when it closes). */
    private final ChannelGroup channels = new DefaultChannelGroup("lparemu-connections", GlobalEventExecutor.INSTANCE);
    private Channel guestChannel;
    private Channel controlChannel;
    private volatile boolean stopped;

    private LparemuServer(Platform platform, ServerSettings settings) {
        this.platform = platform;
        this.settings = settings;
        this.group = Transports.group(settings.ioThreads(), "lparemu-io");
        this.limiter = new ConnectionLimiter(platform.config().limits().maxConnections());
        this.control = new ControlCommandAdapter(platform);
        this.metrics = settings.metricsPort() == ServerSettings.NO_METRICS ? null
                : new DaemonMetrics(platform, new DaemonMetrics.ServerState() {
                    @Override
                    public Map<String, Integer> connectionsByPort() {
                        return LparemuServer.this.connectionsByPort();
                    }

                    @Override
                    public Map<String, Long> framesRefused() {
                        return errors.counts();
                    }
                });
    }

    /** Binds both ports and returns the running server. */
    public static LparemuServer start(Platform platform, ServerSettings settings) throws InterruptedException {
        LparemuServer s = new LparemuServer(platform, settings);
        try {
            s.bind();
        } catch (RuntimeException | InterruptedException e) {
            s.closeExtras();
            s.group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        return s;
    }

    private void bind() throws InterruptedException {
        try {
            if (settings.traceFile() != null) {
                traceFile = TraceFileWriter.start(settings.traceFile(), platform.trace());
            }
            if (metrics != null) {
                metrics.serve(settings.metricsBind(), settings.metricsPort());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        guestChannel = bootstrap(new GuestServerInitializer(platform, limiter, channels, errors, connectionLog,
                metrics == null ? null : metrics.calls()))
                .bind(new InetSocketAddress(settings.bind(), settings.guestPort())).sync().channel();
        controlChannel = bootstrap(new ControlServerInitializer(control, settings.controlToken(), limiter, channels,
                errors, connectionLog))
                .bind(new InetSocketAddress(settings.bind(), settings.controlPort())).sync().channel();
        if (!settings.bind().isLoopbackAddress()) {
            if (settings.controlToken() == null || settings.controlToken().isEmpty()) {
                LOG.warn("*** INSECURE: lparemu is bound to {} (not loopback) WITHOUT a control token: anyone who can "
                        + "reach control port {} can delete partitions, inject faults and migrate, and anyone who can "
                        + "reach guest port {} can act as any partition's guest. Bind 127.0.0.1, or start with "
                        + "--control-token / --control-token-file and firewall the guest port. ***",
                        settings.bind().getHostAddress(), controlPort(), guestPort());
            } else {
                LOG.warn("lparemu is bound to {} (not loopback): the control port requires the token, but the guest "
                        + "port {} has no authentication; firewall it.", settings.bind().getHostAddress(), guestPort());
            }
        }
        LOG.info("lparemu {} listening: guest {}, control {} ({} transport)", Protocol.EMULATOR_VERSION, guestChannel.localAddress(),
                controlChannel.localAddress(), Transports.name());
    }

    private ServerBootstrap bootstrap(ChannelHandler init) {
        return new ServerBootstrap().group(group).channel(Transports.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, Connections.WATER_MARK)
                .childHandler(init);
    }

    public int guestPort() {
        return ((InetSocketAddress) guestChannel.localAddress()).getPort();
    }

    public int controlPort() {
        return ((InetSocketAddress) controlChannel.localAddress()).getPort();
    }

    public Platform platform() {
        return platform;
    }

    /** The port of the metrics endpoint, or -1 when the daemon serves no metrics. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.port();
    }

    /** Open connections by port ("guest", "control"). */
    public Map<String, Integer> connectionsByPort() {
        Map<String, Integer> out = new TreeMap<>(Map.of("guest", 0, "control", 0));
        for (Channel ch : channels) {
            String port = ch.attr(Connections.PORT).get();
            if (port != null) {
                out.merge(port, 1, Integer::sum);
            }
        }
        return out;
    }

    /** Distinct protocol errors seen so far, by kind. */
    public DistinctErrorLog errors() {
        return errors;
    }

    public int openConnections() {
        return limiter.open();
    }

    /** Every open connection on both ports, with its backpressure state (a snapshot, for tests and ops). */
    public List<ConnectionStats> connections() {
        List<ConnectionStats> out = new ArrayList<>();
        for (Channel ch : channels) {
            var buf = ch.unsafe().outboundBuffer();
            out.add(new ConnectionStats(String.valueOf(ch.attr(Connections.PORT).get()), (InetSocketAddress) ch.remoteAddress(),
                    ch.config().isAutoRead(), ch.isWritable(), buf == null ? 0 : buf.totalPendingWriteBytes()));
        }
        return out;
    }

    private void closeExtras() {
        if (metrics != null) {
            metrics.close();
        }
        if (traceFile != null) {
            traceFile.close();
        }
    }

    /**
     * Stops the daemon in order: stop accepting (close both listeners); close the platform, which fails every
     * parked or pending call and closes every bound guest connection with ProtocolError SHUTTING_DOWN; tell
     * every other connection (guests before Hello, control clients) SHUTTING_DOWN; wait up to 2 s for those
     * last frames to be written and the connections to close; then stop the event loops.
     */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        stopped = true;
        if (guestChannel != null) {
            guestChannel.close().syncUninterruptibly();
        }
        if (controlChannel != null) {
            controlChannel.close().syncUninterruptibly();
        }
        int open = channels.size();
        platform.close();
        for (Channel ch : channels) {
            ch.pipeline().fireUserEventTriggered(Connections.SHUTDOWN);
        }
        if (!channels.newCloseFuture().awaitUninterruptibly(2, TimeUnit.SECONDS)) {
            LOG.warn("{} connection(s) still open 2 s after shutdown began; closing them", channels.size());
            channels.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        closeExtras(); // last: the trace file gets the records of the shutdown itself
        LOG.info("lparemu stopped: {} connection(s) closed, {} calls served, trace at seq {}, protocol errors {}",
                open, platform.callCount(), platform.trace().nextSeq() - 1, errors.counts());
    }
}
