package org.lparemu.core.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.junit.jupiter.api.Test;

class FaultPlanTest {
    static final FaultAction BUSY = new FaultAction.ReturnStatus(HStatus.H_BUSY, null, When.BEFORE);

    static CallInfo hcall(String partition, int vcpu, String task, long opcode) {
        return new CallInfo(partition, vcpu, task, opcode, null, new long[0], 1, 0);
    }

    static CallInfo rtas(String partition, String service) {
        return new CallInfo(partition, 0, "t", 0, service, new long[0], 1, 0);
    }

    @Test
    void matchesOnPartitionOpcodeServiceVcpuAndTask() {
        FaultMatch m = FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).partition("lpar1").onVcpu(2).onTask("opener");
        assertTrue(m.matches(hcall("lpar1", 2, "opener", Hcall.H_MODIFY_VAS_WINDOW)));
        assertEquals(false, m.matches(hcall("lpar2", 2, "opener", Hcall.H_MODIFY_VAS_WINDOW)));
        assertEquals(false, m.matches(hcall("lpar1", 1, "opener", Hcall.H_MODIFY_VAS_WINDOW)));
        assertEquals(false, m.matches(hcall("lpar1", 2, "other", Hcall.H_MODIFY_VAS_WINDOW)));
        assertEquals(false, m.matches(hcall("lpar1", 2, "opener", Hcall.H_ALLOCATE_VAS_WINDOW)));
        assertEquals(false, m.matches(rtas("lpar1", RtasService.SUSPEND_ME)));
        FaultMatch r = FaultMatch.rtas(RtasService.SUSPEND_ME);
        assertTrue(r.matches(rtas("any", RtasService.SUSPEND_ME)));
        assertEquals(false, r.matches(hcall("any", 0, "t", Hcall.H_JOIN)));
        assertThrows(IllegalArgumentException.class,
                () -> new FaultMatch(null, 1L, "ibm,suspend-me", null, 0, 0, 0, 0, null));
    }

    @Test
    void skipFirstAndMaxFiresCountMatches() {
        FaultPlan plan = new FaultPlan(8);
        long id = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW).skip(2).times(3), BUSY));
        List<Integer> fired = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            if (!plan.evaluate(hcall("p", 0, "t", Hcall.H_ALLOCATE_VAS_WINDOW)).isEmpty()) {
                fired.add(i);
            }
        }
        assertEquals(List.of(2, 3, 4), fired);
        FaultPlan.RuleStatus s = plan.list().get(0);
        assertEquals(id, s.id());
        assertEquals(10, s.matched());
        assertEquals(3, s.fired());
    }

    @Test
    void rulesApplyInOrderAndATerminalActionEndsEvaluation() {
        FaultPlan plan = new FaultPlan(8);
        FaultAction delay = new FaultAction.Delay(5, When.BEFORE);
        FaultAction hold = new FaultAction.Hold("h", When.AFTER);
        long a = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN), delay));
        long b = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN), hold));
        long c = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN), BUSY));
        long d = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN), new FaultAction.Disconnect()));
        List<FaultPlan.Fired> f = plan.evaluate(hcall("p", 0, "t", Hcall.H_JOIN));
        assertEquals(List.of(a, b, c), f.stream().map(FaultPlan.Fired::ruleId).toList());
        assertEquals(0, plan.list().get(3).matched(), "rule after the terminal one is not even matched");
        assertTrue(plan.remove(c));
        assertEquals(List.of(a, b, d), plan.evaluate(hcall("p", 0, "t", Hcall.H_JOIN)).stream()
                .map(FaultPlan.Fired::ruleId).toList());
        assertEquals(false, plan.remove(c));
        assertEquals(3, plan.clear());
        assertTrue(plan.evaluate(hcall("p", 0, "t", Hcall.H_JOIN)).isEmpty());
    }

    @Test
    void probabilityIsReproducibleFromTheSeed() {
        long seed = 0x5EEDL;
        List<Integer> first = firings(seed);
        assertEquals(first, firings(seed), "same seed, same firings (seed " + seed + ")");
        assertTrue(first.size() > 20 && first.size() < 80, "about half of 100 should fire, got " + first.size());
        assertTrue(!first.equals(firings(seed + 1)), "another seed gives another sequence");
    }

    private static List<Integer> firings(long seed) {
        FaultPlan plan = new FaultPlan(8);
        plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).withProbability(0.5, seed), BUSY));
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            if (!plan.evaluate(hcall("p", 0, "t", Hcall.H_MODIFY_VAS_WINDOW)).isEmpty()) {
                out.add(i);
            }
        }
        return out;
    }

    @Test
    void ruleLimitIsEnforced() {
        FaultPlan plan = new FaultPlan(2);
        plan.add(new FaultRule(FaultMatch.hcall(1), BUSY));
        plan.add(new FaultRule(FaultMatch.hcall(2), BUSY));
        assertThrows(IllegalStateException.class, () -> plan.add(new FaultRule(FaultMatch.hcall(3), BUSY)));
        assertEquals(2, plan.size());
    }

    @Test
    void idsCountUpFromOneAndAreNeverReused() {
        FaultPlan plan = new FaultPlan(8);
        assertEquals(1, plan.add(new FaultRule(FaultMatch.hcall(1), BUSY)));
        assertEquals(2, plan.add(new FaultRule(FaultMatch.hcall(2), BUSY)));
        assertTrue(plan.remove(2));
        assertEquals(3, plan.add(new FaultRule(FaultMatch.hcall(3), BUSY)));
        assertEquals(List.of(1L, 3L), plan.list().stream().map(FaultPlan.RuleStatus::id).toList());
    }

    @Test
    void firedByActionCountsEveryKindAndOutlivesItsRules() {
        FaultPlan plan = new FaultPlan(8);
        assertEquals(Map.of("ReturnStatus", 0L, "Delay", 0L, "Hold", 0L, "Disconnect", 0L, "Trigger", 0L),
                plan.firedByAction());
        plan.add(new FaultRule(FaultMatch.hcall(1), new FaultAction.Delay(1, When.BEFORE)));
        plan.add(new FaultRule(FaultMatch.hcall(1), new FaultAction.Trigger(new FaultAction.OperatorAction() {
            @Override
            public String partition() {
                return "p";
            }

            @Override
            public String describe() {
                return "test";
            }
        }, When.AFTER)));
        plan.add(new FaultRule(FaultMatch.hcall(1), new FaultAction.Hold("h", When.BEFORE)));
        plan.add(new FaultRule(FaultMatch.hcall(2), BUSY));
        plan.add(new FaultRule(FaultMatch.hcall(3), new FaultAction.Disconnect()));
        for (long opcode = 1; opcode <= 3; opcode++) {
            plan.evaluate(hcall("p", 0, "t", opcode));
        }
        plan.evaluate(hcall("p", 0, "t", 2));
        assertEquals(5, plan.clear());
        assertEquals(List.of("ReturnStatus", "Delay", "Hold", "Disconnect", "Trigger"),
                List.copyOf(plan.firedByAction().keySet()));
        assertEquals(Map.of("ReturnStatus", 2L, "Delay", 1L, "Hold", 1L, "Disconnect", 1L, "Trigger", 1L),
                plan.firedByAction(), "counts kept after the rules are gone");
    }

    @Test
    void probabilityZeroOrOneAlwaysFiresAndAQuarterFiresAboutAQuarter() {
        assertEquals(100, fired(0.0, 7), "0 means always, not never");
        assertEquals(100, fired(1.0, 7));
        int quarter = fired(0.25, 7);
        assertTrue(quarter > 10 && quarter < 40, "a quarter of 100 from seed 7, got " + quarter);
    }

    @Test
    void isEmptyFollowsAddRemoveAndClear() {
        FaultPlan plan = new FaultPlan(8);
        assertTrue(plan.isEmpty(), "a new plan");
        long id = plan.add(new FaultRule(FaultMatch.hcall(1), BUSY));
        assertFalse(plan.isEmpty());
        assertTrue(plan.remove(id));
        assertTrue(plan.isEmpty(), "its last rule removed");
        plan.add(new FaultRule(FaultMatch.hcall(1), BUSY));
        plan.add(new FaultRule(FaultMatch.rtas(RtasService.SUSPEND_ME), BUSY));
        assertEquals(2, plan.clear());
        assertTrue(plan.isEmpty(), "cleared");
    }

    /**
     * The dispatcher's pre-filter: mayMatch is false exactly where evaluate could never fire, so an hcall rule
     * leaves RTAS and other hcalls out, an RTAS rule leaves every hcall and other services out, and a rule naming
     * neither (a partition's every call) lets everything through.
     */
    @Test
    void mayMatchAdmitsTheRulesOpcodesAndServicesAndARuleNamingNeitherAdmitsEveryCall() {
        FaultPlan plan = new FaultPlan(8);
        assertFalse(plan.mayMatch(Hcall.H_MODIFY_VAS_WINDOW, null), "no rules");

        long rtasRule = plan.add(new FaultRule(FaultMatch.rtas(RtasService.SUSPEND_ME), BUSY));
        assertTrue(plan.mayMatch(0, RtasService.SUSPEND_ME));
        assertFalse(plan.mayMatch(0, RtasService.UPDATE_NODES));
        assertFalse(plan.mayMatch(Hcall.H_MODIFY_VAS_WINDOW, null), "an RTAS rule says nothing of hcalls");
        assertEquals(List.of(), plan.evaluate(hcall("p", 0, "t", Hcall.H_MODIFY_VAS_WINDOW)));

        long hcallRule = plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_JOIN), BUSY));
        plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW), BUSY));
        assertTrue(plan.mayMatch(Hcall.H_JOIN, null));
        assertTrue(plan.mayMatch(Hcall.H_MODIFY_VAS_WINDOW, null));
        assertFalse(plan.mayMatch(Hcall.H_PROD, null));
        assertTrue(plan.remove(hcallRule));
        assertFalse(plan.mayMatch(Hcall.H_JOIN, null), "the removed rule's opcode is out of the scope");
        assertTrue(plan.remove(rtasRule));
        assertFalse(plan.mayMatch(0, RtasService.SUSPEND_ME));

        plan.add(new FaultRule(new FaultMatch("lpar1", null, null, null, 0, 0, 0, 0, null), BUSY));
        assertTrue(plan.mayMatch(Hcall.H_PROD, null), "a rule naming no call matches every hcall");
        assertTrue(plan.mayMatch(0, RtasService.UPDATE_NODES), "and every RTAS service");
        assertEquals(1, plan.evaluate(rtas("lpar1", RtasService.UPDATE_NODES)).size());
        plan.clear();
        assertFalse(plan.mayMatch(Hcall.H_PROD, null), "cleared");
    }

    private static int fired(double p, long seed) {
        FaultPlan plan = new FaultPlan(8);
        plan.add(new FaultRule(FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).withProbability(p, seed), BUSY));
        int n = 0;
        for (int i = 0; i < 100; i++) {
            n += plan.evaluate(hcall("p", 0, "t", Hcall.H_MODIFY_VAS_WINDOW)).isEmpty() ? 0 : 1;
        }
        return n;
    }
}
