package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.UpdateNodesWorkArea.Action;
import org.lparemu.core.papr.UpdateNodesWorkArea.Entry;

class UpdateNodesWorkAreaTest {

    @Test
    void roundTripsMixedRecordsAndGroupsConsecutiveActions() {
        List<Entry> entries = List.of(Entry.delete(0x10), Entry.delete(0x11), Entry.update(0x20),
                Entry.add(0x30, 0x10000008), Entry.add(0x30, 0x10000010), Entry.update(0x21));
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];

        assertEquals(6, UpdateNodesWorkArea.encodeEntries(wa, entries));
        assertEquals(entries, UpdateNodesWorkArea.decode(wa));

        ByteBuffer b = ByteBuffer.wrap(wa);
        // DELETE x2 | 0x10 0x11 | UPDATE x1 | 0x20 | ADD x2 | 0x30 drc 0x30 drc | UPDATE x1 | 0x21 | 0
        assertEquals(0x01000002, b.getInt(16));
        assertEquals(0x10, b.getInt(20));
        assertEquals(0x11, b.getInt(24));
        assertEquals(0x02000001, b.getInt(28));
        assertEquals(0x03000002, b.getInt(36));
        assertEquals(0x30, b.getInt(40));
        assertEquals(0x10000008, b.getInt(44));
        assertEquals(0x02000001, b.getInt(56));
        assertEquals(0x21, b.getInt(60));
        assertEquals(0, b.getInt(64));
    }

    @Test
    void stateWordsAreIndependentOfRecords() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        for (int i = 0; i < 4; i++) {
            UpdateNodesWorkArea.setStateWord(wa, i, 0xA0 + i);
        }
        UpdateNodesWorkArea.encodeEntries(wa, List.of(Entry.update(7)));
        for (int i = 0; i < 4; i++) {
            assertEquals(0xA0 + i, UpdateNodesWorkArea.stateWord(wa, i));
        }
        assertEquals(List.of(Entry.update(7)), UpdateNodesWorkArea.decode(wa));
        assertThrows(IndexOutOfBoundsException.class, () -> UpdateNodesWorkArea.stateWord(wa, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> UpdateNodesWorkArea.setStateWord(wa, -1, 0));
    }

    @Test
    void emptyListIsJustTheTerminator() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        wa[16] = 0x7F; // garbage that the terminator must overwrite
        assertEquals(0, UpdateNodesWorkArea.encodeEntries(wa, List.of()));
        assertEquals(List.of(), UpdateNodesWorkArea.decode(wa));
        assertEquals(0, ByteBuffer.wrap(wa).getInt(16));
    }

    @Test
    void fillsToCapacityLeavingRoomForTheTerminator() {
        // 4096 - 16 state bytes = 4080; one record word (4) + n phandles (4n) + terminator (4) <= 4080 -> n = 1018.
        List<Entry> many = new ArrayList<>();
        for (int i = 1; i <= 2000; i++) {
            many.add(Entry.update(i));
        }
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        int n = UpdateNodesWorkArea.encodeEntries(wa, many);
        assertEquals(1018, n);
        List<Entry> back = UpdateNodesWorkArea.decode(wa);
        assertEquals(many.subList(0, n), back);
        assertEquals(0, ByteBuffer.wrap(wa).getInt(UpdateNodesWorkArea.SIZE - 4), "terminator in the last word");

        // The rest goes in the next call with the same work area.
        int m = UpdateNodesWorkArea.encodeEntries(wa, many.subList(n, many.size()));
        assertEquals(982, m);
        assertEquals(many.subList(n, 2000), UpdateNodesWorkArea.decode(wa));
    }

    @Test
    void addEntryThatWouldOverflowIsLeftForTheNextCall() {
        // 1017 updates: record word + 1017 words = 4072 bytes from 16 -> pos 4088. An ADD needs 4 + 8 + 4 more.
        List<Entry> entries = new ArrayList<>();
        for (int i = 1; i <= 1017; i++) {
            entries.add(Entry.update(i));
        }
        entries.add(Entry.add(1, 0x1000));
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        assertEquals(1017, UpdateNodesWorkArea.encodeEntries(wa, entries));
        assertEquals(1017, UpdateNodesWorkArea.decode(wa).size());
    }

    @Test
    void decodeRejectsUnknownActionAndOverrun() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        ByteBuffer.wrap(wa).putInt(16, 0x05000001);
        assertThrows(IllegalArgumentException.class, () -> UpdateNodesWorkArea.decode(wa));

        byte[] wb = new byte[UpdateNodesWorkArea.SIZE];
        ByteBuffer.wrap(wb).putInt(16, 0x02000400); // 1024 phandles do not fit in 4076 bytes
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UpdateNodesWorkArea.decode(wb));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());

        assertThrows(IllegalArgumentException.class, () -> UpdateNodesWorkArea.decode(new byte[100]));
    }

    @Test
    void fullAreaWithoutTerminatorEndsAtTheLastByte() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        ByteBuffer b = ByteBuffer.wrap(wa);
        b.putInt(16, 0x01000000 | 1019); // 4 + 1019 * 4 = 4080 bytes: exactly fills the area
        for (int i = 0; i < 1019; i++) {
            b.putInt(20 + 4 * i, i + 1);
        }
        List<Entry> back = UpdateNodesWorkArea.decode(wa);
        assertEquals(1019, back.size());
        assertEquals(Entry.delete(1019), back.get(1018));
    }

    @Test
    void recordCountIsTwentyFourBitsAndHighPhandleBitsSurvive() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        UpdateNodesWorkArea.encodeEntries(wa, List.of(Entry.add(0xFFFFFFFF, 0x80000001), Entry.delete(0x80000000)));
        List<Entry> back = UpdateNodesWorkArea.decode(wa);
        assertEquals(List.of(Entry.add(0xFFFFFFFF, 0x80000001), Entry.delete(0x80000000)), back);
        assertEquals(Action.ADD, Action.of(3));
        assertThrows(IllegalArgumentException.class, () -> Action.of(0));
        assertThrows(IllegalArgumentException.class, () -> new Entry(Action.UPDATE, 1, 5));
    }

    @Test
    void encodeLeavesBytesAfterTheTerminatorAlone() {
        byte[] wa = new byte[UpdateNodesWorkArea.SIZE];
        wa[4000] = 0x55;
        UpdateNodesWorkArea.encodeEntries(wa, List.of(Entry.delete(3)));
        byte[] expect = new byte[UpdateNodesWorkArea.SIZE];
        ByteBuffer.wrap(expect).putInt(16, 0x01000001).putInt(20, 3).putInt(24, 0);
        expect[4000] = 0x55;
        assertArrayEquals(expect, wa);
    }
}
