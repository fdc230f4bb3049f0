package org.lparemu.core.hypervisor;

import java.util.List;
import org.lparemu.core.papr.VasiState;

/**
 * How a migration stream ended (AwaitMigration).
 *
 * @param success       the stream reached COMPLETED
 * @param attempts      ibm,suspend-me calls seen while the stream was open
 * @param rtasStatuses  their statuses, in order
 * @param hcalls        hcalls and RTAS calls the partition made between Migrate and the end
 * @param durationNanos from Migrate to the end
 */
public record MigrationOutcome(boolean success, int attempts, List<Integer> rtasStatuses, VasiState vasiState,
                               String reason, long streamId, String source, String destination, long hcalls,
                               long durationNanos) {
    public MigrationOutcome {
        rtasStatuses = List.copyOf(rtasStatuses);
    }
}
