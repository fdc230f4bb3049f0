package org.lparemu.demo;

import java.util.ArrayList;
import java.util.List;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.NxGzipDevice;
import org.lparemu.core.guest.PseriesVas;
import org.lparemu.core.papr.Vas;
import org.lparemu.proto.v1.TraceKind;
import org.lparemu.proto.v1.TraceRecord;

/** Reading the VAS evidence the scenarios share: window status bits, hcall counts from the trace. */
final class VasEvidence {
    private VasEvidence() {
    }

    /** Opens {@code n} windows, each from its own task "user0".."userN-1"; fails the run if one does not open. */
    static List<Long> openWindows(ScenarioRun r, NxGzipDevice nx, int n) throws Exception {
        List<Long> handles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            NxGzipDevice.OpenResult o = ScenarioRun.await(r.onTask("user" + i, () -> nx.open(false, 0)), "open " + i);
            if (!o.ok()) {
                throw new IllegalStateException("open " + i + " failed: " + o.error());
            }
            handles.add(o.handle());
        }
        return handles;
    }

    /**
     * The Linux status bits of each handle's window, oldest handle first, as the guest kernel lists them
     * ({@link PseriesVas#snapshots()}): "A" active, "C" NO_CRED_CLOSE, "M" MIGRATE_CLOSE, "CM" both, "-" no
     * listed window. E.g. "[M M CM CM]".
     */
    static String bits(GuestKernel guest, NxGzipDevice nx, List<Long> handles) {
        List<PseriesVas.WindowSnapshot> listed = new ArrayList<>();
        for (PseriesVas.CapsSnapshot c : guest.vas().snapshots()) {
            listed.addAll(c.windows());
        }
        List<String> out = new ArrayList<>();
        for (long h : handles) {
            var w = nx.window(h);
            PseriesVas.WindowSnapshot s = w == null ? null
                    : listed.stream().filter(x -> x.serial() == w.serial()).findFirst().orElse(null);
            out.add(s == null ? "-" : bits(s.status()));
        }
        return "[" + String.join(" ", out) + "]";
    }

    static String bits(int status) {
        String s = ((status & Vas.VAS_WIN_NO_CRED_CLOSE) != 0 ? "C" : "") + ((status & Vas.VAS_WIN_MIGRATE_CLOSE) != 0 ? "M" : "");
        return s.isEmpty() ? "A" : s;
    }

    /** Default-type counters as the guest holds them: "open 3, closed 3, used 3". */
    static String counters(GuestKernel guest) {
        PseriesVas.CapsSnapshot c = guest.vas().snapshot(Vas.WIN_TYPE_DEFAULT);
        return "open " + c.windowsOpen() + ", closed " + c.windowsClosed() + ", used " + c.creditsUsed() + " of "
                + c.creditsTotal();
    }

    /** The CALL_END records of {@code opcode} after {@code since}. */
    static List<TraceRecord> ends(List<TraceRecord> trace, long since, long opcode) {
        return trace.stream().filter(t -> t.getSeq() > since && t.getKind() == TraceKind.CALL_END
                && t.getOpcode() == opcode).toList();
    }

    /** The CALL_BEGIN records of {@code opcode} after {@code since}. */
    static List<TraceRecord> begins(List<TraceRecord> trace, long since, long opcode) {
        return trace.stream().filter(t -> t.getSeq() > since && t.getKind() == TraceKind.CALL_BEGIN
                && t.getOpcode() == opcode).toList();
    }

    /** Pastes on each handle's window: "[ok ok fail fail]". */
    static String pastes(NxGzipDevice nx, List<Long> handles) {
        List<String> out = new ArrayList<>();
        for (long h : handles) {
            out.add(nx.window(h) == null ? "-" : nx.paste(h, 4096) ? "ok" : "fail");
        }
        return "[" + String.join(" ", out) + "]";
    }
}
