package org.lparemu.core.check;

import java.util.List;

/** What CheckInvariants found: violations, and how many partitions and guest reports it looked at. */
public record InvariantReport(List<Violation> violations, int partitionsChecked, int guestReportsCompared) {
    public InvariantReport {
        violations = List.copyOf(violations);
    }

    public boolean clean() {
        return violations.isEmpty();
    }
}
