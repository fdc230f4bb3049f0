package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.lparemu.core.check.InvariantChecker;
import org.lparemu.core.check.Violation;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.PlatformConfig;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.port.GuestReport;

/**
 * The oracles every exploration watches.
 * <ul>
 *   <li>Live, after every step that changed the hypervisor (a trace record was written): the hypervisor's own
 *       invariants that hold at every instant ({@link #LIVE_HYPERVISOR}), and {@code window-open-at-suspend}:
 *       ibm,suspend-me refused because a VAS window existed, although the guest calls it only after its VAS
 *       SUSPEND closed every window (the 2023 race's symptom).</li>
 *   <li>Live: {@code vcpu-rules}, no call refused for the vCPU rules (the guest machine's schedules are ones
 *       hardware can run).</li>
 *   <li>At quiescence: every {@link InvariantChecker} oracle (hypervisor, guest against hypervisor, device tree)
 *       and the guest's own VAS invariants. Those that compare the guest's counters with its lists hold only
 *       when no open is under way, so they are never checked live.</li>
 * </ul>
 */
public final class SimOracles {
    /** Hypervisor checks that hold in every state, so they run after every step. */
    public static final Set<String> LIVE_HYPERVISOR = Set.of("credits-over-max", "window-on-foreign-system",
            "suspension-vs-vasi", "vcpu-state");

    private SimOracles() {
    }

    static List<SimOracle> builtIn() {
        return List.of(new WindowOpenAtSuspend(), new CpuRules(), new LiveHypervisor(), new Quiescent());
    }

    private static List<SimOracle.Finding> convert(List<Violation> vs) {
        List<SimOracle.Finding> out = new ArrayList<>();
        for (Violation v : vs) {
            out.add(new SimOracle.Finding(v.name(), v.location(), v.detail()));
        }
        return out;
    }

    /** Skips the check when the hypervisor wrote nothing since the last one (its state cannot have changed). */
    private abstract static class OnTraceChange implements SimOracle {
        private long seen = -1;

        @Override
        public final List<SimOracle.Finding> check(SimWorld w) {
            long next = w.platform().trace().nextSeq();
            if (next == seen) {
                return List.of();
            }
            seen = next;
            return checkNow(w);
        }

        abstract List<SimOracle.Finding> checkNow(SimWorld w);
    }

    /** ibm,suspend-me refused for an open window after the guest's VAS SUSPEND. */
    static final class WindowOpenAtSuspend extends OnTraceChange {
        @Override
        public String name() {
            return "window-open-at-suspend";
        }

        @Override
        public boolean live() {
            return true;
        }

        @Override
        List<SimOracle.Finding> checkNow(SimWorld w) {
            PartitionView v = w.liveState();
            if (v.migration() == null) {
                return List.of();
            }
            PlatformConfig.HypervisorOptions o = w.platform().config().hypervisor();
            int refusal = o.suspendWithWindows() == PlatformConfig.SuspendWithWindows.ABORT_STREAM
                    ? RtasStatus.SUSPEND_ABORTED : o.suspendRefusalStatus();
            if (!v.migration().rtasStatuses().contains(refusal)) {
                return List.of();
            }
            return List.of(new SimOracle.Finding(name(), SimWorld.PARTITION + "/migration", "ibm,suspend-me answered "
                    + RtasStatus.name(refusal) + ": a VAS window was open after the guest's VAS SUSPEND returned ("
                    + v.windows().size() + " window(s) now, statuses " + v.migration().rtasStatuses() + ")"));
        }
    }

    /**
     * The hypervisor refused no call for its vCPU rules (a call from a vCPU already in one, from a stopped vCPU, a
     * second RTAS call in flight): the guest machine let a task do what no processor can, so the schedule that got
     * there could not happen on hardware. Checked live so that the step that broke the rule ends the run.
     */
    static final class CpuRules extends OnTraceChange {
        @Override
        public String name() {
            return "vcpu-rules";
        }

        @Override
        public boolean live() {
            return true;
        }

        @Override
        List<SimOracle.Finding> checkNow(SimWorld w) {
            PartitionView v = w.liveState();
            if (v.callsRefused() == 0) {
                return List.of();
            }
            return List.of(new SimOracle.Finding(name(), SimWorld.PARTITION + "/vcpus", v.callsRefused()
                    + " call(s) refused by the hypervisor's vCPU rules: the schedule made a vCPU do what a CPU cannot"));
        }
    }

    /** The hypervisor invariants that hold at every instant. */
    static final class LiveHypervisor extends OnTraceChange {
        @Override
        public String name() {
            return "hypervisor";
        }

        @Override
        public boolean live() {
            return true;
        }

        @Override
        List<SimOracle.Finding> checkNow(SimWorld w) {
            PartitionView v = w.liveState();
            List<Violation> all = InvariantChecker.hypervisor(v, w.platform().system(v.system()));
            List<Violation> live = new ArrayList<>();
            for (Violation x : all) {
                if (LIVE_HYPERVISOR.contains(x.name())) {
                    live.add(x);
                }
            }
            return convert(live);
        }
    }

    /** Everything, once nothing is left to run. */
    static final class Quiescent implements SimOracle {
        @Override
        public String name() {
            return "quiescent";
        }

        @Override
        public boolean live() {
            return false;
        }

        @Override
        public List<SimOracle.Finding> check(SimWorld w) {
            PartitionView v = w.state();
            GuestReport r = w.kernel().report();
            List<Violation> all = new ArrayList<>(
                    InvariantChecker.hypervisor(v, w.platform().system(v.system())));
            all.addAll(InvariantChecker.guest(v, r));
            all.addAll(InvariantChecker.deviceTree(v, r));
            List<SimOracle.Finding> out = convert(all);
            for (String g : w.kernel().checkInvariants()) {
                out.add(new SimOracle.Finding("guest-invariant", SimWorld.PARTITION + "/guest", g));
            }
            return out;
        }
    }
}
