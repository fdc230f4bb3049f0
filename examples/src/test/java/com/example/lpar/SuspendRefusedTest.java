package com.example.lpar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.junit.LparemuTest;
import org.lparemu.proto.v1.EventAck;
import org.lparemu.proto.v1.FaultMatch;
import org.lparemu.proto.v1.FaultRule;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.ReturnStatus;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * The firmware refuses ibm,suspend-me with -9006 (a coprocessor still has work outstanding), every time. The guest
 * must give up after its retries, report the failure to the orchestrator, and stay on the source system with its
 * state consistent; the extension checks the latter (the invariant oracles) after the test.
 */
@LparemuTest
@Timeout(60)
class SuspendRefusedTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final int OUTSTANDING_COPROC = -9006;

    @Test
    void aRefusedSuspendFailsTheMigrationAndTheGuestStaysWhereItWas(ControlClient control, GuestKernel guest) {
        control.addFault(FaultRule.newBuilder()
                .setMatch(FaultMatch.newBuilder().setPartition("lpar1").setRtasService("ibm,suspend-me"))
                .setReturnStatus(ReturnStatus.newBuilder().setStatus(OUTSTANDING_COPROC))
                .build());

        long event = control.migrate("lpar1", "destination").getEventId();
        EventAck ack = control.awaitEvent(event, WAIT);
        assertNotEquals(0, ack.getStatus(), "the guest's migration handler reports the failure: " + ack);

        MigrationOutcome outcome = control.awaitMigration("lpar1", WAIT);
        assertFalse(outcome.getSuccess(), outcome.toString());
        long refused = control.listFaults().get(0).getFired();
        assertTrue(refused > 1, "the guest retried the suspend before giving up: " + refused + " attempt(s)");
        List<Long> statuses = new ArrayList<>();
        for (TraceRecord r : control.getTrace("lpar1", 0, 100_000).getRecordsList()) {
            if (r.getKind() == TraceKind.CALL_END && r.getName().equals("ibm,suspend-me")) {
                statuses.add(r.getStatus());
            }
        }
        assertEquals(Collections.nCopies((int) refused, (long) OUTSTANDING_COPROC), statuses, "each attempt saw -9006");

        assertEquals("source", control.getState("lpar1").getSystem(), "the partition did not move");
        assertEquals(0, guest.report().migrationsOk());
        assertEquals(1, guest.report().migrationsFailed());
    }
}
