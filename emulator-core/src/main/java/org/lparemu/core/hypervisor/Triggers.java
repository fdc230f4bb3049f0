package org.lparemu.core.hypervisor;

import java.util.List;
import org.lparemu.core.fault.FaultAction;

/** The operator actions a fault rule's Trigger can start; empty partition = the calling partition. */
public final class Triggers {
    private Triggers() {
    }

    public record Migrate(String partition, String destination) implements FaultAction.OperatorAction {
        @Override
        public String describe() {
            return "migrate " + orCaller(partition) + (destination == null || destination.isEmpty() ? "" : " to " + destination);
        }
    }

    public record Prrn(String partition, List<DeviceTreeChange> changes) implements FaultAction.OperatorAction {
        public Prrn {
            changes = List.copyOf(changes);
        }

        @Override
        public String describe() {
            return "prrn " + orCaller(partition) + " (" + changes.size() + " changes)";
        }
    }

    public record DlparCpu(String partition, boolean add, int cores) implements FaultAction.OperatorAction {
        @Override
        public String describe() {
            return "dlpar " + (add ? "add " : "remove ") + cores + " cores on " + orCaller(partition);
        }
    }

    public record SetQosCredits(String partition, int credits) implements FaultAction.OperatorAction {
        @Override
        public String describe() {
            return "qos credits " + credits + " on " + orCaller(partition);
        }
    }

    private static String orCaller(String p) {
        return p == null || p.isEmpty() ? "the calling partition" : p;
    }

    /** Runs a trigger's action for a call made by {@code caller}. */
    static void run(OperatorActions platform, FaultAction.OperatorAction action, String caller) {
        String p = action.partition() == null || action.partition().isEmpty() ? caller : action.partition();
        if (action instanceof Migrate m) {
            platform.migrate(p, m.destination());
        } else if (action instanceof Prrn r) {
            platform.prrn(p, r.changes());
        } else if (action instanceof DlparCpu d) {
            platform.dlparCpu(p, d.add(), d.cores());
        } else if (action instanceof SetQosCredits q) {
            platform.setQosCredits(p, q.credits());
        } else {
            throw new ControlException(ControlError.BAD_REQUEST, "unknown trigger action " + action);
        }
    }
}
