package org.lparemu.bench;

import java.util.List;
import org.lparemu.bench.figures.B1SyncRoundTrip;
import org.lparemu.bench.figures.B2PipelinedThroughput;
import org.lparemu.bench.figures.B3InProcessLifecycles;
import org.lparemu.bench.figures.B4Scale;
import org.lparemu.bench.figures.B5MigrationCost;
import org.lparemu.bench.figures.B6RaceReproduction;
import org.lparemu.bench.figures.B7Detection;
import org.lparemu.bench.figures.B8Throughput;
import org.lparemu.bench.figures.B10CleanCampaigns;
import org.lparemu.bench.figures.B9Replay;
import org.lparemu.bench.figures.InProcessDispatchCost;

/**
 * The one list of figures the harness runs, in order. A figure is registered here only once what it
 * measures exists in this build: no placeholders.
 */
public final class Figures {
    private Figures() {
    }

    public static List<Figure> all() {
        return List.of(
                new B1SyncRoundTrip(),
                new B2PipelinedThroughput(),
                new B3InProcessLifecycles(),
                new B4Scale(),
                new B5MigrationCost(),
                new B6RaceReproduction(),
                new B7Detection(),
                new B8Throughput(),
                new B9Replay(),
                new B10CleanCampaigns(),
                new InProcessDispatchCost());
    }

    /**
     * Figures of issue 6 not registered yet, each with what it waits for (reported in benchmarks.md and the JSON,
     * never with numbers).
     */
    public static List<String> notMeasured() {
        return List.of();
    }
}
