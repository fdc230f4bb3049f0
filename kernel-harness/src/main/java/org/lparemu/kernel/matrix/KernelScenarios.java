package org.lparemu.kernel.matrix;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.lparemu.demo.Scenario;
import org.lparemu.kernel.KernelBuild;
import org.lparemu.kernel.KernelRun;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.kernel.scenario.BusyStormC;
import org.lparemu.kernel.scenario.CloseDuringMigrationC;
import org.lparemu.kernel.scenario.DlparBeforeVasSuspendC;
import org.lparemu.kernel.scenario.DlparRemoveDuringMigrationC;
import org.lparemu.kernel.scenario.GuestDisconnectWhileHeldC;
import org.lparemu.kernel.scenario.ModifyHardwareErrorC;
import org.lparemu.kernel.scenario.VasOpenVsMigrationC;

/**
 * The VAS scenarios the C guest runs, in the demo's order, and the runner that fills a kernel's column.
 * (PRRN vs migration is not here: 6.x kernels ignore PRRN events, and its axis is the PRRN policies.)
 */
public final class KernelScenarios {
    private KernelScenarios() {
    }

    public static List<KernelScenario> all() {
        return List.of(new VasOpenVsMigrationC(), new DlparBeforeVasSuspendC(), new DlparRemoveDuringMigrationC(),
                new CloseDuringMigrationC(), new BusyStormC(), new ModifyHardwareErrorC(), new GuestDisconnectWhileHeldC());
    }

    public static Optional<KernelScenario> byId(String id) {
        return all().stream().filter(s -> s.id().equals(id)).findFirst();
    }

    /** Where the run's daemon comes from. */
    public record Daemon(String host, int guestPort, int controlPort) {
        /** null: a fresh embedded daemon per cell. */
        public static final Daemon EMBEDDED = null;
    }

    /**
     * Runs one cell: a fresh daemon (or a fresh partition on {@code daemon}), a fresh C guest, the scenario.
     * Never throws: a failure becomes the cell's error.
     */
    public static KernelCell run(KernelScenario s, KernelBuild.Built built, Daemon daemon, Consumer<String> console) {
        String policy = built.equivalentPolicy();
        Scenario.Expectation expected = s.javaScenario().expected(policy);
        long t0 = System.nanoTime();
        Scenario.Result result = null;
        String error = null;
        if (daemon != null && s.needsOwnDaemon()) {
            error = "needs a daemon with its own platform configuration; run it without --connect";
        } else {
            try (KernelRun run = daemon == null ? KernelRun.embedded(built, s.config(), console)
                    : KernelRun.connect(built, daemon.host(), daemon.guestPort(), daemon.controlPort(), console)) {
                result = s.run(run);
            } catch (Exception | AssertionError e) {
                error = e.toString();
            }
        }
        return new KernelCell(s.javaScenario(), built.column(), built.source().describe(), policy, expected, result,
                (System.nanoTime() - t0) / 1_000_000, error, s.knownDifference(policy));
    }
}
