package org.lparemu.core.hypervisor;

import java.util.List;

/** Results of the operator (HMC-role) actions on {@link Platform}. */
public final class OperatorResults {
    private OperatorResults() {
    }

    /** Migrate: the VASI stream opened, the MigrationRequest event pushed, and the destination chosen. */
    public record MigrateResult(long streamId, long eventId, String destination) {
    }

    /** Prrn: the scope recorded for the change, the PrrnEvent pushed, and the tree generation after it. */
    public record PrrnResult(int scope, long eventId, long deviceTreeGeneration) {
    }

    /** DlparCpu: cores now, the new default-credit target, one DlparCpu event per core. */
    public record DlparCpuResult(int cores, int targetCredits, List<Long> eventIds) {
        public DlparCpuResult {
            eventIds = List.copyOf(eventIds);
        }
    }
}
