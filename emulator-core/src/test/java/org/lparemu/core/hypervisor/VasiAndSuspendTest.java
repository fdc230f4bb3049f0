package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_P2;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_STATE;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiSignal;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.PlatformEvent;
import org.lparemu.core.port.RtasResult;

/** H_VASI_STATE, H_VASI_SIGNAL and each way ibm,suspend-me can refuse. */
@Timeout(20)
class VasiAndSuspendTest {
    private Rig rig;
    private Rig.Guest g;

    private void start(PlatformConfig.HypervisorOptions options) {
        rig = new Rig(options);
        g = rig.guest("lpar1");
    }

    @AfterEach
    void close() {
        rig.close();
    }

    private RtasResult suspendMe(int vcpu) {
        return g.rtas(vcpu, RtasService.SUSPEND_ME, null);
    }

    @Test
    void migrateOpensAStreamAndTellsTheGuest() {
        start(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 500, 0, 0, 60_000));
        OperatorResults.MigrateResult m = rig.platform.migrate("lpar1", "");
        assertEquals("destination", m.destination());
        PlatformEvent e = g.nextEvent();
        assertEquals(new PlatformEvent.MigrationRequest(m.eventId(), m.streamId()), e);

        assertEquals(VasiState.ENABLED.code, g.vasiState(m.streamId()));
        rig.clock.advance(500);
        Rig.await(CompletableFuture.runAsync(() -> { }, rig.clock)); // the ready timer ran before this
        assertEquals(VasiState.SUSPENDING.code, g.vasiState(m.streamId()));
        assertEquals(VasiState.SUSPENDING, rig.state("lpar1").migration().vasiState());
    }

    @Test
    void vasiCallsKnowOnlyThePartitionsOwnStream() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_VASI_STATE, 1).status(), "no stream yet");
        long stream = rig.platform.migrate("lpar1", null).streamId();
        Rig.Guest other = rig.guest("lpar2");
        assertEquals(H_PARAMETER, other.hcall(0, Hcall.H_VASI_STATE, stream).status());
        assertEquals(H_PARAMETER, other.hcall(0, Hcall.H_VASI_SIGNAL, stream, VasiSignal.CANCEL, 0).status());
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_VASI_STATE, stream + 1).status());
        assertEquals(VasiState.SUSPENDING.code, g.vasiState(stream));
    }

    @Test
    void cancelAbortsWithTheReasonAndEndsTheMigration() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        long stream = rig.platform.migrate("lpar1", null).streamId();
        CompletableFuture<MigrationOutcome> outcome = rig.platform.awaitMigration("lpar1", 5_000);
        assertFalse(outcome.isDone());

        assertEquals(H_P2, g.hcall(0, Hcall.H_VASI_SIGNAL, stream, VasiSignal.SUSPEND, 0).status());
        assertEquals(H_P2, g.hcall(0, Hcall.H_VASI_SIGNAL, stream, 99, 0).status());
        long reason = VasiSignal.cancelReason(VasiSignal.ENTITY_MIGRATING_PARTITION, 16);
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_VASI_SIGNAL, stream, VasiSignal.CANCEL, reason).status());
        assertEquals(VasiState.ABORTED.code, g.vasiState(stream));
        assertEquals(H_STATE, g.hcall(0, Hcall.H_VASI_SIGNAL, stream, VasiSignal.CANCEL, reason).status());

        MigrationOutcome o = Rig.await(outcome);
        assertFalse(o.success());
        assertEquals(VasiState.ABORTED, o.vasiState());
        assertTrue(o.reason().contains("0x6000010"), o.reason());
        assertEquals("source", rig.state("lpar1").system());
        assertTrue(rig.state("lpar1").migration().reason().contains("0x6000010"));
    }

    @Test
    void suspendWithoutASuspendingStreamIsNotSuspendable() {
        start(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 1_000, 0, 0, 60_000));
        assertEquals(RtasStatus.NOT_SUSPENDABLE, suspendMe(0).status(), "no stream");
        rig.platform.migrate("lpar1", null);
        g.joinAllBut(3);
        assertEquals(RtasStatus.NOT_SUSPENDABLE, suspendMe(3).status(), "stream still ENABLED");
        assertEquals(List.of(RtasStatus.NOT_SUSPENDABLE), rig.state("lpar1").migration().rtasStatuses());
        assertEquals(RtasStatus.PARAMETER_ERROR, g.rtas(3, RtasService.SUSPEND_ME, null, 1).status());
    }

    @Test
    void suspendWithActiveThreadsIsRefused() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        rig.platform.migrate("lpar1", null);
        g.hcallAsync(0, Hcall.H_JOIN);
        g.hcallAsync(1, Hcall.H_JOIN);
        assertEquals(RtasStatus.THREADS_ACTIVE, suspendMe(3).status(), "vcpu 2 is running");
        assertEquals(VasiState.SUSPENDING, rig.state("lpar1").migration().vasiState());
    }

    @Test
    void suspendWithAWindowIsRefusedAndTheStreamStaysSuspending() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        long winId = g.allocate(Vas.WIN_TYPE_DEFAULT).ret(0);
        rig.platform.migrate("lpar1", null);
        g.joinAllBut(3);
        assertEquals(RtasStatus.OUTSTANDING_COPROC, suspendMe(3).status());
        assertEquals(VasiState.SUSPENDING, rig.state("lpar1").migration().vasiState());
        assertFalse(rig.state("lpar1").suspended());

        g.deallocate(winId);
        CompletableFuture<RtasResult> accepted = g.rtasAsync(3, RtasService.SUSPEND_ME, null);
        assertEquals(RtasStatus.SUCCESS, Rig.await(accepted).status());
        assertEquals(List.of(RtasStatus.OUTSTANDING_COPROC, RtasStatus.SUCCESS),
                rig.state("lpar1").migration().rtasStatuses());
    }

    @Test
    void threadsActiveAndAWindowOpenTogetherAnswerThreadsActive() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        g.allocate(Vas.WIN_TYPE_DEFAULT);
        rig.platform.migrate("lpar1", null);
        g.hcallAsync(0, Hcall.H_JOIN);
        assertEquals(RtasStatus.THREADS_ACTIVE, suspendMe(3).status(), "the rendezvous is checked before the windows");
        g.hcallAsync(1, Hcall.H_JOIN);
        g.hcallAsync(2, Hcall.H_JOIN);
        assertEquals(RtasStatus.OUTSTANDING_COPROC, suspendMe(3).status(), "then the window");
        assertEquals(List.of(RtasStatus.THREADS_ACTIVE, RtasStatus.OUTSTANDING_COPROC),
                rig.state("lpar1").migration().rtasStatuses());
    }

    @Test
    void theConfiguredRefusalStatusIsTheOneReturned() {
        PlatformConfig.HypervisorOptions d = PlatformConfig.HypervisorOptions.DEFAULT;
        start(new PlatformConfig.HypervisorOptions(PlatformConfig.SuspendWithWindows.REFUSE, RtasStatus.BUSY,
                d.overCreditStatus(), 0, 0, 0, 60_000, 0, 0));
        g.allocate(Vas.WIN_TYPE_DEFAULT);
        rig.platform.migrate("lpar1", null);
        g.joinAllBut(3);
        assertEquals(RtasStatus.BUSY, suspendMe(3).status());
        assertEquals(VasiState.SUSPENDING, rig.state("lpar1").migration().vasiState(), "the OS may retry");
    }

    @Test
    void anotherPartitionsWindowsDoNotHoldTheSuspension() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        Rig.Guest other = rig.guest("lpar2");
        other.openWindow(Vas.WIN_TYPE_DEFAULT);
        rig.platform.migrate("lpar1", null);
        g.joinAllBut(3);
        assertEquals(RtasStatus.SUCCESS, Rig.await(g.rtasAsync(3, RtasService.SUSPEND_ME, null)).status());
        assertEquals(1, rig.state("lpar2").windows().size(), "lpar2's window is untouched");
    }

    @Test
    void abortStreamOptionAbortsOnAnOpenWindow() {
        start(Rig.options(PlatformConfig.SuspendWithWindows.ABORT_STREAM, 0, 0, 0, 60_000));
        g.openWindow(Vas.WIN_TYPE_DEFAULT);
        long stream = rig.platform.migrate("lpar1", null).streamId();
        g.joinAllBut(3);
        CompletableFuture<MigrationOutcome> waiting = rig.platform.awaitMigration("lpar1", 60_000);
        assertEquals(RtasStatus.SUSPEND_ABORTED, suspendMe(3).status());
        assertEquals(VasiState.ABORTED.code, g.vasiState(stream));
        MigrationOutcome o = Rig.await(waiting); // completed by the abort itself: the manual clock never moves
        assertFalse(o.success());
        assertEquals(List.of(RtasStatus.SUSPEND_ABORTED), o.rtasStatuses());
        assertEquals(1, o.attempts());
    }

    @Test
    void aMigrationNotSuspendedInTimeIsAborted() {
        start(Rig.options(PlatformConfig.SuspendWithWindows.REFUSE, 0, 0, 0, 3_000));
        long stream = rig.platform.migrate("lpar1", null).streamId();
        CompletableFuture<MigrationOutcome> outcome = rig.platform.awaitMigration("lpar1", 0);
        rig.clock.advance(2_999);
        assertEquals(VasiState.SUSPENDING.code, g.vasiState(stream));
        rig.clock.advance(1);
        MigrationOutcome o = Rig.await(outcome);
        assertEquals(VasiState.ABORTED, o.vasiState());
        assertTrue(o.reason().contains("3000 ms"), o.reason());
        assertEquals(0, o.attempts());
    }

    @Test
    void migrateAndAwaitRejectWhatCannotBeDone() {
        start(PlatformConfig.HypervisorOptions.DEFAULT);
        assertEquals(ControlError.INVALID_STATE, code(() -> Rig.await(rig.platform.awaitMigration("lpar1", 100))));
        assertEquals(ControlError.INVALID_STATE, code(() -> rig.platform.migrate("lpar1", "source")));
        assertEquals(ControlError.UNKNOWN_SYSTEM, code(() -> rig.platform.migrate("lpar1", "nowhere")));
        assertEquals(ControlError.UNKNOWN_PARTITION, code(() -> rig.platform.migrate("lpar9", null)));
        rig.platform.migrate("lpar1", null);
        assertEquals(ControlError.INVALID_STATE, code(() -> rig.platform.migrate("lpar1", null)));

        CompletableFuture<MigrationOutcome> waiting = rig.platform.awaitMigration("lpar1", 50);
        rig.clock.advance(50);
        assertEquals(ControlError.TIMEOUT, code(() -> Rig.await(waiting)));
    }

    private static ControlError code(Runnable r) {
        Throwable t = assertThrows(Throwable.class, r::run);
        while (t != null && !(t instanceof ControlException)) {
            t = t.getCause();
        }
        if (t == null) {
            throw new AssertionError("no ControlException");
        }
        return ((ControlException) t).code();
    }
}
