package org.lparemu.core.port;

import java.util.List;
import java.util.Map;

/**
 * The guest kernel's own view of itself, sent to the platform for GetState and for the guest-vs-hypervisor
 * and device-tree oracles.
 */
public record GuestReport(long seq, List<Credits> credits, long migrationsOk, long migrationsFailed,
                          Map<String, Long> errorsByErrno, List<Window> windows, DeviceTree deviceTree,
                          long inReplyToEvent, String vasPolicy, String prrnPolicy, long pastesOk,
                          long pastesFailed, long prrnHandled, long prrnFailed, int busyTasks, Topology topology) {

    /** No guest task was inside a VAS path while the report was taken: the quiescent-only checks apply. */
    public boolean quiescent() {
        return busyTasks == 0;
    }

    /**
     * The guest's CPU-to-node map and the era that keeps it ({@code null} from a guest that does not report one).
     *
     * @param policy        the topology-update era (TopologyPolicy's name)
     * @param reassignsCpus the era moves CPUs to their new node at run time, so the map must follow the device tree
     * @param cpuNodes      online thread -> NUMA node ({@code numa_cpu_lookup_table})
     */
    public record Topology(String policy, boolean reassignsCpus, Map<Integer, Integer> cpuNodes) {
        public Topology {
            cpuNodes = Map.copyOf(cpuNodes);
        }
    }

    /** One credit type as the guest counts it (vascaps[winType]). */
    public record Credits(int winType, int creditsTotal, int creditsUsed, int windowsOpen, int windowsClosed,
                          int windowsInProgress) {
    }

    /** One listed window: Linux status bits (0 active, 0x1 NO_CRED_CLOSE, 0x2 MIGRATE_CLOSE). */
    public record Window(long winId, int winType, int status, long pasteAddress, int pid, String task) {
        public boolean active() {
            return status == 0;
        }
    }
}
