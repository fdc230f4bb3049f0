package org.lparemu.server;

import java.time.Duration;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;

/**
 * A real daemon (platform + Netty listeners) on ephemeral loopback ports inside the current JVM, for tests
 * and the demo: {@code try (EmbeddedDaemon d = EmbeddedDaemon.start()) { d.control()... }}.
 */
public final class EmbeddedDaemon implements AutoCloseable {
    private final LparemuServer server;

    private EmbeddedDaemon(LparemuServer server) {
        this.server = server;
    }

    public static EmbeddedDaemon start() {
        return start(PlatformConfig.defaults(), ServerSettings.ephemeral());
    }

    public static EmbeddedDaemon start(PlatformConfig config) {
        return start(config, ServerSettings.ephemeral());
    }

    public static EmbeddedDaemon start(PlatformConfig config, ServerSettings settings) {
        Platform platform = new Platform(config);
        try {
            return new EmbeddedDaemon(LparemuServer.start(platform, settings));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            platform.close();
            throw new IllegalStateException("interrupted while starting the daemon", e);
        }
    }

    public LparemuServer server() {
        return server;
    }

    public Platform platform() {
        return server.platform();
    }

    public int guestPort() {
        return server.guestPort();
    }

    public int controlPort() {
        return server.controlPort();
    }

    /** A new control connection (caller closes it). */
    public ControlClient control() {
        return ControlClient.connect("127.0.0.1", controlPort());
    }

    /** A new guest connection bound to {@code partition} (caller closes it); blocking calls time out after 30 s. */
    public GuestConnection guest(String partition) {
        return GuestConnection.connect("127.0.0.1", guestPort(), partition, "test-guest", true,
                Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    @Override
    public void close() {
        server.close();
    }
}
