package org.lparemu.core.papr;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The 4 KiB work area of RTAS {@code ibm,update-nodes} (papr-notes 6.3), encoded by the platform and decoded by
 * the guest kernel.
 *
 * <p>Layout, all words big-endian:
 * <pre>
 *   0..15   four firmware-state words: the platform's continuation state, opaque to the OS, which passes the
 *           work area back unchanged on every "call again" (status 1)
 *   16..    records: one word whose top byte is the action (1 DELETE, 2 UPDATE, 3 ADD) and whose low 24 bits
 *           are a count, followed by count phandles; for ADD each entry is two words, the parent's phandle
 *           and the new node's DRC index
 *   ...     a word whose action byte is 0 ends the list
 * </pre>
 * The records are all the OS reads; a work area without a terminator that is full to its last byte also ends
 * there, because nothing can follow.
 */
public final class UpdateNodesWorkArea {

    /** Size of the work area (RTAS_DATA_BUF_SIZE). */
    public static final int SIZE = RtasService.WORK_AREA_SIZE;
    /** Number of firmware-state words at the start of the work area. */
    public static final int STATE_WORDS = 4;
    /** Offset of the first record. */
    public static final int RECORDS_OFFSET = 4 * STATE_WORDS;
    /** Largest count one record word can carry (24 bits). */
    public static final int MAX_RECORD_COUNT = 0xFFFFFF;

    private static final int ACTION_SHIFT = 24;
    private static final int COUNT_MASK = 0xFFFFFF;

    /** What the OS must do with the nodes of one record. */
    public enum Action {
        /** Remove the node and its subtree. */
        DELETE(1),
        /** Fetch the node's changed properties with ibm,update-properties. */
        UPDATE(2),
        /** Fetch a new node by DRC index with ibm,configure-connector and attach it under the parent. */
        ADD(3);

        public final int code;

        Action(int code) {
            this.code = code;
        }

        /** Words one entry of this action occupies after the record word. */
        public int wordsPerEntry() {
            return this == ADD ? 2 : 1;
        }

        /** The action with this code. @throws IllegalArgumentException for any other code */
        public static Action of(int code) {
            for (Action a : values()) {
                if (a.code == code) {
                    return a;
                }
            }
            throw new IllegalArgumentException("no ibm,update-nodes action " + code);
        }
    }

    /**
     * One node named by the work area. For {@link Action#ADD} {@code phandle} is the parent's phandle and
     * {@code drcIndex} the new node's DRC index; for the other actions {@code drcIndex} is 0.
     */
    public record Entry(Action action, int phandle, int drcIndex) {
        public Entry {
            Objects.requireNonNull(action, "action");
            if (action != Action.ADD && drcIndex != 0) {
                throw new IllegalArgumentException(action + " entries carry no DRC index");
            }
        }

        public static Entry delete(int phandle) {
            return new Entry(Action.DELETE, phandle, 0);
        }

        public static Entry update(int phandle) {
            return new Entry(Action.UPDATE, phandle, 0);
        }

        public static Entry add(int parentPhandle, int drcIndex) {
            return new Entry(Action.ADD, parentPhandle, drcIndex);
        }
    }

    private UpdateNodesWorkArea() {
    }

    /** Firmware-state word {@code i} (0..3). */
    public static int stateWord(byte[] workArea, int i) {
        checkArea(workArea);
        return Be.getInt(workArea, stateOffset(i));
    }

    /** Sets firmware-state word {@code i} (0..3); the records are untouched. */
    public static void setStateWord(byte[] workArea, int i, int value) {
        checkArea(workArea);
        Be.putInt(workArea, stateOffset(i), value);
    }

    /**
     * Writes as many of {@code entries} as fit, from byte 16, followed by the terminator word. Consecutive
     * entries with the same action share one record word. The state words are untouched; bytes after the
     * terminator are left as they were.
     *
     * <p>An entry fits only if its record word (when it starts a new record), its own words and the terminator
     * still fit, so the terminator is always written. The caller sends the remaining entries in a later call
     * (status 1 "call again").
     *
     * @return the number of entries written, a prefix of {@code entries}
     */
    public static int encodeEntries(byte[] workArea, List<Entry> entries) {
        checkArea(workArea);
        int pos = RECORDS_OFFSET;
        int written = 0;
        int recordWordAt = -1;
        Action recordAction = null;
        int recordCount = 0;
        for (Entry e : entries) {
            boolean newRecord = e.action() != recordAction || recordCount == MAX_RECORD_COUNT;
            int need = 4 * e.action().wordsPerEntry() + (newRecord ? 4 : 0);
            if (pos + need + 4 > SIZE) {
                break;
            }
            if (newRecord) {
                if (recordWordAt >= 0) {
                    Be.putInt(workArea, recordWordAt, recordWord(recordAction, recordCount));
                }
                recordWordAt = pos;
                recordAction = e.action();
                recordCount = 0;
                pos += 4;
            }
            Be.putInt(workArea, pos, e.phandle());
            pos += 4;
            if (e.action() == Action.ADD) {
                Be.putInt(workArea, pos, e.drcIndex());
                pos += 4;
            }
            recordCount++;
            written++;
        }
        if (recordWordAt >= 0) {
            Be.putInt(workArea, recordWordAt, recordWord(recordAction, recordCount));
        }
        Be.putInt(workArea, pos, 0);
        return written;
    }

    /**
     * The entries of the work area's record list, in order, with each record's entries expanded.
     *
     * @throws IllegalArgumentException for an unknown action or a record that runs past the end of the area
     */
    public static List<Entry> decode(byte[] workArea) {
        checkArea(workArea);
        List<Entry> out = new ArrayList<>();
        int pos = RECORDS_OFFSET;
        while (pos + 4 <= SIZE) {
            int word = Be.getInt(workArea, pos);
            int code = word >>> ACTION_SHIFT;
            if (code == 0) {
                break;
            }
            Action action = Action.of(code);
            int count = word & COUNT_MASK;
            pos += 4;
            long end = pos + 4L * action.wordsPerEntry() * count;
            if (end > SIZE) {
                throw new IllegalArgumentException("ibm,update-nodes record at " + (pos - 4) + " (" + action + " x"
                        + count + ") runs past the end of the work area");
            }
            for (int i = 0; i < count; i++) {
                int phandle = Be.getInt(workArea, pos);
                pos += 4;
                int drc = 0;
                if (action == Action.ADD) {
                    drc = Be.getInt(workArea, pos);
                    pos += 4;
                }
                out.add(new Entry(action, phandle, drc));
            }
        }
        return out;
    }

    private static int recordWord(Action action, int count) {
        return (action.code << ACTION_SHIFT) | (count & COUNT_MASK);
    }

    private static int stateOffset(int i) {
        if (i < 0 || i >= STATE_WORDS) {
            throw new IndexOutOfBoundsException("state word " + i);
        }
        return 4 * i;
    }

    private static void checkArea(byte[] workArea) {
        if (workArea == null || workArea.length != SIZE) {
            throw new IllegalArgumentException("ibm,update-nodes work area must be " + SIZE + " bytes, got "
                    + (workArea == null ? "null" : workArea.length));
        }
    }
}
