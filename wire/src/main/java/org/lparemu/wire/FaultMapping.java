package org.lparemu.wire;

import org.lparemu.core.fault.CallInfo;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultPlan;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.Triggers;
import org.lparemu.proto.v1.Delay;
import org.lparemu.proto.v1.Disconnect;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.FaultRuleStatus;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.Migrate;
import org.lparemu.proto.v1.ParkedCall;
import org.lparemu.proto.v1.Prrn;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.SetQosCredits;
import org.lparemu.proto.v1.Trigger;

/** Converts fault rules and parked calls between the protocol and the core's fault package. */
public final class FaultMapping {
    private FaultMapping() {
    }

    /** A core rule from a wire rule; BAD_REQUEST naming the field when it is incomplete. */
    public static FaultRule fromProto(org.lparemu.proto.v1.FaultRule r) {
        if (!r.hasMatch()) {
            throw bad("a fault rule needs a match (use an empty match to match every call)");
        }
        org.lparemu.proto.v1.FaultMatch m = r.getMatch();
        FaultMatch match;
        try {
            match = new FaultMatch(m.getPartition(),
                    m.getTargetCase() == org.lparemu.proto.v1.FaultMatch.TargetCase.OPCODE ? m.getOpcode() : null,
                    m.getTargetCase() == org.lparemu.proto.v1.FaultMatch.TargetCase.RTAS_SERVICE ? m.getRtasService() : null,
                    m.hasVcpu() ? m.getVcpu() : null, m.getSkipFirst(), m.getMaxFires(), m.getProbability(), m.getSeed(),
                    m.getTask());
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        FaultAction action;
        try {
            action = switch (r.getActionCase()) {
                case RETURN_STATUS -> new FaultAction.ReturnStatus(r.getReturnStatus().getStatus(),
                        ProtoMapping.longs(r.getReturnStatus().getRetsList()), when(r.getReturnStatus().getWhen()));
                case DELAY -> new FaultAction.Delay(r.getDelay().getMs(), when(r.getDelay().getWhen()));
                case HOLD -> new FaultAction.Hold(r.getHold().getLatch(), when(r.getHold().getWhen()));
                case DISCONNECT -> new FaultAction.Disconnect();
                case TRIGGER -> new FaultAction.Trigger(trigger(r.getTrigger()), when(r.getTrigger().getWhen()));
                case ACTION_NOT_SET -> throw bad("a fault rule needs an action");
            };
        } catch (IllegalArgumentException e) {
            throw bad(e.getMessage());
        }
        return new FaultRule(match, action);
    }

    /** A Trigger's operator action; BAD_REQUEST when it names none. */
    static FaultAction.OperatorAction trigger(Trigger t) {
        return switch (t.getOpCase()) {
            case MIGRATE -> new Triggers.Migrate(t.getMigrate().getPartition(), t.getMigrate().getDestination());
            case PRRN -> new Triggers.Prrn(t.getPrrn().getPartition(), ControlMapping.changes(t.getPrrn().getChangesList()));
            case DLPAR_CPU -> new Triggers.DlparCpu(t.getDlparCpu().getPartition(),
                    ControlMapping.add(t.getDlparCpu().getAction()), t.getDlparCpu().getCores());
            case SET_QOS_CREDITS -> new Triggers.SetQosCredits(t.getSetQosCredits().getPartition(),
                    t.getSetQosCredits().getCredits());
            case OP_NOT_SET -> throw bad("a Trigger needs an operation");
        };
    }

    /** The wire form of a Trigger's operator action. */
    static Trigger.Builder toProto(FaultAction.OperatorAction a) {
        Trigger.Builder b = Trigger.newBuilder();
        if (a instanceof Triggers.Migrate m) {
            b.setMigrate(Migrate.newBuilder().setPartition(nz(m.partition())).setDestination(nz(m.destination())));
        } else if (a instanceof Triggers.Prrn p) {
            b.setPrrn(Prrn.newBuilder().setPartition(nz(p.partition())).addAllChanges(ControlMapping.toProto(p.changes())));
        } else if (a instanceof Triggers.DlparCpu d) {
            b.setDlparCpu(DlparCpu.newBuilder().setPartition(nz(d.partition())).setAction(ControlMapping.toProto(d.add()))
                    .setCores(d.cores()));
        } else if (a instanceof Triggers.SetQosCredits q) {
            b.setSetQosCredits(SetQosCredits.newBuilder().setPartition(nz(q.partition())).setCredits(q.credits()));
        }
        return b;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static ControlException bad(String message) {
        return new ControlException(ControlError.BAD_REQUEST, message);
    }

    static When when(org.lparemu.proto.v1.When w) {
        return w == org.lparemu.proto.v1.When.AFTER ? When.AFTER : When.BEFORE;
    }

    static org.lparemu.proto.v1.When toProto(When w) {
        return w == When.AFTER ? org.lparemu.proto.v1.When.AFTER : org.lparemu.proto.v1.When.BEFORE;
    }

    /** The wire form of a rule as ListFaults shows it: the rule as the client sent it, and its counters. */
    public static FaultRuleStatus toProto(FaultPlan.RuleStatus s) {
        return FaultRuleStatus.newBuilder().setRuleId(s.id()).setRule(toProto(s.rule())).setMatched(s.matched())
                .setFired(s.fired()).setHoldsRefused(s.holdsRefused()).build();
    }

    static org.lparemu.proto.v1.FaultRule toProto(FaultRule r) {
        FaultMatch m = r.match();
        org.lparemu.proto.v1.FaultMatch.Builder mb = org.lparemu.proto.v1.FaultMatch.newBuilder()
                .setSkipFirst(m.skipFirst()).setMaxFires(m.maxFires()).setProbability(m.probability()).setSeed(m.seed());
        if (m.partition() != null) {
            mb.setPartition(m.partition());
        }
        if (m.opcode() != null) {
            mb.setOpcode(m.opcode());
        }
        if (m.rtasService() != null) {
            mb.setRtasService(m.rtasService());
        }
        if (m.vcpu() != null) {
            mb.setVcpu(m.vcpu());
        }
        if (m.task() != null) {
            mb.setTask(m.task());
        }
        org.lparemu.proto.v1.FaultRule.Builder b = org.lparemu.proto.v1.FaultRule.newBuilder().setMatch(mb);
        FaultAction a = r.action();
        if (a instanceof FaultAction.ReturnStatus rs) {
            b.setReturnStatus(ReturnStatus.newBuilder().setStatus(rs.status()).addAllRets(ProtoMapping.boxed(rs.rets()))
                    .setWhen(toProto(rs.when())));
        } else if (a instanceof FaultAction.Delay d) {
            b.setDelay(Delay.newBuilder().setMs((int) d.ms()).setWhen(toProto(d.when())));
        } else if (a instanceof FaultAction.Hold h) {
            b.setHold(Hold.newBuilder().setLatch(h.latch()).setWhen(toProto(h.when())));
        } else if (a instanceof FaultAction.Disconnect) {
            b.setDisconnect(Disconnect.getDefaultInstance());
        } else if (a instanceof FaultAction.Trigger t) {
            b.setTrigger(toProto(t.action()).setWhen(toProto(t.when())));
        }
        return b.build();
    }

    public static ParkedCall toProto(org.lparemu.core.fault.ParkedCall p) {
        CallInfo c = p.call();
        ParkedCall.Builder b = ParkedCall.newBuilder().setParkId(p.parkId()).setLatch(p.latch())
                .setPartition(c.partition()).setVcpu(Math.max(0, c.vcpu())).setTask(c.task() == null ? "" : c.task())
                .setName(c.name()).setOpcode(c.opcode()).setWhen(toProto(p.when())).setStatus(p.status())
                .setTraceSeq(c.traceSeq());
        if (c.rtasService() != null) {
            b.setRtasService(c.rtasService());
        }
        for (long a : c.args()) {
            b.addArgs(a);
        }
        return b.build();
    }
}
