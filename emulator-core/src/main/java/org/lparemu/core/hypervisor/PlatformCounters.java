package org.lparemu.core.hypervisor;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Monotonic counts of what the platform did, for operators (the daemon's metrics read them when scraped): platform
 * events pushed to guests by kind, and migrations by how they ended. They only grow: {@link Platform#reset()} and
 * deleting a partition do not take them back, so a rate computed from them stays right.
 *
 * <p>Nothing here is on the call path: events and migration ends are operator-paced. Event kinds are the fixed
 * names of {@link org.lparemu.core.port.PlatformEvent#kind()}, so the map stays small.
 *
 * <p>Thread-safety: every method may be called from any thread.
 */
public final class PlatformCounters {
    /** How a migration ended. */
    public enum MigrationEnd {
        /** The VASI stream reached COMPLETED: the partition runs on the destination. */
        COMPLETED,
        /** The stream was ABORTED (cancelled by the partition, not suspended in time, or never started). */
        ABORTED
    }

    private final ConcurrentHashMap<String, LongAdder> eventsPushed = new ConcurrentHashMap<>();
    private final Map<MigrationEnd, LongAdder> migrations = new EnumMap<>(MigrationEnd.class);

    PlatformCounters() {
        for (MigrationEnd e : MigrationEnd.values()) {
            migrations.put(e, new LongAdder());
        }
    }

    void eventPushed(String kind) {
        eventsPushed.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }

    void migrationEnded(MigrationEnd end) {
        migrations.get(end).increment();
    }

    /** Events pushed to guests since start, by kind ("MigrationRequest", "PrrnEvent", "DlparCpu", ...). */
    public Map<String, Long> eventsPushed() {
        Map<String, Long> out = new TreeMap<>();
        eventsPushed.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** Migrations that ended since start, by how they ended. */
    public long migrations(MigrationEnd end) {
        return migrations.get(end).sum();
    }
}
