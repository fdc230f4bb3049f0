package org.lparemu.junit;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.server.EmbeddedDaemon;
import org.lparemu.wire.ConfigLoader;

/**
 * One platform a test (or a PER_CLASS class) runs against: a daemon on ephemeral loopback ports, or a bare platform
 * for {@link LparemuTest.Transport#IN_PROCESS}. Nothing here is shared between environments, so test classes (and
 * PER_METHOD methods) run in parallel safely.
 */
final class Environment implements AutoCloseable {
    private final LparemuTest settings;
    private final Platform platform;
    /** Null in-process. */
    private final EmbeddedDaemon daemon;
    private volatile boolean closed;

    private Environment(LparemuTest settings, Platform platform, EmbeddedDaemon daemon) {
        this.settings = settings;
        this.platform = platform;
        this.daemon = daemon;
    }

    static Environment start(LparemuTest settings, Class<?> testClass) {
        PlatformConfig config = config(settings, testClass);
        if (settings.transport() == LparemuTest.Transport.SOCKET) {
            EmbeddedDaemon d = EmbeddedDaemon.start(config);
            return new Environment(settings, d.platform(), d);
        }
        return new Environment(settings, new Platform(config), null);
    }

    static PlatformConfig config(LparemuTest settings, Class<?> testClass) {
        try {
            if (!settings.configText().isEmpty()) {
                return ConfigLoader.parse(settings.configText());
            }
            if (settings.config().isEmpty()) {
                return PlatformConfig.defaults();
            }
            String name = settings.config().startsWith("/") ? settings.config().substring(1) : settings.config();
            URL resource = testClass.getClassLoader().getResource(name);
            if (resource != null) {
                try (InputStream in = resource.openStream()) {
                    return ConfigLoader.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            Path file = Path.of(settings.config());
            if (!Files.exists(file)) {
                throw new ExtensionConfigurationException("@LparemuTest(config = \"" + settings.config()
                        + "\"): no such resource on the test class path, nor file");
            }
            return ConfigLoader.load(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new ExtensionConfigurationException("@LparemuTest: the daemon configuration does not load: "
                    + e.getMessage(), e);
        }
    }

    LparemuTest settings() {
        return settings;
    }

    Platform platform() {
        return platform;
    }

    /** The daemon, or null in-process. */
    EmbeddedDaemon daemon() {
        return daemon;
    }

    /** Back to the configured partitions, no rules, an empty trace (between the methods of a PER_CLASS class). */
    void reset() {
        platform.reset();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (daemon != null) {
            daemon.close();
        } else {
            platform.close();
        }
    }
}
