package org.lparemu.kernel.scenario;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.kernel.KernelGuest;
import org.lparemu.kernel.KernelRun;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/** Reading the C guest's VAS evidence the way the Java scenarios read the Java port's. */
final class Evidence {
    static final int LINUX_NO_CRED_CLOSE = 0x1;
    static final int LINUX_MIGRATE_CLOSE = 0x2;
    static final int DEFAULT = 1;

    private Evidence() {
    }

    /** Opens {@code n} windows, each from its own process "user0".."userN-1"; fails the run if one does not open. */
    static List<Integer> openWindows(KernelGuest g, int n) throws Exception {
        List<Integer> handles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            KernelGuest.OpenResult o = KernelRun.await(g.open("user" + i, false, 0), "open " + i);
            if (!o.ok()) {
                throw new IllegalStateException("open " + i + " failed: " + o.error());
            }
            handles.add(o.handle());
        }
        return handles;
    }

    /** The Linux status bits of each handle's window, oldest first: "[A A C C]" (see the Java VasEvidence). */
    static String bits(KernelGuest g, List<Integer> handles) {
        List<String> out = new ArrayList<>();
        for (int h : handles) {
            KernelGuest.WindowInfo w = g.window(h);
            out.add(w == null || !w.listed() ? "-" : bits(w.status()));
        }
        return "[" + String.join(" ", out) + "]";
    }

    static String bits(int status) {
        String s = ((status & LINUX_NO_CRED_CLOSE) != 0 ? "C" : "") + ((status & LINUX_MIGRATE_CLOSE) != 0 ? "M" : "");
        return s.isEmpty() ? "A" : s;
    }

    /** Default-type counters: "open 3, closed 3, used 3 of 40". */
    static String counters(KernelGuest g) {
        KernelGuest.Counters c = g.counters(DEFAULT);
        return "open " + c.open() + ", closed " + c.closed() + ", used " + c.used() + " of " + c.total();
    }

    /** Pastes on each handle's window: "[ok ok fail fail]". */
    static String pastes(KernelGuest g, List<Integer> handles) throws Exception {
        List<String> out = new ArrayList<>();
        for (int h : handles) {
            out.add(KernelRun.await(g.paste("paste", h, 4096), "paste " + h));
        }
        return "[" + String.join(" ", out) + "]";
    }

    static List<TraceRecord> ends(List<TraceRecord> trace, long since, long opcode) {
        return trace.stream().filter(t -> t.getSeq() > since && t.getKind() == TraceKind.CALL_END
                && t.getOpcode() == opcode).toList();
    }

    static List<TraceRecord> begins(List<TraceRecord> trace, long since, long opcode) {
        return trace.stream().filter(t -> t.getSeq() > since && t.getKind() == TraceKind.CALL_BEGIN
                && t.getOpcode() == opcode).toList();
    }

    /** "suspend-me 0", "suspend-me -9006 x5" (the Java VasOpenVsMigration's words). */
    static String suspendSummary(List<Integer> statuses) {
        if (statuses.isEmpty()) {
            return "no suspend-me";
        }
        List<String> parts = new ArrayList<>();
        int i = 0;
        while (i < statuses.size()) {
            int j = i;
            while (j < statuses.size() && statuses.get(j).equals(statuses.get(i))) {
                j++;
            }
            parts.add(statuses.get(i) + (j - i > 1 ? " x" + (j - i) : ""));
            i = j;
        }
        return "suspend-me " + String.join(", ", parts);
    }
}
