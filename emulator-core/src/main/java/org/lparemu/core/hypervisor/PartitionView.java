package org.lparemu.core.hypervisor;

import java.util.List;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;

/** The hypervisor's view of one partition, as GetState shows it. A snapshot: nothing in it is live. */
public record PartitionView(PartitionSpec spec, String system, List<WindowView> windows, List<CreditView> credits,
                            MigrationView migration, long deviceTreeGeneration, List<EventView> pendingEvents,
                            GuestReport guestReport, boolean suspended, List<ConnectionView> connections,
                            List<Integer> joinedVcpus, DeviceTree deviceTree, List<VcpuView> vcpus,
                            long callsRefused) {

    /** A VAS window as the hypervisor holds it; status is the hypervisor status (Vas.HV_WIN_*). */
    public record WindowView(long winId, int winType, int status, long pid, long pasteAddress, int faultIrq,
                             int completionIrq, int credits, long ownerConnection, String ownerTask,
                             long bytesProcessed) {
    }

    /** Credits of one type: target_lpar_creds, max_lpar_creds, and credits held by open windows. */
    public record CreditView(int winType, int target, int maxLpar, int used) {
    }

    /** The partition's current or most recent migration stream. */
    public record MigrationView(long streamId, VasiState vasiState, String source, String destination, int attempts,
                                List<Integer> rtasStatuses, String reason) {
    }

    /** A platform event not yet acknowledged: state "pending" (undelivered) or "delivered". */
    public record EventView(long eventId, String kind, String state, String detail) {
    }

    /** One vCPU: running or stopped, the call it is in ("" for none), and whether that call holds RTAS. */
    public record VcpuView(int vcpu, boolean running, String inCall, boolean holdsRtas) {
    }

    /**
     * One guest connection; {@code closing} when it has gone away but some of its calls (failed H_JOINs, a pending
     * ibm,suspend-me) have not yet left their vCPUs.
     */
    public record ConnectionView(long id, String clientName, String remote, boolean receivesEvents, int callsInFlight,
                                 boolean closing) {
    }

    /** One line of ListPartitions. */
    public record Summary(String name, String system, int vcpus, int cores, int windows, VasiState vasiState,
                          int connections) {
    }
}
