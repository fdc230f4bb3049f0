package org.lparemu.core.check;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import org.lparemu.core.hypervisor.ControlError;
import org.lparemu.core.hypervisor.ControlException;
import org.lparemu.core.hypervisor.ManagedSystem;
import org.lparemu.core.hypervisor.PartitionView;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.papr.Associativity;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.papr.VasiState;
import org.lparemu.core.port.CpuNodes;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.GuestReport;

/**
 * The invariant oracles, written once:
 * <ul>
 *   <li><b>hypervisor</b>: credits within max_lpar_creds, every window mapped on the partition's current
 *       system, window ids unique per system, suspension consistent with the VASI state, no vCPU left in
 *       H_JOIN and no call left deferred outside a migration;</li>
 *   <li><b>guest</b> (guest against hypervisor, after quiescence): every window the guest holds as active
 *       is open in the hypervisor at the same paste address, every hypervisor window belongs to a live
 *       guest window (no leaks), no open in progress, and the guest's credit counters agree with its windows
 *       and with the hypervisor's target;</li>
 *   <li><b>device-tree</b>: the guest's tree equals the platform's tree for the partition's current system, and a
 *       guest whose kernel era moves CPUs between nodes has each online CPU on the node that tree's
 *       {@code ibm,associativity} gives (cpu-node-stale).</li>
 * </ul>
 * Each violation is named and located. The checks read snapshots ({@link PartitionView}, {@link GuestReport})
 * and never lock anything themselves.
 */
public final class InvariantChecker {
    public static final String HYPERVISOR = "hypervisor";
    public static final String GUEST = "guest";
    public static final String DEVICE_TREE = "device-tree";

    /** Properties through which a node can carry its phandle (the ones the kernel's attach reads). */
    static final Set<String> PHANDLE_PROPERTIES = Set.of("phandle", "linux,phandle", "ibm,phandle");

    private InvariantChecker() {
    }

    /**
     * Runs every oracle on one partition (or all, when {@code partition} is null or empty). For each
     * partition with a guest connected, the guest is first asked for a fresh report, so the cross-checks see
     * it after quiescence; partitions with no guest get the hypervisor oracle only.
     */
    public static CompletableFuture<InvariantReport> check(Platform platform, String partition, long timeoutMs) {
        List<String> names = partition == null || partition.isEmpty()
                ? platform.listPartitions().stream().map(PartitionView.Summary::name).toList()
                : List.of(platform.partition(partition).name());
        List<CompletableFuture<Optional<GuestReport>>> reports = new ArrayList<>();
        Set<String> unanswered = ConcurrentHashMap.newKeySet();
        for (String n : names) {
            // A guest that takes events but does not answer the request in time (a bare client connection, a hung
            // guest) gets the hypervisor oracles only, and the report says so; other failures fail the check.
            reports.add(platform.freshReport(n, timeoutMs).handle((r, e) -> {
                if (e == null) {
                    return r;
                }
                Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (c instanceof ControlException ce && ce.code() == ControlError.TIMEOUT) {
                    unanswered.add(n);
                    return Optional.empty();
                }
                throw c instanceof RuntimeException re ? re : new CompletionException(c);
            }));
        }
        return CompletableFuture.allOf(reports.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<Violation> out = new ArrayList<>();
            List<PartitionView> views = new ArrayList<>();
            List<String> busy = new ArrayList<>();
            int compared = 0;
            for (int i = 0; i < names.size(); i++) {
                PartitionView view = platform.getState(names.get(i));
                views.add(view);
                out.addAll(hypervisor(view, platform.system(view.system())));
                Optional<GuestReport> r = reports.get(i).join();
                if (unanswered.contains(names.get(i))) {
                    busy.add(names.get(i) + ": the guest did not answer the report request in time; guest checks "
                            + "skipped (the hypervisor's were run)");
                } else if (r.isPresent() && !r.get().quiescent()) {
                    busy.add(names.get(i) + ": " + r.get().busyTasks() + " guest task(s) busy (a VAS path, a migration, a "
                            + "device-tree update or a PRRN); guest checks "
                            + "skipped (they hold only at quiescence)");
                } else if (r.isPresent()) {
                    compared++;
                    out.addAll(guest(view, r.get()));
                    out.addAll(deviceTree(view, r.get()));
                }
            }
            out.addAll(acrossPartitions(views));
            return new InvariantReport(out, names.size(), compared, busy);
        });
    }

    /** The hypervisor's own state. */
    public static List<Violation> hypervisor(PartitionView v, ManagedSystem system) {
        List<Violation> out = new ArrayList<>();
        String p = v.spec().name();
        for (PartitionView.CreditView c : v.credits()) {
            if (c.used() > c.maxLpar()) {
                out.add(new Violation("credits-over-max", p + "/credits " + typeName(c.winType()),
                        c.used() + " credits held, max_lpar_creds is " + c.maxLpar(), HYPERVISOR));
            }
        }
        long base = system.config().pasteAddressBase();
        long end = base + (1L << 20) * ManagedSystem.PASTE_PAGE;
        for (PartitionView.WindowView w : v.windows()) {
            if (w.pasteAddress() < base || w.pasteAddress() >= end) {
                out.add(new Violation("window-on-foreign-system", p + "/window " + w.winId(), String.format(
                        "paste address 0x%x is not one of %s's (partition runs on %s)", w.pasteAddress(),
                        system.name(), v.system()), HYPERVISOR));
            }
        }
        VasiState vasi = v.migration() == null ? VasiState.INVALID : v.migration().vasiState();
        if (v.suspended() != (vasi == VasiState.SUSPENDED)) {
            out.add(new Violation("suspension-vs-vasi", p + "/migration", "suspended=" + v.suspended()
                    + " while the VASI stream is " + vasi, HYPERVISOR));
        }
        boolean migrating = vasi == VasiState.ENABLED || vasi == VasiState.SUSPENDING || vasi == VasiState.SUSPENDED;
        if (!migrating && !v.joinedVcpus().isEmpty()) {
            out.add(new Violation("vcpu-stuck-in-join", p + "/vcpus " + v.joinedVcpus(),
                    "vCPUs parked in H_JOIN with no migration under way (VASI " + vasi + ")", HYPERVISOR));
        }
        for (PartitionView.VcpuView c : v.vcpus()) {
            String where = p + "/vcpu " + c.vcpu();
            if (v.joinedVcpus().contains(c.vcpu()) && (!c.running() || !c.inCall().equals("H_JOIN"))) {
                out.add(new Violation("vcpu-state", where, "parked in H_JOIN but " + (c.running() ? "in '"
                        + c.inCall() + "'" : "stopped"), HYPERVISOR));
            }
            if (!c.running() && !c.inCall().isEmpty() && !c.inCall().equals(RtasService.STOP_SELF)) {
                out.add(new Violation("vcpu-state", where, "stopped but inside " + c.inCall(), HYPERVISOR));
            }
            if (v.suspended() && c.running() && !c.inCall().equals("H_JOIN")
                    && !c.inCall().equals(RtasService.SUSPEND_ME)) {
                out.add(new Violation("vcpu-state", where, "running outside H_JOIN and ibm,suspend-me while the "
                        + "partition is suspended" + (c.inCall().isEmpty() ? "" : " (in " + c.inCall() + ")"), HYPERVISOR));
            }
        }
        return out;
    }

    /** Window ids are unique per system across partitions. */
    public static List<Violation> acrossPartitions(List<PartitionView> views) {
        List<Violation> out = new ArrayList<>();
        Map<String, String> owner = new HashMap<>();
        for (PartitionView v : views) {
            for (PartitionView.WindowView w : v.windows()) {
                String key = v.system() + "/" + w.winId();
                String prev = owner.putIfAbsent(key, v.spec().name());
                if (prev != null) {
                    out.add(new Violation("window-id-shared", v.spec().name() + "/window " + w.winId(),
                            "also held by " + prev + " on " + v.system(), HYPERVISOR));
                }
            }
        }
        return out;
    }

    /** The guest's view against the hypervisor's, after quiescence. */
    public static List<Violation> guest(PartitionView v, GuestReport r) {
        List<Violation> out = new ArrayList<>();
        String p = v.spec().name();
        Map<Long, PartitionView.WindowView> hv = new HashMap<>();
        v.windows().forEach(w -> hv.put(w.winId(), w));
        Map<Long, GuestReport.Window> guestActive = new HashMap<>();
        Map<Long, GuestReport.Window> guestClosed = new HashMap<>();
        for (GuestReport.Window w : r.windows()) {
            (w.active() ? guestActive : guestClosed).put(w.winId(), w);
        }
        for (GuestReport.Window w : guestActive.values()) {
            PartitionView.WindowView h = hv.get(w.winId());
            if (h == null) {
                out.add(new Violation("guest-window-not-open", p + "/window " + w.winId(),
                        "the guest holds it as active (task " + w.task() + ") but the hypervisor has no such window",
                        GUEST));
            } else if (h.status() != Vas.HV_WIN_ACTIVE) {
                out.add(new Violation("guest-window-not-active", p + "/window " + w.winId(),
                        "active in the guest, hypervisor status " + h.status(), GUEST));
            } else if (h.pasteAddress() != w.pasteAddress()) {
                out.add(new Violation("paste-address-mismatch", p + "/window " + w.winId(), String.format(
                        "guest maps 0x%x, hypervisor 0x%x", w.pasteAddress(), h.pasteAddress()), GUEST));
            }
        }
        for (PartitionView.WindowView h : v.windows()) {
            if (!guestActive.containsKey(h.winId())) {
                GuestReport.Window closed = guestClosed.get(h.winId());
                out.add(new Violation("window-leak", p + "/window " + h.winId(), closed != null
                        ? "open in the hypervisor but closed in the guest (status 0x" + Integer.toHexString(closed.status()) + ")"
                        : "open in the hypervisor (owner " + h.ownerTask() + ") but no live guest window has it", GUEST));
            }
        }
        Map<Integer, PartitionView.CreditView> targets = new HashMap<>();
        v.credits().forEach(c -> targets.put(c.winType(), c));
        for (GuestReport.Credits c : r.credits()) {
            String loc = p + "/guest credits " + typeName(c.winType());
            if (c.windowsInProgress() != 0) {
                out.add(new Violation("open-in-progress", loc, c.windowsInProgress()
                        + " window opens still in progress after quiescence", GUEST));
            }
            if (c.windowsClosed() > c.windowsOpen()) {
                out.add(new Violation("closed-exceeds-open", loc, "nr_close_wins " + c.windowsClosed()
                        + " > nr_open_windows " + c.windowsOpen(), GUEST));
            }
            if (c.creditsUsed() != c.windowsOpen() + c.windowsInProgress()) {
                out.add(new Violation("credits-used-mismatch", loc, "nr_used_credits " + c.creditsUsed()
                        + " but " + c.windowsOpen() + " listed + " + c.windowsInProgress() + " in progress", GUEST));
            }
            long listed = r.windows().stream().filter(w -> w.winType() == c.winType()).count();
            if (listed != c.windowsOpen()) {
                out.add(new Violation("window-list-mismatch", loc, "nr_open_windows " + c.windowsOpen()
                        + " but " + listed + " windows listed", GUEST));
            }
            PartitionView.CreditView t = targets.get(c.winType());
            if (t != null && t.target() != c.creditsTotal()) {
                out.add(new Violation("credits-total-mismatch", loc, "guest nr_total_credits " + c.creditsTotal()
                        + ", hypervisor target_lpar_creds " + t.target(), GUEST));
            }
        }
        return out;
    }

    /**
     * The guest's device tree against the platform's, for the partition's current system, and the guest's CPU-to-node
     * map against that tree's associativity ({@link #cpuAffinity}).
     */
    public static List<Violation> deviceTree(PartitionView v, GuestReport r) {
        List<Violation> out = new ArrayList<>();
        if (v.deviceTree() != null) {
            out.addAll(cpuAffinity(v, r));
        }
        if (r.deviceTree() == null || v.deviceTree() == null) {
            return out;
        }
        for (DeviceTree.Difference d : r.deviceTree().diff(v.deviceTree())) {
            if (isOwnPhandleProperty(r.deviceTree(), d)) {
                continue;
            }
            out.add(new Violation("device-tree-stale", v.spec().name() + ":" + d.path()
                    + (d.property() != null ? " " + d.property() : ""), d.kind().replace("this tree", "the guest's tree")
                    .replace("other tree", "the platform's tree (" + v.system() + ")")
                    + (d.mine() != null || d.theirs() != null ? ": guest " + d.mine() + ", platform " + d.theirs() : ""),
                    DEVICE_TREE));
        }
        return out;
    }

    /**
     * {@code cpu-node-stale}: a guest whose topology era moves CPUs at run time ({@link GuestReport.Topology#reassignsCpus})
     * must, at quiescence, have every online thread on the node the platform's tree gives it. Threads the platform's
     * tree does not list (a core being removed) are not compared; an era that keeps its boot-time map by design (the
     * callback removed, v5.9+) is not held to the tree, and a guest that reports no map is not checked.
     */
    public static List<Violation> cpuAffinity(PartitionView v, GuestReport r) {
        List<Violation> out = new ArrayList<>();
        if (r.topology() == null || !r.topology().reassignsCpus()) {
            return out;
        }
        int depth = CpuNodes.depth(v.deviceTree());
        for (Map.Entry<Integer, Integer> e : new TreeMap<>(r.topology().cpuNodes()).entrySet()) {
            int platform = CpuNodes.nodeOf(v.deviceTree(), e.getKey(), depth);
            if (platform != Associativity.NO_NODE && platform != e.getValue()) {
                out.add(new Violation("cpu-node-stale", v.spec().name() + "/cpu " + e.getKey(), "the guest ("
                        + r.topology().policy() + ") has cpu " + e.getKey() + " on node " + e.getValue()
                        + ", the device tree's ibm,associativity on " + v.system() + " puts it on node " + platform,
                        DEVICE_TREE));
            }
        }
        return out;
    }

    /**
     * A node the guest attached from ibm,configure-connector (a DLPAR core, a PRRN-added node) keeps the
     * firmware's {@code ibm,phandle} property, as Linux does, while the platform models a phandle as the node's
     * own attribute (compared separately by {@link DeviceTree#diff}). Such a property, only in the guest's tree
     * and naming exactly the node's phandle, is the same fact in another form, not a stale tree.
     */
    static boolean isOwnPhandleProperty(DeviceTree guest, DeviceTree.Difference d) {
        if (d.property() == null || d.theirs() != null || !PHANDLE_PROPERTIES.contains(d.property())) {
            return false;
        }
        DeviceTree.Node n = guest.node(d.path());
        byte[] v = n == null ? null : n.property(d.property());
        return v != null && v.length == 4 && ByteBuffer.wrap(v).getInt() == n.phandle();
    }

    private static String typeName(int winType) {
        return winType == Vas.WIN_TYPE_QOS ? "qos" : "default";
    }
}
