package org.lparemu.kernel.matrix;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.lparemu.demo.Scenarios;
import org.lparemu.kernel.KernelBuild;
import org.lparemu.kernel.KernelScenario;
import org.lparemu.kernel.KernelSource;

/**
 * Linux's own kernels as columns of the demo matrix: for each of Debian's {@code linux-source} packages that is
 * installed, the VAS scenarios run with the C guest built from it, each cell next to the Java port's.
 */
public final class KernelColumns {
    /** The Debian kernels the demo tries: 6.1 (before the 2023 fix) and 6.12 (with it). */
    public static final List<String> DEBIAN_VERSIONS = List.of("6.1", "6.12");

    private KernelColumns() {
    }

    /**
     * One kernel's column.
     *
     * @param name        the column heading, e.g. "linux-6.1"
     * @param description which kernel and which Java policy its cells must equal, or why it was skipped
     * @param cells       the cells, empty when skipped
     */
    public record Column(String name, String description, List<Scenarios.Cell> cells) {
        public Column {
            cells = List.copyOf(cells);
        }
    }

    /**
     * Builds (if needed) and runs each installed Debian kernel on every VAS scenario the C guest runs, or on
     * {@code scenarioFilter} alone when it is not null.
     *
     * @param log build output, a line at a time
     */
    public static List<Column> run(String scenarioFilter, Consumer<String> log) {
        List<Column> out = new ArrayList<>();
        for (String version : DEBIAN_VERSIONS) {
            KernelSource source = new KernelSource.Debian(version);
            Optional<String> why = KernelBuild.unavailable(source);
            if (why.isPresent()) {
                out.add(new Column("linux-" + version, "skipped: " + why.get(), List.of()));
                continue;
            }
            KernelBuild.Built built = KernelBuild.ensureBuilt(KernelBuild.harnessHome(), source,
                    KernelBuild.DEFAULT_TIMEOUT, log);
            List<Scenarios.Cell> cells = new ArrayList<>();
            for (KernelScenario s : KernelScenarios.all()) {
                if (scenarioFilter == null || s.id().equals(scenarioFilter)) {
                    cells.add(KernelScenarios.run(s, built, KernelScenarios.Daemon.EMBEDDED, null).toDemoCell());
                }
            }
            out.add(new Column(built.column(), "Linux " + built.kernelVersion() + " from " + source.describe()
                    + ": vas.c " + (built.inProgressCounter() ? "has" : "lacks") + " the 2023 in-progress counter,"
                    + " so its cells must equal " + KernelCommand.cliName(built.equivalentPolicy()) + "'s", cells));
        }
        return out;
    }
}
