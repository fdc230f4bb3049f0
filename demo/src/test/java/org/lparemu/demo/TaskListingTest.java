package org.lparemu.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/** The plain-text trace: an interleaving with a column per task, then each task's records. */
class TaskListingTest {

    private static TraceRecord rec(long seq, TraceKind kind, String task, String name, long status) {
        return TraceRecord.newBuilder().setSeq(seq).setNanos(seq * 1000).setKind(kind).setPartition("lpar1")
                .setTask(task).setVcpu(task.isEmpty() ? -1 : 0).setName(name).setStatus(status).setOpcode(0x38C)
                .setBeginNanos(seq * 1000 - 500).build();
    }

    @Test
    void eachTaskGetsAColumnAndItsOwnSection() {
        String text = TaskListing.render(List.of(
                rec(1, TraceKind.CALL_BEGIN, "opener", "H_MODIFY_VAS_WINDOW", 0),
                rec(2, TraceKind.EVENT, "", "MigrationRequest", 0),
                rec(3, TraceKind.GUEST, "drmgr", "vas_migration_begin", 0),
                rec(4, TraceKind.CALL_END, "opener", "H_MODIFY_VAS_WINDOW", 0)));
        String[] lines = text.split("\n");
        String head = lines[3];
        assertTrue(head.contains("| opener") && head.contains("| drmgr") && head.contains("| platform"), head);
        int opener = head.indexOf("| opener");
        int drmgr = head.indexOf("| drmgr");
        assertEquals(opener, lines[4].indexOf("| H_MODIFY_VAS_WINDOW ..."), lines[4]);
        assertEquals(drmgr, lines[6].indexOf("| * vas_migration_begin"), lines[6]);
        assertTrue(lines[7].contains("H_MODIFY_VAS_WINDOW -> H_SUCCESS"), lines[7]);
        assertTrue(text.contains("== opener (2 records)") && text.contains("== platform (1 records)"), text);
        assertTrue(text.contains("vcpu 0 H_MODIFY_VAS_WINDOW -> H_SUCCESS (0.000 ms)")
                || text.contains("H_MODIFY_VAS_WINDOW -> H_SUCCESS (0.001 ms)"), text);
    }

    @Test
    void anEmptyTraceSaysSo() {
        assertEquals("no trace records\n", TaskListing.render(List.of()));
    }
}
