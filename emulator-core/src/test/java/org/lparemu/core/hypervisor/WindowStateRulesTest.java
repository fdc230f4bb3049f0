package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lparemu.core.fault.FaultAction;
import org.lparemu.core.fault.FaultMatch;
import org.lparemu.core.fault.FaultRule;
import org.lparemu.core.fault.When;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.HcallResult;

/**
 * The over-credit refusal and the suspend refusal for a window in each state (allocated, modify in process,
 * active, closed), with both refusal statuses and the suspend mode configured away from their defaults, on
 * the real Platform. A window whose H_MODIFY_VAS_WINDOW is in flight can never refuse a suspend: the vCPU
 * making the modify is not parked in H_JOIN, so ibm,suspend-me answers -9005 first, whatever the options.
 */
@Timeout(30)
class WindowStateRulesTest {
    private static final String HOLD = "modify";
    /** Not the default -9006, so the test sees the configured status and not a coincidence. */
    private static final int REFUSAL = RtasStatus.HARDWARE_ERROR;
    /** Not the default H_CONSTRAINED. */
    private static final long OVER_CREDIT = HStatus.H_RESOURCE;
    /** lpar1's QoS credit target in the Rig. */
    private static final int QOS_CREDITS = 3;

    private Rig rig;
    private Rig.Guest g;
    private final List<Integer> modifying = new ArrayList<>();
    /** The last modify parked by {@link #parkedModify}. */
    private CompletableFuture<HcallResult> parked;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.close();
        }
    }

    private void start(PlatformConfig.SuspendWithWindows mode, Set<PlatformConfig.WindowState> blocking,
                       Set<PlatformConfig.WindowState> holding) {
        modifying.clear();
        rig = new Rig(new PlatformConfig.HypervisorOptions(mode, REFUSAL, OVER_CREDIT, 0, 0, 0, 60_000, 0, 0)
                .withSuspendBlockingStates(blocking).withCreditHoldingStates(holding));
        g = rig.guest("lpar1");
    }

    private static Set<PlatformConfig.WindowState> allBut(PlatformConfig.WindowState s) {
        Set<PlatformConfig.WindowState> out = EnumSet.allOf(PlatformConfig.WindowState.class);
        out.remove(s);
        return out;
    }

    /** A modify made from vCPU {@code vcpu} and parked by a hold, so the window stays MODIFY_IN_PROCESS. */
    private CompletableFuture<HcallResult> parkedModify(int vcpu, long winId) {
        rig.platform.addFault(new FaultRule(FaultMatch.hcall(Hcall.H_MODIFY_VAS_WINDOW).partition("lpar1")
                .onVcpu(vcpu).times(1), new FaultAction.Hold(HOLD, When.BEFORE)));
        CompletableFuture<HcallResult> f = g.hcallAsync(vcpu, Hcall.H_MODIFY_VAS_WINDOW, winId, 42, 0,
                Vas.MOD_WIN_FLAGS, 0);
        modifying.add(vcpu);
        Rig.await(rig.platform.awaitHold(HOLD, modifying.size(), 5000));
        return f;
    }

    private void modify(int vcpu, long winId, long flags) {
        assertEquals(HStatus.H_SUCCESS, g.hcall(vcpu, Hcall.H_MODIFY_VAS_WINDOW, winId, 42, 0, flags, 0).status());
    }

    /**
     * Puts a new QoS window in state {@code s}, every call made from vCPU {@code vcpu} (a MODIFY_IN_PROCESS
     * window's modify stays parked on it).
     */
    private long windowIn(PlatformConfig.WindowState s, int vcpu) {
        HcallResult a = g.hcall(vcpu, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1, Vas.DEFAULT_DOMAIN_ID);
        assertEquals(HStatus.H_SUCCESS, a.status());
        long id = a.ret(0);
        switch (s) {
            case ALLOCATED -> { }
            case MODIFY_IN_PROCESS -> parked = parkedModify(vcpu, id);
            case ACTIVE -> modify(vcpu, id, Vas.MOD_WIN_FLAGS);
            case CLOSED -> {
                modify(vcpu, id, Vas.MOD_WIN_FLAGS);
                modify(vcpu, id, Vas.MOD_WIN_CLOSE);
            }
            default -> throw new AssertionError(s);
        }
        return id;
    }

    private String stateOf(long winId) {
        return rig.state("lpar1").windows().stream().filter(w -> w.winId() == winId).findFirst()
                .map(w -> Integer.toString(w.status())).orElse("gone");
    }

    // ---------------------------------------------------------------------------------------------------
    // the over-credit refusal

    @ParameterizedTest
    @EnumSource(PlatformConfig.WindowState.class)
    void windowsInAHoldingStateFillTheTargetAndTheNextAllocationGetsTheConfiguredStatus(PlatformConfig.WindowState s) {
        start(PlatformConfig.SuspendWithWindows.REFUSE, EnumSet.allOf(PlatformConfig.WindowState.class), EnumSet.of(s));
        for (int v = 0; v < QOS_CREDITS; v++) {
            windowIn(s, v);
        }
        assertEquals(OVER_CREDIT, g.hcall(3, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                Vas.DEFAULT_DOMAIN_ID).status(), QOS_CREDITS + " windows " + s + " hold the whole target");
        assertEquals(QOS_CREDITS, rig.state("lpar1").windows().size(), "the refused allocation made no window");
    }

    @ParameterizedTest
    @EnumSource(PlatformConfig.WindowState.class)
    void windowsInAStateLeftOutOfTheHoldingStatesLeaveTheTargetFree(PlatformConfig.WindowState s) {
        start(PlatformConfig.SuspendWithWindows.REFUSE, EnumSet.allOf(PlatformConfig.WindowState.class), allBut(s));
        for (int v = 0; v < QOS_CREDITS; v++) {
            windowIn(s, v);
        }
        for (int i = 0; i < QOS_CREDITS; i++) {
            assertEquals(HStatus.H_SUCCESS, g.hcall(3, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1,
                    Vas.DEFAULT_DOMAIN_ID).status(), "windows " + s + " hold nothing, allocation " + i);
        }
        // The new windows are ALLOCATED: they fill the target unless ALLOCATED is the state left out.
        assertEquals(s == PlatformConfig.WindowState.ALLOCATED ? HStatus.H_SUCCESS : OVER_CREDIT,
                g.hcall(3, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_QOS, 1, Vas.DEFAULT_DOMAIN_ID).status());
    }

    // ---------------------------------------------------------------------------------------------------
    // the suspend refusal

    /**
     * Migrate, every vCPU but 3 joins (except one parked in a modify), and vCPU 3 calls ibm,suspend-me;
     * returns the stream id and the status.
     */
    private long[] suspendWithOneWindowIn(PlatformConfig.WindowState s) {
        long winId = windowIn(s, 0);
        long stream = rig.platform.migrate("lpar1", "").streamId();
        for (int v = 0; v < 3; v++) {
            if (!modifying.contains(v)) {
                g.hcallAsync(v, Hcall.H_JOIN);
            }
        }
        int status = Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status();
        return new long[] {stream, status, winId};
    }

    @ParameterizedTest
    @EnumSource(PlatformConfig.WindowState.class)
    void aWindowInABlockingStateRefusesTheSuspendWithTheConfiguredStatus(PlatformConfig.WindowState s) {
        start(PlatformConfig.SuspendWithWindows.REFUSE, EnumSet.of(s), EnumSet.allOf(PlatformConfig.WindowState.class));
        long[] r = suspendWithOneWindowIn(s);
        if (s == PlatformConfig.WindowState.MODIFY_IN_PROCESS) {
            assertEquals(RtasStatus.THREADS_ACTIVE, (int) r[1], "vCPU 0 is inside the modify, not in H_JOIN");
        } else {
            assertEquals(REFUSAL, (int) r[1], "a window " + s + " refuses");
        }
        assertEquals(VasiState.SUSPENDING.code, g.hcall(3, Hcall.H_VASI_STATE, r[0]).ret(0), "the OS may retry");
        assertEquals("source", rig.state("lpar1").system(), "not migrated");
        assertFalse(stateOf(r[2]).equals("gone"));
    }

    @ParameterizedTest
    @EnumSource(PlatformConfig.WindowState.class)
    void aWindowInAStateLeftOutOfTheBlockingStatesLetsTheSuspendThrough(PlatformConfig.WindowState s) {
        start(PlatformConfig.SuspendWithWindows.REFUSE, allBut(s), EnumSet.allOf(PlatformConfig.WindowState.class));
        long[] r = suspendWithOneWindowIn(s);
        if (s == PlatformConfig.WindowState.MODIFY_IN_PROCESS) {
            assertEquals(RtasStatus.THREADS_ACTIVE, (int) r[1], "vCPU 0 is inside the modify, not in H_JOIN");
            return;
        }
        assertEquals(RtasStatus.SUCCESS, (int) r[1], "a window " + s + " does not block");
        assertEquals("destination", rig.state("lpar1").system());
        assertEquals("gone", stateOf(r[2]), "a window let through is dropped at resume");
    }

    @ParameterizedTest
    @EnumSource(PlatformConfig.WindowState.class)
    void withAbortStreamAWindowInABlockingStateAbortsTheMigration(PlatformConfig.WindowState s) {
        start(PlatformConfig.SuspendWithWindows.ABORT_STREAM, EnumSet.of(s),
                EnumSet.allOf(PlatformConfig.WindowState.class));
        long[] r = suspendWithOneWindowIn(s);
        if (s == PlatformConfig.WindowState.MODIFY_IN_PROCESS) {
            assertEquals(RtasStatus.THREADS_ACTIVE, (int) r[1], "vCPU 0 is inside the modify, not in H_JOIN");
            assertEquals(VasiState.SUSPENDING.code, g.hcall(3, Hcall.H_VASI_STATE, r[0]).ret(0));
            return;
        }
        assertEquals(RtasStatus.SUSPEND_ABORTED, (int) r[1]);
        assertEquals(VasiState.ABORTED.code, g.hcall(3, Hcall.H_VASI_STATE, r[0]).ret(0));
        MigrationOutcome o = Rig.await(rig.platform.awaitMigration("lpar1", 1_000));
        assertFalse(o.success());
        assertTrue(o.reason().contains("VAS window"), o.reason());
    }

    @Test
    void aModifyInProcessWindowBecomesActiveAndThenRefusesWhenActiveBlocks() {
        start(PlatformConfig.SuspendWithWindows.REFUSE, EnumSet.of(PlatformConfig.WindowState.ACTIVE),
                EnumSet.allOf(PlatformConfig.WindowState.class));
        long[] r = suspendWithOneWindowIn(PlatformConfig.WindowState.MODIFY_IN_PROCESS);
        assertEquals(RtasStatus.THREADS_ACTIVE, (int) r[1]);
        rig.platform.holds().release(HOLD, 1);
        assertEquals(HStatus.H_SUCCESS, Rig.await(parked).status());
        CompletableFuture<HcallResult> join = g.hcallAsync(0, Hcall.H_JOIN);
        assertEquals(REFUSAL, Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status(),
                "the modify answered, the window is ACTIVE and vCPU 0 joined");
        assertFalse(join.isDone());
    }
}
