package com.example.lpar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.client.ControlClient;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.junit.LparemuTest;
import org.lparemu.proto.v1.MigrationOutcome;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/**
 * Live Partition Mobility with NX GZIP windows open: the guest closes its windows before it suspends (the source
 * firmware refuses to suspend a partition that holds any) and reopens them on the destination, where they have new
 * paste addresses and work again. The daemon's trace shows the order.
 */
@LparemuTest
@Timeout(60)
class MigrationReopensWindowsTest {
    static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void windowsAreClosedBeforeTheSuspendAndReopenedOnTheDestination(ControlClient control, GuestKernel guest) {
        NxGzipDevice nx = guest.nxGzip();
        List<Long> handles = new ArrayList<>();
        List<Long> pasteBefore = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            NxGzipDevice.OpenResult open = nx.open(false, -1);
            assertTrue(open.ok(), open.toString());
            handles.add(open.handle());
            pasteBefore.add(nx.window(open.handle()).pasteAddress());
        }
        long since = control.getTrace("lpar1", 0, 100_000).getLastSeq();

        long event = control.migrate("lpar1", "destination").getEventId();
        assertEquals(0, control.awaitEvent(event, WAIT).getStatus());
        MigrationOutcome outcome = control.awaitMigration("lpar1", WAIT);
        assertTrue(outcome.getSuccess(), outcome.toString());
        assertEquals("destination", control.getState("lpar1").getSystem());

        List<String> calls = new ArrayList<>();
        for (TraceRecord r : control.getTrace("lpar1", since, 100_000).getRecordsList()) {
            if (r.getKind() == TraceKind.CALL_BEGIN) {
                calls.add(r.getName());
            }
        }
        int suspend = calls.indexOf("ibm,suspend-me");
        assertTrue(suspend >= 0, "the guest suspended: " + calls);
        assertEquals(2, count(calls.subList(0, suspend), "H_DEALLOCATE_VAS_WINDOW"), "closed before: " + calls);
        assertEquals(2, count(calls.subList(suspend, calls.size()), "H_ALLOCATE_VAS_WINDOW"), "reopened after: " + calls);

        for (int i = 0; i < handles.size(); i++) {
            assertNotEquals(pasteBefore.get(i), nx.window(handles.get(i)).pasteAddress(), "a new paste address");
            assertTrue(nx.paste(handles.get(i), 4096), "the reopened window takes work");
        }
        assertEquals(2, control.getState("lpar1").getWindowsCount());
    }

    private static long count(List<String> calls, String name) {
        return calls.stream().filter(name::equals).count();
    }
}
