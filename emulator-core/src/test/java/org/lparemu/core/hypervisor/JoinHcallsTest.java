package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.lparemu.core.papr.HStatus.H_CONTINUE;
import static org.lparemu.core.papr.HStatus.H_HARDWARE;
import static org.lparemu.core.papr.HStatus.H_PARAMETER;
import static org.lparemu.core.papr.HStatus.H_SUCCESS;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.port.CallRefusal;
import org.lparemu.core.port.CallRefusedException;
import org.lparemu.core.port.HcallResult;

@Timeout(20)
class JoinHcallsTest {
    private final Rig rig = new Rig();
    private final Rig.Guest g = rig.guest("lpar1");

    @AfterEach
    void close() {
        rig.close();
    }

    @Test
    void joinersWaitTheLastGetsContinueAndProdsReleaseThem() {
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        parked.forEach(f -> assertFalse(f.isDone(), "a joined vCPU stays parked"));
        assertEquals(List.of(0, 1, 2), rig.state("lpar1").joinedVcpus());

        assertEquals(H_CONTINUE, g.hcall(3, Hcall.H_JOIN).status());
        assertEquals(List.of(0, 1, 2), rig.state("lpar1").joinedVcpus(), "the last vCPU does not park");

        for (int v = 0; v < 3; v++) {
            assertEquals(H_SUCCESS, g.hcall(3, Hcall.H_PROD, v).status());
            assertEquals(H_SUCCESS, Rig.await(parked.get(v)).status());
        }
        assertTrue(rig.state("lpar1").joinedVcpus().isEmpty());
    }

    @Test
    void aProdBeforeTheJoinMakesTheJoinReturnAtOnce() {
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_PROD, 1).status());
        assertEquals(H_SUCCESS, g.hcall(1, Hcall.H_JOIN).status());
        assertTrue(rig.state("lpar1").joinedVcpus().isEmpty());
        // the prod was consumed: the next join parks
        CompletableFuture<HcallResult> again = g.hcallAsync(1, Hcall.H_JOIN);
        assertFalse(again.isDone());
        assertEquals(List.of(1), rig.state("lpar1").joinedVcpus());
    }

    @Test
    void theLastJoinerContinuesEvenWithAProdPendingWhichStaysPending() {
        assertEquals(H_SUCCESS, g.hcall(0, Hcall.H_PROD, 3).status());
        List<CompletableFuture<HcallResult>> parked = g.joinAllBut(3);
        assertEquals(H_CONTINUE, g.hcall(3, Hcall.H_JOIN).status(), "the last-vCPU test comes first, as in QEMU");
        for (int v = 0; v < 3; v++) {
            assertEquals(H_SUCCESS, g.hcall(3, Hcall.H_PROD, v).status());
            assertEquals(H_SUCCESS, Rig.await(parked.get(v)).status());
        }
        g.hcallAsync(0, Hcall.H_JOIN);
        assertEquals(H_SUCCESS, g.hcall(3, Hcall.H_JOIN).status(), "the pending prod is still there");
        assertEquals(List.of(0), rig.state("lpar1").joinedVcpus());
    }

    @Test
    void aParkedVcpuCannotMakeASecondCall() {
        CompletableFuture<HcallResult> first = g.hcallAsync(2, Hcall.H_JOIN);
        CallRefusedException e = assertThrows(CallRefusedException.class, () -> g.hcall(2, Hcall.H_JOIN));
        assertEquals(CallRefusal.Reason.VCPU_BUSY, e.refusal().reason());
        assertEquals(2, e.refusal().vcpu());
        assertEquals(1, rig.state("lpar1").callsRefused());
        assertEquals(List.of(2), rig.state("lpar1").joinedVcpus(), "the parked join is untouched");
        assertFalse(first.isDone());
    }

    @Test
    void prodOfAnUnknownVcpuIsRejected() {
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_PROD, 4).status());
        assertEquals(H_PARAMETER, g.hcall(0, Hcall.H_PROD, -1).status());
    }

    @Test
    void aSingleVcpuPartitionContinuesAtOnce() {
        rig.platform.createPartition(new PartitionSpec("solo", 1, 1, false, 0, null));
        assertEquals(H_CONTINUE, rig.guest("solo").hcall(0, Hcall.H_JOIN).status());
    }

    @Test
    void disconnectUnparksThatConnectionsVcpusOnly() {
        Rig.Guest other = rig.guest("lpar1");
        CompletableFuture<HcallResult> mine = g.hcallAsync(0, Hcall.H_JOIN);
        CompletableFuture<HcallResult> theirs = other.hcallAsync(1, Hcall.H_JOIN);
        assertEquals(List.of(0, 1), rig.state("lpar1").joinedVcpus());

        other.port.close();
        assertEquals(H_HARDWARE, Rig.await(theirs).status());
        assertEquals(List.of(0), rig.state("lpar1").joinedVcpus());
        assertFalse(mine.isDone());
    }

    @Test
    void deletingThePartitionFailsParkedJoins() {
        CompletableFuture<HcallResult> parked = g.hcallAsync(0, Hcall.H_JOIN);
        rig.platform.deletePartition("lpar1");
        Boolean failed = Rig.await(parked.handle((r, e) -> e != null));
        assertTrue(failed, "the parked call failed");
    }
}
