package org.lparemu.core.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.Hcall;

class HoldsTest {
    static CallInfo call(long conn, String partition) {
        return new CallInfo(partition, 0, "t", Hcall.H_MODIFY_VAS_WINDOW, null, new long[] {7}, conn, 1);
    }

    @Test
    void awaitReturnsWhenEnoughCallsAreParkedAndReleaseIsFifo() throws Exception {
        Holds h = new Holds(16);
        CompletableFuture<List<ParkedCall>> waiting = h.await("modify", 2);
        CompletableFuture<Void> first = h.park("modify", call(1, "p"), When.BEFORE, 0);
        assertFalse(waiting.isDone());
        CompletableFuture<Void> second = h.park("modify", call(2, "p"), When.AFTER, 0);
        List<ParkedCall> parked = waiting.get();
        assertEquals(2, parked.size());
        assertEquals(1, parked.get(0).call().connectionId());
        assertEquals(When.AFTER, parked.get(1).when());
        // Already parked: await answers at once.
        assertEquals(2, h.await("modify", 1).get().size());
        assertEquals(1, h.release("modify", 1));
        assertTrue(first.isDone());
        assertFalse(second.isDone());
        assertEquals(1, h.parkedCount());
        assertEquals(1, h.release("modify", 0));
        assertTrue(second.isDone());
        assertEquals(0, h.release("modify", 0));
    }

    @Test
    void failConnectionFailsOnlyThatConnectionsCalls() {
        Holds h = new Holds(16);
        CompletableFuture<Void> mine = h.park("x", call(1, "p"), When.BEFORE, 0);
        CompletableFuture<Void> other = h.park("x", call(2, "p"), When.BEFORE, 0);
        assertEquals(1, h.failConnection(1, "disconnected"));
        ExecutionException e = Assertions.assertThrows(ExecutionException.class, mine::get);
        assertTrue(e.getCause() instanceof Holds.HoldFailed);
        assertFalse(other.isDone());
        assertEquals(1, h.parkedAt("x").size());
        assertEquals(1, h.failAll("reset"));
        assertTrue(other.isCompletedExceptionally());
        assertEquals(0, h.parkedCount());
    }

    @Test
    void parkedLimitRefusesToPark() {
        Holds h = new Holds(1);
        assertTrue(h.park("x", call(1, "p"), When.BEFORE, 0) != null);
        assertNull(h.park("x", call(1, "p"), When.BEFORE, 0));
        assertEquals(1, h.parkedCount());
    }

    @Test
    void failAllFailsWaitersToo() {
        Holds h = new Holds(4);
        CompletableFuture<List<ParkedCall>> w = h.await("never", 1);
        h.failAll("reset");
        assertTrue(w.isCompletedExceptionally());
    }
}
