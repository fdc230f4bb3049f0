package org.lparemu.junit;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.sim.Explorer;
import org.lparemu.core.sim.RunResult;
import org.lparemu.core.sim.SimScenario;
import org.lparemu.proto.v1.TraceRecord;
import org.lparemu.wire.ControlMapping;

/**
 * The exploration runner, injectable as a test parameter: declare a {@link SimScenario} (or take one of
 * {@code SimScenarios}) and search its schedules under the deterministic simulator. {@link #assertClean} fails the
 * test on any violation with the seed, the shrunk schedule and the failing run's trace written under
 * {@code target/lparemu/} (Chrome JSON and plain text), named in the message.
 *
 * <pre>{@code
 * @Test
 * void upstreamSurvivesTheRace(Exploration explore) {
 *     explore.assertClean(SimScenarios.vasOpenVsMigration(), VasPolicy.UPSTREAM, PrrnPolicy.DRAIN_BEFORE_SUSPEND, 200);
 * }
 * }</pre>
 */
public final class Exploration implements AutoCloseable {
    /** The strategy {@link #assertClean(SimScenario, VasPolicy, PrrnPolicy, long)} searches with. */
    public static final String DEFAULT_STRATEGY = "pos";
    private final Explorer explorer = new Explorer();
    private final Path traceDir;
    private final String fileBase;

    Exploration(Path traceDir, String fileBase) {
        this.traceDir = traceDir;
        this.fileBase = fileBase;
    }

    /** The explorer itself, for replays, shrinking and single runs. */
    public Explorer explorer() {
        return explorer;
    }

    /** Runs {@code schedules} schedules of {@code scenario} from {@code seed} and returns what they found. */
    public Explorer.Report explore(SimScenario scenario, VasPolicy vas, PrrnPolicy prrn, String strategy, long schedules,
            long seed) {
        return explorer.explore(Explorer.Campaign.of(scenario, vas, prrn, strategy, schedules, seed), p -> { });
    }

    /** {@link #assertClean(SimScenario, VasPolicy, PrrnPolicy, String, long, long)} with POS from seed 1. */
    public Explorer.Report assertClean(SimScenario scenario, VasPolicy vas, PrrnPolicy prrn, long schedules) {
        return assertClean(scenario, vas, prrn, DEFAULT_STRATEGY, schedules, 1);
    }

    /**
     * Explores and throws an {@link AssertionError} when any run violated an oracle, deadlocked, livelocked or had a
     * task throw: the message gives the failure, the run's seed, the shrunk schedule and the trace files.
     */
    public Explorer.Report assertClean(SimScenario scenario, VasPolicy vas, PrrnPolicy prrn, String strategy,
            long schedules, long seed) {
        Explorer.Report r = explore(scenario, vas, prrn, strategy, schedules, seed);
        if (r.clean()) {
            return r;
        }
        RunResult first = r.firstFailure();
        RunResult shown = r.shrunk() != null ? r.shrunk() : first;
        String files;
        try {
            List<TraceRecord> records = shown.trace().stream().map(ControlMapping::toProto).toList();
            files = "lparemu trace: " + TraceFiles.write(records, traceDir, fileBase + "-explore-" + Long.toHexString(first.seed()));
        } catch (IOException | RuntimeException e) {
            files = "lparemu trace: not written (" + e + ")";
        }
        throw new AssertionError(String.format("%s under %s/%s: %d of %d schedule(s) failed %s%n  first: %s (seed %d, "
                        + "replay with explorer().replaySeed)%n  shrunk schedule: %s%n  outcomes: %s%n%s",
                scenario.id(), vas, prrn, r.failures(), r.runs(), r.failuresByName(), first.failureDetail(),
                first.seed(), shown.log().forced(), r.outcomes(), files));
    }

    @Override
    public void close() {
        explorer.close();
    }
}
