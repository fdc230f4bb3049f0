package org.lparemu.bench.figures;

import org.lparemu.core.hypervisor.PlatformConfig;

/** Daemon configurations used by diagnostic rows (never by the rows that targets are judged on). */
final class Diagnostics {
    /** A trace ring this small keeps almost nothing reachable. */
    static final int SMALL_TRACE = 4096;

    private Diagnostics() {
    }

    static int defaultTraceCapacity() {
        return PlatformConfig.defaults().limits().traceCapacity();
    }

    /** The default configuration with a {@link #SMALL_TRACE}-record trace ring. */
    static PlatformConfig smallTraceConfig() {
        PlatformConfig c = PlatformConfig.defaults();
        PlatformConfig.Limits l = c.limits();
        return c.withLimits(l.withTraceCapacity(SMALL_TRACE));
    }
}
