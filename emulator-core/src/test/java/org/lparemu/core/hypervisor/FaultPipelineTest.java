package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.Holds;
import org.lparemu.core.fault.ParkedCall;
import org.lparemu.core.fault.When;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.PortException;
import org.lparemu.core.trace.TraceKind;
import org.lparemu.core.trace.TraceRecord;

/** Fault rules applied by the real dispatcher: every action, before and after the call, and clean-up. */
class FaultPipelineTest {
    private static long rule(Rig rig, FaultMatch m, FaultAction a) {
        return rig.platform.addFault(new FaultRule(m, a));
    }

    @Test
    void returnStatusBeforeAnswersWithoutRunningTheCall() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            rule(rig, FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW).times(2),
                    new FaultAction.ReturnStatus(HStatus.H_LONG_BUSY_ORDER_10_MSEC, null, When.BEFORE));
            for (int i = 0; i < 2; i++) {
                assertEquals(HStatus.H_LONG_BUSY_ORDER_10_MSEC,
                        g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID).status());
            }
            assertEquals(0, rig.state("lpar1").windows().size(), "the hypervisor never ran the call");
            g.allocate(Vas.WIN_TYPE_DEFAULT);
            assertEquals(1, rig.state("lpar1").windows().size());
            var status = rig.platform.faults().list().get(0);
            assertEquals(3, status.matched());
            assertEquals(2, status.fired());
        }
    }

    @Test
    void returnStatusAfterKeepsTheCallsEffectSoTheLeakIsVisible() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            rule(rig, FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW),
                    new FaultAction.ReturnStatus(HStatus.H_HARDWARE, null, When.AFTER));
            HcallResult r = g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
            assertEquals(HStatus.H_HARDWARE, r.status());
            assertEquals(0, r.rets().length, "the guest never learns the window id");
            assertEquals(1, rig.state("lpar1").windows().size(), "but the window exists in the hypervisor");
        }
    }

    @Test
    void holdBeforeParksTheCallUntilReleased() throws Exception {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            long id = g.allocate(Vas.WIN_TYPE_DEFAULT).ret(0);
            rule(rig, FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).partition("lpar1"),
                    new FaultAction.Hold("modify", When.BEFORE));
            CompletableFuture<HcallResult> call = g.port.hcallAsync(2, Hcall.H_MODIFY_VAS_WINDOW,
                    new long[] {id, 42, 0, Vas.MOD_WIN_FLAGS, 0}, null);
            List<ParkedCall> parked = Rig.await(rig.platform.awaitHold("modify", 1, 5000));
            assertEquals(1, parked.size());
            ParkedCall p = parked.get(0);
            assertEquals("lpar1", p.call().partition());
            assertEquals(2, p.call().vcpu());
            assertEquals("H_MODIFY_VAS_WINDOW", p.call().name());
            assertEquals(id, p.call().args()[0]);
            assertEquals(When.BEFORE, p.when());
            assertFalse(call.isDone());
            assertEquals(Vas.HV_WIN_MOD_IN_PROCESS, rig.state("lpar1").windows().get(0).status(),
                    "a BEFORE hold keeps the hypervisor from running the call");
            assertEquals(1, rig.platform.holds().release("modify", 0));
            assertEquals(HStatus.H_SUCCESS, Rig.await(call).status());
            assertEquals(Vas.HV_WIN_ACTIVE, rig.state("lpar1").windows().get(0).status());
        }
    }

    @Test
    void holdAfterRunsTheCallAndParksTheReply() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            long id = g.allocate(Vas.WIN_TYPE_DEFAULT).ret(0);
            rule(rig, FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW), new FaultAction.Hold("late", When.AFTER));
            CompletableFuture<HcallResult> call = g.port.hcallAsync(0, Hcall.H_MODIFY_VAS_WINDOW,
                    new long[] {id, 42, 0, Vas.MOD_WIN_FLAGS, 0}, null);
            ParkedCall p = Rig.await(rig.platform.awaitHold("late", 1, 5000)).get(0);
            assertEquals(When.AFTER, p.when());
            assertEquals(HStatus.H_SUCCESS, p.status());
            assertEquals(Vas.HV_WIN_ACTIVE, rig.state("lpar1").windows().get(0).status());
            assertFalse(call.isDone());
            rig.platform.holds().release("late", 1);
            assertEquals(HStatus.H_SUCCESS, Rig.await(call).status());
        }
    }

    @Test
    void delayWaitsOnThePlatformTimer() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            rule(rig, FaultMatch.hcall(Hcall.H_QUERY_VAS_CAPABILITIES), new FaultAction.Delay(250, When.BEFORE));
            CompletableFuture<HcallResult> call = g.port.hcallAsync(0, Hcall.H_QUERY_VAS_CAPABILITIES,
                    new long[] {Vas.QUERY_OVERALL, Rig.BUF}, null);
            rig.clock.advance(249);
            assertFalse(call.isDone());
            rig.clock.advance(1);
            assertEquals(HStatus.H_SUCCESS, Rig.await(call).status());
        }
    }

    @Test
    void disconnectClosesTheCallersConnectionOnly() {
        try (Rig rig = new Rig()) {
            Rig.Guest victim = rig.guest("lpar1");
            Rig.Guest bystander = rig.guest("lpar1");
            victim.allocate(Vas.WIN_TYPE_DEFAULT);
            rule(rig, FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW).times(1), new FaultAction.Disconnect());
            PortException e = assertThrows(PortException.class,
                    () -> victim.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID));
            assertTrue(e.getMessage().contains("fault rule"), e.getMessage());
            assertFalse(victim.port.isOpen());
            assertEquals(1, rig.state("lpar1").connections().size());
            assertEquals(1, rig.state("lpar1").windows().size(), "the partition keeps its windows");
            bystander.allocate(Vas.WIN_TYPE_DEFAULT);
            assertEquals(2, rig.state("lpar1").windows().size());
        }
    }

    @Test
    void aDisconnectFailsTheConnectionsParkedCallsAndResetFailsTheRest() {
        try (Rig rig = new Rig()) {
            Rig.Guest a = rig.guest("lpar1");
            Rig.Guest b = rig.guest("lpar2");
            rule(rig, FaultMatch.hcall(Hcall.H_QUERY_VAS_CAPABILITIES), new FaultAction.Hold("q", When.BEFORE));
            CompletableFuture<HcallResult> ca = a.port.hcallAsync(0, Hcall.H_QUERY_VAS_CAPABILITIES,
                    new long[] {0, Rig.BUF}, null);
            CompletableFuture<HcallResult> cb = b.port.hcallAsync(0, Hcall.H_QUERY_VAS_CAPABILITIES,
                    new long[] {0, Rig.BUF}, null);
            Rig.await(rig.platform.awaitHold("q", 2, 5000));
            a.port.close();
            ExecutionException ea = assertThrows(ExecutionException.class, () -> ca.get(5, TimeUnit.SECONDS));
            assertTrue(ea.getCause() instanceof Holds.HoldFailed, ea.toString());
            assertFalse(cb.isDone());
            assertEquals(1, rig.platform.holds().parkedCount());
            rig.platform.reset();
            assertThrows(ExecutionException.class, () -> cb.get(5, TimeUnit.SECONDS));
            assertEquals(0, rig.platform.holds().parkedCount());
            assertEquals(0, rig.platform.faults().size(), "Reset clears the rules");
        }
    }

    @Test
    void triggerStartsAnOperatorActionAtTheMatchingCall() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            rule(rig, FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW).times(1),
                    new FaultAction.Trigger(new Triggers.Migrate("", ""), When.AFTER));
            g.allocate(Vas.WIN_TYPE_DEFAULT);
            PlatformEvent e = g.nextEvent();
            assertTrue(e instanceof PlatformEvent.MigrationRequest, e.toString());
            assertEquals("destination", rig.state("lpar1").migration().destination());
        }
    }

    @Test
    void rtasCallsCanBeFaultedToo() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            rule(rig, FaultMatch.rtas(RtasService.ACTIVATE_FIRMWARE).times(1),
                    new FaultAction.ReturnStatus(RtasStatus.BUSY, null, When.BEFORE));
            assertEquals(RtasStatus.BUSY, g.rtas(0, RtasService.ACTIVATE_FIRMWARE, null).status());
            assertEquals(RtasStatus.SUCCESS, g.rtas(0, RtasService.ACTIVATE_FIRMWARE, null).status());
        }
    }

    @Test
    void everyFiredActionIsTraced() {
        try (Rig rig = new Rig()) {
            Rig.Guest g = rig.guest("lpar1");
            long id = rule(rig, FaultMatch.hcall(Hcall.H_ALLOCATE_VAS_WINDOW),
                    new FaultAction.ReturnStatus(HStatus.H_BUSY, null, When.BEFORE));
            g.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
            List<TraceRecord> faults = rig.platform.trace().read(0, 1000, "lpar1").records().stream()
                    .filter(r -> r.kind() == TraceKind.FAULT).toList();
            assertEquals(1, faults.size());
            assertTrue(faults.get(0).name().contains("rule " + id) && faults.get(0).name().contains("H_BUSY"),
                    faults.get(0).name());
        }
    }

    @Test
    void parkedHoldLimitLetsTheCallRunAndCountsTheRefusal() {
        PlatformConfig.Limits d = PlatformConfig.Limits.DEFAULT;
        PlatformConfig.Limits one = d.withMaxParkedHolds(1);
        try (Rig rig = new Rig(Rig.config(PlatformConfig.HypervisorOptions.DEFAULT, one))) {
            Rig.Guest g = rig.guest("lpar1");
            long id = rule(rig, FaultMatch.hcall(Hcall.H_QUERY_VAS_CAPABILITIES), new FaultAction.Hold("q", When.BEFORE));
            CompletableFuture<HcallResult> first = g.port.hcallAsync(0, Hcall.H_QUERY_VAS_CAPABILITIES,
                    new long[] {0, Rig.BUF}, null);
            Rig.await(rig.platform.awaitHold("q", 1, 5000));
            // vCPU 0 is still inside the held call; the second call comes from vCPU 1
            assertEquals(HStatus.H_SUCCESS, g.hcall(1, Hcall.H_QUERY_VAS_CAPABILITIES, 0, Rig.BUF).status());
            assertEquals(1, rig.platform.faults().list().get(0).holdsRefused());
            assertEquals(id, rig.platform.faults().list().get(0).id());
            rig.platform.holds().release("q", 0);
            assertEquals(HStatus.H_SUCCESS, Rig.await(first).status());
        }
    }
}
