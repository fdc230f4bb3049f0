package org.lparemu.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
import org.lparemu.proto.v1.DlparAction;
import org.lparemu.proto.v1.DlparCpu;
import org.lparemu.proto.v1.FaultRuleStatus;
import org.lparemu.proto.v1.Hold;
import org.lparemu.proto.v1.Migrate;
import org.lparemu.proto.v1.ParkedCall;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.SetQosCredits;
import org.lparemu.proto.v1.Trigger;

/**
 * Fault rules cross the wire whole: every match field (the seed above all, which makes a probabilistic rule
 * replayable) and every action survive fromProto then toProto, and an incomplete rule is a BAD_REQUEST.
 */
@Timeout(10)
class FaultMappingTest {
    private static org.lparemu.proto.v1.FaultMatch.Builder fullMatch() {
        return org.lparemu.proto.v1.FaultMatch.newBuilder().setPartition("lpar1").setOpcode(0x388).setVcpu(2).setSkipFirst(3)
                .setMaxFires(4).setProbability(0.5).setSeed(0x5eedL).setTask("opener");
    }

    private static org.lparemu.proto.v1.FaultRule rule(org.lparemu.proto.v1.FaultMatch.Builder m,
                                                       org.lparemu.proto.v1.FaultRule.Builder action) {
        return action.setMatch(m).build();
    }

    private static org.lparemu.proto.v1.FaultRule.Builder returning(long status, When when) {
        return org.lparemu.proto.v1.FaultRule.newBuilder().setReturnStatus(ReturnStatus.newBuilder().setStatus(status)
                .addRets(7).addRets(8).setWhen(FaultMapping.toProto(when)));
    }

    @Test
    void everyMatchFieldSurvivesTheRoundTrip() {
        org.lparemu.proto.v1.FaultRule wire = rule(fullMatch(), returning(-2, When.AFTER));
        FaultRule core = FaultMapping.fromProto(wire);
        FaultMatch m = core.match();
        assertEquals("lpar1", m.partition());
        assertEquals(0x388L, m.opcode());
        assertNull(m.rtasService());
        assertEquals(2, m.vcpu());
        assertEquals(3, m.skipFirst());
        assertEquals(4, m.maxFires());
        assertEquals(0.5, m.probability());
        assertEquals(0x5eedL, m.seed(), "a probabilistic rule replays from its seed");
        assertEquals("opener", m.task());
        FaultAction.ReturnStatus rs = (FaultAction.ReturnStatus) core.action();
        assertEquals(-2, rs.status());
        assertArrayEquals(new long[] {7, 8}, rs.rets());
        assertEquals(When.AFTER, rs.when());
        assertEquals(wire, FaultMapping.toProto(core));
    }

    @Test
    void anRtasMatchAndAnEmptyMatchRoundTrip() {
        org.lparemu.proto.v1.FaultRule rtas = rule(org.lparemu.proto.v1.FaultMatch.newBuilder()
                .setRtasService("ibm,suspend-me"), returning(-9006, When.BEFORE));
        FaultRule core = FaultMapping.fromProto(rtas);
        assertEquals("ibm,suspend-me", core.match().rtasService());
        assertNull(core.match().opcode());
        assertNull(core.match().vcpu());
        assertNull(core.match().partition());
        assertEquals(When.BEFORE, ((FaultAction.ReturnStatus) core.action()).when());
        assertEquals(rtas, FaultMapping.toProto(core));

        org.lparemu.proto.v1.FaultRule any = rule(org.lparemu.proto.v1.FaultMatch.newBuilder(), org.lparemu.proto.v1.FaultRule
                .newBuilder().setDisconnect(Disconnect.getDefaultInstance()));
        FaultRule anyCore = FaultMapping.fromProto(any);
        assertTrue(anyCore.action() instanceof FaultAction.Disconnect);
        assertEquals(any, FaultMapping.toProto(anyCore));
    }

    @Test
    void theSeedDecidesWhichCallsAProbabilisticRuleHits() {
        List<Boolean> a = firings(FaultMapping.fromProto(rule(fullMatch().setSkipFirst(0).setMaxFires(0).clearVcpu()
                .clearTask(), returning(-2, When.BEFORE))));
        List<Boolean> again = firings(FaultMapping.fromProto(rule(fullMatch().setSkipFirst(0).setMaxFires(0).clearVcpu()
                .clearTask(), returning(-2, When.BEFORE))));
        List<Boolean> other = firings(FaultMapping.fromProto(rule(fullMatch().setSkipFirst(0).setMaxFires(0).clearVcpu()
                .clearTask().setSeed(0x5eedL + 1), returning(-2, When.BEFORE))));
        assertEquals(a, again, "the same seed, the same calls");
        assertNotEquals(a, other, "another seed, other calls (64 draws at 1/2)");
    }

    private static List<Boolean> firings(FaultRule r) {
        FaultPlan plan = new FaultPlan(4);
        plan.add(r);
        List<Boolean> out = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            out.add(!plan.evaluate(new CallInfo("lpar1", 0, "t", 0x388, null, new long[0], 1, i)).isEmpty());
        }
        return out;
    }

    @Test
    void delayHoldAndEveryTriggerRoundTrip() {
        List<org.lparemu.proto.v1.FaultRule.Builder> actions = List.of(
                org.lparemu.proto.v1.FaultRule.newBuilder().setDelay(Delay.newBuilder().setMs(25)
                        .setWhen(org.lparemu.proto.v1.When.AFTER)),
                org.lparemu.proto.v1.FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch("s")),
                org.lparemu.proto.v1.FaultRule.newBuilder().setTrigger(Trigger.newBuilder().setMigrate(Migrate.newBuilder()
                        .setPartition("lpar1").setDestination("destination")).setWhen(org.lparemu.proto.v1.When.AFTER)),
                org.lparemu.proto.v1.FaultRule.newBuilder().setTrigger(Trigger.newBuilder().setDlparCpu(DlparCpu.newBuilder()
                        .setPartition("lpar1").setAction(DlparAction.REMOVE).setCores(2))),
                org.lparemu.proto.v1.FaultRule.newBuilder().setTrigger(Trigger.newBuilder().setSetQosCredits(SetQosCredits
                        .newBuilder().setPartition("lpar1").setCredits(5))));
        for (org.lparemu.proto.v1.FaultRule.Builder a : actions) {
            org.lparemu.proto.v1.FaultRule wire = rule(fullMatch(), a);
            assertEquals(wire, FaultMapping.toProto(FaultMapping.fromProto(wire)), wire.toString());
        }
        FaultAction.Delay d = (FaultAction.Delay) FaultMapping.fromProto(rule(fullMatch(), actions.get(0))).action();
        assertEquals(25, d.ms());
        assertEquals(When.AFTER, d.when());
        FaultAction.Trigger t = (FaultAction.Trigger) FaultMapping.fromProto(rule(fullMatch(), actions.get(2))).action();
        assertEquals(new Triggers.Migrate("lpar1", "destination"), t.action());
        assertEquals(When.AFTER, t.when());
        FaultAction.Trigger dl = (FaultAction.Trigger) FaultMapping.fromProto(rule(fullMatch(), actions.get(3))).action();
        assertEquals(new Triggers.DlparCpu("lpar1", false, 2), dl.action());
        FaultAction.Trigger q = (FaultAction.Trigger) FaultMapping.fromProto(rule(fullMatch(), actions.get(4))).action();
        assertEquals(new Triggers.SetQosCredits("lpar1", 5), q.action());
    }

    @Test
    void aRulesStatusAndAParkedCallReachTheWireWhole() {
        org.lparemu.proto.v1.FaultRule wire = rule(fullMatch(), returning(-2, When.AFTER));
        FaultRuleStatus s = FaultMapping.toProto(new FaultPlan.RuleStatus(7, FaultMapping.fromProto(wire), 5, 3, 1));
        assertEquals(7, s.getRuleId());
        assertEquals(wire, s.getRule());
        assertEquals(5, s.getMatched());
        assertEquals(3, s.getFired());
        assertEquals(1, s.getHoldsRefused());

        ParkedCall hcall = FaultMapping.toProto(new org.lparemu.core.fault.ParkedCall(9, "s",
                new CallInfo("lpar1", 2, null, 0x388, null, new long[] {4, 5}, 1, 77), When.AFTER, -2));
        assertEquals(9, hcall.getParkId());
        assertEquals("s", hcall.getLatch());
        assertEquals("lpar1", hcall.getPartition());
        assertEquals(2, hcall.getVcpu());
        assertEquals("", hcall.getTask());
        assertEquals(0x388, hcall.getOpcode());
        assertEquals("", hcall.getRtasService());
        assertEquals(List.of(4L, 5L), hcall.getArgsList());
        assertEquals(org.lparemu.proto.v1.When.AFTER, hcall.getWhen());
        assertEquals(-2, hcall.getStatus());
        assertEquals(77, hcall.getTraceSeq());

        ParkedCall rtas = FaultMapping.toProto(new org.lparemu.core.fault.ParkedCall(10, "r",
                new CallInfo("lpar1", -1, "drmgr", 0, "ibm,suspend-me", new long[0], 1, 78), When.BEFORE, 0));
        assertEquals("ibm,suspend-me", rtas.getRtasService());
        assertEquals("drmgr", rtas.getTask());
        assertEquals(0, rtas.getVcpu(), "no vCPU is sent as 0");
        assertEquals(org.lparemu.proto.v1.When.BEFORE, rtas.getWhen());
    }

    @Test
    void anIncompleteRuleIsABadRequestThatSaysWhatIsMissing() {
        assertBad("needs a match", org.lparemu.proto.v1.FaultRule.newBuilder().setHold(Hold.newBuilder().setLatch("s"))
                .build());
        assertBad("needs an action", rule(fullMatch(), org.lparemu.proto.v1.FaultRule.newBuilder()));
        assertBad("needs an operation", rule(fullMatch(), org.lparemu.proto.v1.FaultRule.newBuilder()
                .setTrigger(Trigger.newBuilder())));
        assertBad("probability", rule(fullMatch().setProbability(-1), returning(-2, When.BEFORE)));
        assertBad("skip_first", rule(fullMatch().setSkipFirst(-1), returning(-2, When.BEFORE)));
    }

    private static void assertBad(String says, org.lparemu.proto.v1.FaultRule r) {
        ControlException e = assertThrows(ControlException.class, () -> FaultMapping.fromProto(r));
        assertEquals(ControlError.BAD_REQUEST, e.code());
        assertTrue(e.getMessage().contains(says), e.getMessage());
    }
}
