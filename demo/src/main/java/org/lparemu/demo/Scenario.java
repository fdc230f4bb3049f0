package org.lparemu.demo;

import java.util.List;

/**
 * One race or fault situation, written once and run under every policy of its axis against a real daemon
 * over sockets. The outcome comes from the guest kernel's algorithm and the hypervisor's rules; the scenario
 * only arranges the interleaving (holds, triggers, awaited tracepoints) the same way for every policy, then
 * reads the evidence and names the outcome.
 */
public interface Scenario {
    /** Stable id for --scenario ("vas-open-vs-migration"). */
    String id();

    /** One line for the matrix. */
    String title();

    /** Which policy axis the scenario varies. */
    Axis axis();

    /** The outcome this policy must produce, and the kernel history that explains it. */
    Expectation expected(String policy);

    /** Runs once under {@code policy}; the run owns a fresh daemon and guest. */
    Result run(ScenarioRun run) throws Exception;

    /** The policy axis. */
    @SuppressWarnings("ImmutableEnumChecker") // the lists are List.of: unmodifiable
    enum Axis {
        VAS(List.of("PRE_FIX", "UPSTREAM", "V1_PATCH", "HOLD_MUTEX")),
        PRRN(List.of("UNSERIALIZED", "DT_MUTEX", "DRAIN_BEFORE_SUSPEND", "IGNORE")),
        TOPOLOGY(List.of("BEFORE_65B9FDADFC4D", "SCOPE_EXTENDED", "MUTEX_PATCH", "CALLBACK_REMOVED", "V5_9"));

        public final List<String> policies;

        Axis(List<String> policies) {
            this.policies = policies;
        }
    }

    /**
     * What a cell is expected to show.
     *
     * @param verdict the outcome in the scenario's own short words; the run's verdict must equal it
     * @param why     the kernel history behind it
     */
    record Expectation(String verdict, String why) {
    }

    /**
     * What a cell showed.
     *
     * @param verdict  the outcome named from the evidence (comparable with {@link Expectation#verdict()})
     * @param evidence the facts it was read from: RTAS statuses, attempts, errnos, leaks, device-tree differences
     */
    record Result(String verdict, List<String> evidence) {
        public Result {
            evidence = List.copyOf(evidence);
        }
    }
}
