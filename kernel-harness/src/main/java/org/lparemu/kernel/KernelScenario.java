package org.lparemu.kernel;

import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.demo.Scenario;
import org.lparemu.demo.Scenarios;

/**
 * One of the Java port's scenarios, arranged for the C guest. The row, the title and the expected outcome are
 * the Java scenario's: a kernel's cell is expected to equal the Java port's cell for the policy whose
 * algorithm that kernel's vas.c has (6.1: PRE_FIX, 6.12: UPSTREAM), unless {@link #knownDifference} names why
 * it may not.
 *
 * <p>The arrangement is the Java scenario's, moved where the C guest's faithful machine requires: nothing in
 * the guest runs while stop_machine holds every vCPU (the Java port's tasks keep running there), so a
 * scenario that acts on the guest "during the migration" holds the migration right after the VAS SUSPEND
 * (drmgr's first H_VASI_STATE) rather than at ibm,suspend-me. Each scenario's javadoc says what it moved.
 */
public interface KernelScenario {
    /** The Java port's scenario: id, title, expectations. */
    Scenario javaScenario();

    default String id() {
        return javaScenario().id();
    }

    /** Runs once against a fresh partition with a fresh C guest. */
    Scenario.Result run(KernelRun run) throws Exception;

    /**
     * Why this kernel's cell may differ from the Java port's cell of {@code policy}, or null when they must
     * be equal.
     */
    default String knownDifference(String policy) {
        return null;
    }

    /** The platform the scenario needs (the Java scenario's). */
    default PlatformConfig config() {
        return javaScenario() instanceof Scenarios.ConfiguredScenario c ? c.config() : PlatformConfig.defaults();
    }

    /** True when the scenario needs its own platform configuration (it cannot run on a daemon it did not start). */
    default boolean needsOwnDaemon() {
        return javaScenario() instanceof Scenarios.ConfiguredScenario;
    }
}
