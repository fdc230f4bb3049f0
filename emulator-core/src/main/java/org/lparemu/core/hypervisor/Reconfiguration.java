package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.lparemu.core.papr.RtasErrorLog;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.trace.TraceKind;

/**
 * The operator's resource changes: PRRN device-tree changes, DLPAR CPU add/remove, QoS credits. Each
 * validates everything before it changes anything (a rejected request leaves the partition as it was), makes
 * its change under the partition lock, and pushes its platform events after unlocking.
 */
final class Reconfiguration {
    /** DRC indexes lparemu gives PRRN-added nodes that are not CPU cores: this base plus the phandle. */
    static final int GENERIC_DRC_BASE = 0x70000000;
    /** PRRN scopes a partition keeps (the oldest is forgotten beyond this). */
    static final int MAX_PRRN_SCOPES = 1024;

    private Reconfiguration() {
    }

    /** {@link Platform#prrn}. */
    static OperatorResults.PrrnResult prrn(PlatformServices services, Partition p, List<DeviceTreeChange> changes) {
        if (changes == null || changes.isEmpty()) {
            throw new ControlException(ControlError.BAD_REQUEST, "a PRRN needs at least one change");
        }
        int scope;
        long generation;
        TreeUpdate update;
        p.lock.lock();
        try {
            checkLiveLocked(services, p, 1);
            DeviceTree before = p.deviceTree;
            DeviceTree after = before.copy();
            for (DeviceTreeChange c : changes) {
                apply(after, c, p.vcpus.threadsPerCore());
            }
            update = TreeUpdate.between(before, after);
            scope = p.nextPrrnScope++;
            p.prrnScopes.put(scope, update);
            Iterator<Integer> it = p.prrnScopes.keySet().iterator();
            while (p.prrnScopes.size() > MAX_PRRN_SCOPES && it.hasNext()) {
                it.next();
                it.remove();
            }
            p.deviceTree = after;
            generation = after.generation();
        } finally {
            p.lock.unlock();
        }
        services.trace().note(TraceKind.OPERATOR, p.name, "Prrn",
                "scope " + scope + ": " + changes.size() + " change(s), " + update);
        if (services.hypervisor().prrnDelivery() == PlatformConfig.PrrnDelivery.EVENT_LOG) {
            EventLogRtas.queue(services, p, RtasErrorLog.prrn(scope), "PRRN scope " + scope);
            return new OperatorResults.PrrnResult(scope, 0, generation);
        }
        PlatformEvent e = services.pushEvent(p, id -> new PlatformEvent.PrrnEvent(id, scope), "scope " + scope);
        return new OperatorResults.PrrnResult(scope, e.eventId(), generation);
    }

    private static void apply(DeviceTree t, DeviceTreeChange c, int threadsPerCore) {
        String path = c.path();
        if (path == null || path.isEmpty()) {
            throw bad("a change needs a node path");
        }
        try {
            switch (c.kind()) {
                case SET_PROPERTY -> {
                    requireNode(t, path);
                    if (c.property() == null || c.property().isEmpty() || c.value() == null) {
                        throw bad("set_property on " + path + " needs a name and a value");
                    }
                    t.setProperty(path, c.property(), c.value());
                }
                case DELETE_PROPERTY -> {
                    requireNode(t, path);
                    if (!t.deleteProperty(path, c.property() == null ? "" : c.property())) {
                        throw bad("node " + path + " has no property '" + c.property() + "'");
                    }
                }
                case ADD_NODE -> {
                    int phandle = t.maxPhandle() + 1;
                    int drc = drcIndexForNewNode(t, path, phandle, threadsPerCore);
                    t.addNode(path, phandle, drc);
                    for (Map.Entry<String, byte[]> prop : c.properties().entrySet()) {
                        if (prop.getKey() == null || prop.getKey().isEmpty() || prop.getValue() == null) {
                            throw bad("add_node " + path + ": a property needs a name and a value");
                        }
                        t.setProperty(path, prop.getKey(), prop.getValue());
                    }
                }
                case DELETE_NODE -> {
                    if (path.equals("/")) {
                        throw bad("the root node cannot be deleted");
                    }
                    requireNode(t, path);
                    t.removeSubtree(path);
                }
            }
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
    }

    /**
     * A CPU node added under /cpus gets the CPU DRC index of the core its unit address names
     * ({@code @<first thread, hex>}); any other new node gets {@link #GENERIC_DRC_BASE} + phandle, so that
     * ibm,configure-connector can hand it over.
     */
    private static int drcIndexForNewNode(DeviceTree t, String path, int phandle, int threadsPerCore) {
        if (DeviceTree.parentPath(path).equals("/cpus")) {
            int at = path.lastIndexOf('@');
            try {
                int core = Integer.parseInt(path.substring(at + 1), 16) / threadsPerCore;
                int drc = PartitionTrees.CPU_DRC_BASE + core;
                if (at > 0 && t.nodeByDrcIndex(drc) == null) {
                    return drc;
                }
            } catch (NumberFormatException e) {
                // fall through
            }
            throw bad("CPU node " + path + " needs a unit address naming a core that is not present");
        }
        return GENERIC_DRC_BASE + phandle;
    }

    private static void requireNode(DeviceTree t, String path) {
        if (t.node(path) == null) {
            throw bad("no node " + path);
        }
    }

    private static ControlException bad(String message) {
        return new ControlException(ControlError.BAD_REQUEST, message);
    }

    @GuardedBy("p.lock")
    private static void checkLiveLocked(PlatformServices services, Partition p, int newEvents) {
        if (p.deleted) {
            throw new ControlException(ControlError.UNKNOWN_PARTITION, "no partition '" + p.name + "'");
        }
        int limit = services.limits().maxPendingEvents();
        if (p.events.size() + newEvents > limit) {
            throw new ControlException(ControlError.LIMIT_EXCEEDED, p.name + " has " + p.events.size()
                    + " unacknowledged events; " + newEvents + " more would pass the limit " + limit);
        }
    }

    /**
     * Platform.dlparCpu: adds cores after the highest, or removes the highest cores first; at least one core
     * stays and at most {@link PartitionSpec#MAX_CORES} exist. The Default credit target follows (cores x
     * credits_per_core); windows are not revoked. One DlparCpu event per core.
     */
    static OperatorResults.DlparCpuResult dlparCpu(PlatformServices services, Partition p, boolean add, int cores) {
        if (cores < 1) {
            throw bad("cores must be at least 1, got " + cores);
        }
        List<Integer> drcs = new ArrayList<>();
        int now;
        int target;
        p.lock.lock();
        try {
            checkLiveLocked(services, p, cores);
            int old = p.spec.cores();
            now = add ? old + cores : old - cores;
            if (add && now > PartitionSpec.MAX_CORES) {
                throw new ControlException(ControlError.LIMIT_EXCEEDED, p.name + " has " + old + " cores; adding "
                        + cores + " passes the limit " + PartitionSpec.MAX_CORES);
            }
            if (!add && now < 1) {
                throw bad(p.name + " has " + old + " cores; removing " + cores + " would leave none");
            }
            DeviceTree t = p.deviceTree.copy();
            try {
                if (add) {
                    for (int i = old; i < now; i++) {
                        PartitionTrees.addCpu(t, i, p.vcpus.threadsPerCore(), p.system);
                        drcs.add(PartitionTrees.CPU_DRC_BASE + i);
                    }
                } else {
                    for (int i = old - 1; i >= now; i--) {
                        t.removeSubtree(PartitionTrees.cpuPath(i, p.vcpus.threadsPerCore()));
                        drcs.add(PartitionTrees.CPU_DRC_BASE + i);
                    }
                }
            } catch (IllegalArgumentException e) {
                throw bad("cannot " + (add ? "add" : "remove") + " cores: " + e.getMessage());
            }
            p.deviceTree = t;
            if (add) {
                for (int i = old; i < now; i++) {
                    p.vcpus.addCoreLocked(i);
                    DrcRtas.assignedLocked(p, PartitionTrees.CPU_DRC_BASE + i);
                }
            }
            PartitionSpec s = p.spec;
            p.spec = new PartitionSpec(s.name(), now * s.threadsPerCore(), now, s.sharedProcessor(), s.qosCredits(),
                    s.system());
            target = p.defaultTargetCreditsLocked();
        } finally {
            p.lock.unlock();
        }
        services.trace().note(TraceKind.OPERATOR, p.name, "DlparCpu", (add ? "add " : "remove ") + cores
                + " core(s): now " + now + ", default target " + target);
        List<Long> ids = new ArrayList<>();
        for (int drc : drcs) {
            ids.add(services.pushEvent(p, id -> new PlatformEvent.DlparCpu(id, add, drc),
                    String.format("%s drc 0x%08x", add ? "add" : "remove", drc)).eventId());
        }
        return new OperatorResults.DlparCpuResult(now, target, ids);
    }

    /**
     * Platform.setQosCredits: 0..max_lpar_creds of the current system; pushes QosCredits.
     *
     * <p>Order (papr-notes 3.7, "notifies OS with the new QoS credits and then the hypervisor"): a lower total
     * reaches the hypervisor's target only when the guest has acknowledged the event, so the guest never has an
     * open that passes its own credit check refused by a target it has not heard of; a higher total is in the
     * hypervisor at once, so the guest's reopens find the credits there. A later change supersedes a lowering
     * still waiting for its ack.
     */
    static long setQosCredits(PlatformServices services, Partition p, int credits) {
        boolean lowering;
        long change;
        p.lock.lock();
        try {
            checkLiveLocked(services, p, 1);
            int max = p.system.config().maxLparCredits();
            if (credits < 0 || credits > max) {
                throw bad("QoS credits must be 0.." + max + ", got " + credits);
            }
            change = ++p.qosChange;
            lowering = credits < p.spec.qosCredits();
            if (!lowering) {
                setQosLocked(p, credits);
            }
        } finally {
            p.lock.unlock();
        }
        services.trace().note(TraceKind.OPERATOR, p.name, "SetQosCredits", credits
                + (lowering ? " (the hypervisor lowers its target when the guest acknowledges)" : ""));
        long id = services.pushEvent(p, eid -> new PlatformEvent.QosCredits(eid, credits), credits + " credits")
                .eventId();
        if (lowering) {
            services.awaitEvent(id, 0).whenComplete((ack, error) -> {
                if (error != null) {
                    return; // the partition went away with the event
                }
                p.lock.lock();
                try {
                    if (!p.deleted && p.qosChange == change) {
                        setQosLocked(p, credits);
                    }
                } finally {
                    p.lock.unlock();
                }
                services.trace().note(TraceKind.STATE, p.name, "QoS target " + credits, "after the guest's ack");
            });
        }
        return id;
    }

    @GuardedBy("p.lock")
    private static void setQosLocked(Partition p, int credits) {
        PartitionSpec s = p.spec;
        p.spec = new PartitionSpec(s.name(), s.vcpus(), s.cores(), s.sharedProcessor(), credits, s.system());
    }
}
