package org.lparemu.core.sim;

import java.util.List;

/**
 * An oracle over a simulated world. A live oracle is checked after every step of the run, so it must hold in every
 * state the kernel and the hypervisor legitimately pass through; a quiescent one is checked once, when nothing is
 * left to run (inside the simulation: it may take the guest's locks).
 */
public interface SimOracle {
    /** A finding: the oracle's name, where, and what it saw. */
    record Finding(String name, String where, String detail) {
        @Override
        public String toString() {
            return name + " at " + where + ": " + detail;
        }
    }

    String name();

    /** Checked after every step (true) or only at quiescence (false). */
    boolean live();

    List<Finding> check(SimWorld w);
}
