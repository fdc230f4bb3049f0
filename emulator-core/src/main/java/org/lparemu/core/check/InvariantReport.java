package org.lparemu.core.check;

import java.util.List;

/**
 * What CheckInvariants found: violations, how many partitions and guest reports it looked at, and the partitions
 * whose guest was busy in a VAS path (its guest checks skipped), with why.
 */
public record InvariantReport(List<Violation> violations, int partitionsChecked, int guestReportsCompared,
                              List<String> notQuiescent) {
    public InvariantReport {
        violations = List.copyOf(violations);
        notQuiescent = List.copyOf(notQuiescent);
    }

    public boolean clean() {
        return violations.isEmpty();
    }
}
