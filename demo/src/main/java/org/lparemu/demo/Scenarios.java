package org.lparemu.demo;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.lparemu.core.hypervisor.PlatformConfig;

/** Every scenario, and the runner that fills the matrix (rows: scenarios; columns: policies). */
public final class Scenarios {
    private Scenarios() {
    }

    /** All scenarios, in matrix order. */
    public static List<Scenario> all() {
        return List.of(new VasOpenVsMigration(), new PrrnVsMigration(),
                new PrrnVsMigration(PlatformConfig.UpdateContinuation.RESTART),
                new PrrnVsMigration(PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM), new DlparBeforeVasSuspend(),
                new DlparRemoveDuringMigration(), new CloseDuringMigration(), new BusyStorm(), new ModifyHardwareError(),
                new GuestDisconnectWhileHeld(), TopologyVsMigration.migration(), TopologyVsMigration.failedMigrationThenPrrn());
    }

    /** One cell of the matrix. */
    public record Cell(Scenario scenario, String policy, Scenario.Expectation expected, Scenario.Result result,
                       Path trace, long millis, String error) {
        /** True when the run produced exactly the stated outcome. */
        public boolean asExpected() {
            return error == null && result != null && result.verdict().equals(expected.verdict());
        }
    }

    /** Runs one cell: a fresh daemon and guest, the scenario, its trace written to {@code traceDir} (if not null). */
    public static Cell run(Scenario s, String policy, Path traceDir) {
        return run(s, policy, traceDir, cfg -> cfg);
    }

    static Cell run(Scenario s, String policy, Path traceDir, Function<PlatformConfig, PlatformConfig> tweak) {
        long t0 = System.nanoTime();
        Scenario.Result result = null;
        Path trace = null;
        String error = null;
        try (ScenarioRun run = new ScenarioRun(s, policy, tweak.apply(config(s)))) {
            try {
                result = s.run(run);
            } catch (Exception | AssertionError e) {
                error = e.toString();
            }
            if (traceDir != null) {
                trace = run.writeChromeTrace(traceDir);
            }
        } catch (Exception e) {
            error = error != null ? error : e.toString();
        }
        return new Cell(s, policy, s.expected(policy), result, trace, (System.nanoTime() - t0) / 1_000_000, error);
    }

    /** The platform a scenario runs on: the embedded default unless the scenario says otherwise. */
    static PlatformConfig config(Scenario s) {
        return s instanceof ConfiguredScenario c ? c.config() : PlatformConfig.defaults();
    }

    /** A scenario that needs its own platform configuration. */
    public interface ConfiguredScenario {
        PlatformConfig config();
    }

    /** "pre-fix" style name of a policy. */
    public static String cliName(String policy) {
        return policy.toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
