package org.lparemu.bench;

import java.time.Duration;
import java.util.List;

/**
 * How long and how big each measurement is. {@link #FULL} keeps the whole run to a few minutes on 2 cores;
 * {@link #SMOKE} exercises every code path in a few seconds (inside {@code mvn verify}) and its numbers mean
 * nothing.
 *
 * @param runs         measured runs per contender (interleaved), after one warm-up pass
 * @param syncWarmup   warm-up time per blocking contender
 * @param syncMeasure  measured time per blocking contender and run
 * @param connections  pipelined connections
 * @param depth        calls in flight per pipelined connection
 * @param pipeWarmup   warm-up time per pipelined contender
 * @param pipeRamp     unmeasured time after each pipelined start (connections reach full depth)
 * @param pipeMeasure  measured time per pipelined contender and run
 * @param scalePartitions partition counts at which B4 measures GetState (cumulative, ascending)
 * @param scaleWindows    open windows per B4 partition
 * @param scaleGetStates  GetState calls per B4 measurement point
 * @param migrationWindows open-window counts B5 migrates with
 * @param migrationsPerRun migrations per B5 window count and run (the run's figure is their median)
 */
public record Sizes(String name, int runs, Duration syncWarmup, Duration syncMeasure, int connections, int depth,
                    Duration pipeWarmup, Duration pipeRamp, Duration pipeMeasure, List<Integer> scalePartitions,
                    int scaleWindows, int scaleGetStates, List<Integer> migrationWindows, int migrationsPerRun) {

    public static final Sizes FULL = new Sizes("full", 3, Duration.ofMillis(1500), Duration.ofMillis(2500), 16, 64,
            Duration.ofMillis(2000), Duration.ofMillis(500), Duration.ofMillis(3000), List.of(10, 100, 1000), 64, 2000,
            List.of(1, 16, 64, 256), 3);

    public static final Sizes SMOKE = new Sizes("smoke", 3, Duration.ofMillis(40), Duration.ofMillis(60), 2, 8,
            Duration.ofMillis(40), Duration.ofMillis(10), Duration.ofMillis(60), List.of(2, 4, 8), 4, 20,
            List.of(1, 4), 1);

    public Sizes {
        scalePartitions = List.copyOf(scalePartitions);
        migrationWindows = List.copyOf(migrationWindows);
    }

    public static Sizes named(String name) {
        return switch (name) {
            case "full" -> FULL;
            case "smoke" -> SMOKE;
            default -> throw new IllegalArgumentException("sizes must be full or smoke, not " + name);
        };
    }

    public boolean full() {
        return equals(FULL) || "full".equals(name);
    }
}
