package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lparemu.core.papr.VasiState;

/**
 * Every edge of the VASI stream's state machine that {@link VasiState#canBecome} forbids is refused by the stream of a
 * real partition on a real {@link Platform}, from every state a migration can reach (each reached by the legal path),
 * and leaves the state and the trace as they were; every edge it allows is taken and traced. A stream that accepted a
 * forbidden edge (a COMPLETED stream aborted, a SUSPENDED one resumed twice) would report a migration that never
 * happened.
 */
@Timeout(30)
class VasiEdgeTest {
    /** The legal path from INVALID to each state. */
    private static final Map<VasiState, List<VasiState>> PATHS = Map.of(
            VasiState.INVALID, List.of(),
            VasiState.ENABLED, List.of(VasiState.ENABLED),
            VasiState.ABORTED, List.of(VasiState.ENABLED, VasiState.ABORTED),
            VasiState.SUSPENDING, List.of(VasiState.ENABLED, VasiState.SUSPENDING),
            VasiState.SUSPENDED, List.of(VasiState.ENABLED, VasiState.SUSPENDING, VasiState.SUSPENDED),
            VasiState.RESUMED, List.of(VasiState.ENABLED, VasiState.SUSPENDING, VasiState.SUSPENDED, VasiState.RESUMED),
            VasiState.COMPLETED, List.of(VasiState.ENABLED, VasiState.SUSPENDING, VasiState.SUSPENDED, VasiState.RESUMED,
                    VasiState.COMPLETED));

    private final Rig rig = new Rig();
    private long streamIds = 100;

    @AfterEach
    void close() {
        rig.close();
    }

    private VasiStream streamIn(VasiState state) {
        Partition p = rig.platform.partition("lpar1");
        VasiStream s = new VasiStream(streamIds++, p, rig.platform.system("source"), rig.platform.system("destination"),
                0, 0);
        for (VasiState next : PATHS.get(state)) {
            s.transition(next, "legal path");
        }
        assertEquals(state, s.state);
        return s;
    }

    private long traceSeq() {
        return rig.platform.trace().nextSeq();
    }

    @Test
    void everyForbiddenEdgeIsRefusedAndEveryAllowedOneTaken() {
        Partition p = rig.platform.partition("lpar1");
        List<String> refused = new ArrayList<>();
        int allowed = 0;
        p.lock.lock();
        try {
            for (VasiState from : VasiState.values()) {
                for (VasiState to : VasiState.values()) {
                    VasiStream s = streamIn(from);
                    long before = traceSeq();
                    if (from.canBecome(to)) {
                        s.transition(to, "allowed");
                        assertEquals(to, s.state, from + " -> " + to);
                        assertTrue(traceSeq() > before, from + " -> " + to + " was not traced");
                        allowed++;
                    } else {
                        IllegalStateException e = assertThrows(IllegalStateException.class,
                                () -> s.transition(to, "forbidden"), from + " -> " + to);
                        assertTrue(e.getMessage().contains(from + " -> " + to), e.getMessage());
                        assertEquals(from, s.state, "a refused edge moved the stream");
                        assertEquals(before, traceSeq(), "a refused edge was traced");
                        refused.add(from + "->" + to);
                    }
                }
            }
        } finally {
            p.lock.unlock();
        }
        // The machine has exactly these edges: INVALID->ENABLED, ENABLED->{SUSPENDING,ABORTED},
        // SUSPENDING->{SUSPENDED,ABORTED}, SUSPENDED->RESUMED, RESUMED->COMPLETED; the other 42 are refused.
        assertEquals(7, allowed);
        assertEquals(42, refused.size(), refused.toString());
        assertTrue(refused.containsAll(List.of("SUSPENDED->ABORTED", "COMPLETED->ABORTED", "ABORTED->ENABLED",
                "RESUMED->SUSPENDED", "ENABLED->SUSPENDED", "INVALID->SUSPENDING", "COMPLETED->COMPLETED")), refused.toString());
    }
}
