package org.lparemu.core.guest;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.Errno;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea.Descriptor;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.RtasResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pseries_devicetree_update(scope)} and its helpers (mobility.c, dlpar.c): asks firmware which nodes
 * changed ({@code ibm,update-nodes}), then removes deleted nodes, fetches updated nodes' properties
 * ({@code ibm,update-properties}) and fetches added nodes ({@code ibm,configure-connector}), applying everything
 * to the {@link GuestDeviceTree}. Scope 1 is a migration; a PRRN passes the negative of its event scope.
 *
 * <p>Holds no lock of its own: each tree change is atomic in {@link GuestDeviceTree}, and whether whole updates
 * may overlap is decided by the caller ({@link PrrnPolicy}). Safe to call from several threads at once.
 *
 * <p>One deliberate difference: the work area is decoded record by record ({@link UpdateNodesWorkArea}), so an
 * ADD entry under an unknown parent is skipped whole. The kernel skips it before reading the entry's DRC-index
 * word and then misreads the rest of the record; papr-notes 6.3 asks the platform never to send one.
 */
public final class DeviceTreeUpdate {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceTreeUpdate.class);

    /** Fake guest-physical address of the RTAS work area (rtas_data_buf): nonzero, 4 KiB aligned. */
    public static final long WORK_AREA_PA = 0x10002000L;
    /** The scheduling point before a fetched property value is applied ({@link Machine#breakAt} names it). */
    public static final String UPDATE_DT_PROPERTY = "update_dt_property";
    /** device_type of the nodes firmware always deletes and re-adds on migration (ignored since 2021). */
    static final String PLATFORM_FACILITIES = "ibm,platform-facilities";

    private final KernelCalls calls;
    private final GuestDeviceTree tree;

    private final AtomicLong nodesDeleted = new AtomicLong();
    private final AtomicLong nodesUpdated = new AtomicLong();
    private final AtomicLong nodesAdded = new AtomicLong();
    private final AtomicLong propertiesChanged = new AtomicLong();
    private final AtomicLong unknownPhandles = new AtomicLong();
    /** Updates running now: while one runs, the guest's tree and CPU map may legitimately lag the platform's. */
    private final AtomicInteger inFlight = new AtomicInteger();

    public DeviceTreeUpdate(KernelCalls calls, GuestDeviceTree tree) {
        this.calls = Objects.requireNonNull(calls, "calls");
        this.tree = Objects.requireNonNull(tree, "tree");
    }

    public GuestDeviceTree tree() {
        return tree;
    }

    public KernelCalls calls() {
        return calls;
    }

    /**
     * {@code pseries_devicetree_update}: calls {@code ibm,update-nodes(workArea, scope)} while it answers 1,
     * passing back the work area it returned, and applies each call's records in order. Unknown phandles are
     * logged and skipped; a failing node update does not stop the others (as in the kernel).
     *
     * @return 0; the RTAS status of an {@code ibm,update-nodes} call that was neither 0 nor 1; or -EIO when the
     *         work area could not be parsed
     */
    public int pseriesDevicetreeUpdate(int scope) {
        inFlight.incrementAndGet();
        try {
            return calls.machine().onCpu(() -> {
                String kind = scope == RtasService.MIGRATION_SCOPE ? "[migration]" : "[prrn]";
                calls.tracepoint("dt_update_begin" + kind, "scope " + scope);
                int rc = devicetreeUpdate(scope);
                calls.tracepoint("dt_update_end" + kind, "scope " + scope + " rc " + rc);
                return rc;
            });
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Device-tree updates running now. */
    public int inFlight() {
        return inFlight.get();
    }

    /** A guest tracepoint on this update's port (for the PRRN worker, which has no port of its own). */
    void tracepoint(String name, String detail) {
        calls.tracepoint(name, detail);
    }

    private int devicetreeUpdate(int scope) {
        byte[] workArea = new byte[UpdateNodesWorkArea.SIZE];
        int rc;
        do {
            RtasResult r = calls.rtas(RtasService.UPDATE_NODES, new long[] {WORK_AREA_PA, scope}, workArea);
            rc = r.status();
            if (rc != RtasStatus.SUCCESS && rc != RtasStatus.CALL_AGAIN) {
                LOG.warn("ibm,update-nodes(scope {}) failed: {}", scope, RtasStatus.name(rc));
                break;
            }
            workArea = sized(r.workArea(), workArea);
            List<UpdateNodesWorkArea.Entry> entries;
            try {
                entries = UpdateNodesWorkArea.decode(workArea);
            } catch (IllegalArgumentException e) {
                LOG.error("ibm,update-nodes returned a malformed work area: {}", e.getMessage());
                return Errno.EIO.negative();
            }
            for (UpdateNodesWorkArea.Entry e : entries) {
                String path = tree.pathOfPhandle(e.phandle());
                if (path == null) {
                    unknownPhandles.incrementAndGet();
                    LOG.warn("Failed lookup: phandle 0x{} for action {}", Integer.toHexString(e.phandle()), e.action());
                    continue;
                }
                switch (e.action()) {
                    case DELETE -> deleteDtNode(path);
                    case UPDATE -> updateDtNode(path, e.phandle(), scope);
                    case ADD -> addDtNode(path, e.drcIndex());
                }
            }
        } while (rc == RtasStatus.CALL_AGAIN);
        return rc;
    }

    /**
     * {@code delete_dt_node}: detaches the node and its subtree, except in the platform-facilities hierarchy,
     * which firmware always deletes and re-adds with the same phandles and whose drivers cannot cope (ignored
     * since 2021).
     */
    int deleteDtNode(String path) {
        if (isPlatformFacilities(path) || (!path.equals("/") && isPlatformFacilities(DeviceTree.parentPath(path)))) {
            LOG.info("ignoring remove operation for {}", path);
            return 0;
        }
        int n = tree.detach(path);
        nodesDeleted.addAndGet(n);
        return 0;
    }

    /**
     * {@code update_dt_node}: calls {@code ibm,update-properties(workArea, scope)} for one node while it answers
     * 1 and applies the descriptors: the leading empty-name descriptor (the node's path) is skipped, name-only
     * does nothing, 0x80000000 deletes, and a partial value accumulates across calls until its last piece.
     *
     * @return 0, or the RTAS status that stopped it
     */
    int updateDtNode(String path, int phandle, int scope) {
        byte[] workArea = UpdatePropertiesWorkArea.initial(phandle);
        String pendingName = null;
        ByteArrayOutputStream pending = null;
        int rc;
        do {
            RtasResult r = calls.rtas(RtasService.UPDATE_PROPERTIES, new long[] {WORK_AREA_PA, scope}, workArea);
            rc = r.status();
            if (rc < 0) {
                LOG.warn("ibm,update-properties({}) failed: {}", path, RtasStatus.name(rc));
                break;
            }
            workArea = sized(r.workArea(), workArea);
            UpdatePropertiesWorkArea.Decoded d;
            try {
                d = UpdatePropertiesWorkArea.decode(workArea);
            } catch (IllegalArgumentException e) {
                LOG.error("ibm,update-properties({}) returned a malformed work area: {}", path, e.getMessage());
                return Errno.EIO.negative();
            }
            List<Descriptor> descriptors = d.descriptors();
            int first = 0;
            if (!descriptors.isEmpty() && descriptors.get(0).name().isEmpty()) {
                first = 1;
            }
            for (int i = first; i < descriptors.size(); i++) {
                Descriptor p = descriptors.get(i);
                if (p.isNameOnly()) {
                    continue;
                }
                if (p.isDelete()) {
                    if (tree.removeProperty(path, p.name())) {
                        propertiesChanged.incrementAndGet();
                    }
                    pendingName = null;
                    pending = null;
                    continue;
                }
                // update_dt_property: a partial value starts or extends the pending one; a full value completes
                // it (or stands alone). The kernel appends to the pending value whatever name the piece carries.
                if (pending == null) {
                    pendingName = p.name();
                    pending = new ByteArrayOutputStream();
                } else if (!pendingName.equals(p.name())) {
                    LOG.warn("{}: continuation of property {} arrived as {}", path, pendingName, p.name());
                }
                pending.writeBytes(p.value());
                if (p.isFull()) {
                    // update_dt_property allocates the new property (GFP_KERNEL): the task may sleep here.
                    calls.machine().point(UPDATE_DT_PROPERTY);
                    if (tree.setProperty(path, pendingName, pending.toByteArray())) {
                        propertiesChanged.incrementAndGet();
                    } else {
                        LOG.warn("node {} disappeared while its properties were being updated", path);
                    }
                    pendingName = null;
                    pending = null;
                }
            }
        } while (rc == RtasStatus.CALL_AGAIN);
        nodesUpdated.incrementAndGet();
        return rc;
    }

    /**
     * {@code add_dt_node}: fetches the node by DRC index and attaches it under the parent, unless it is a
     * platform-facilities node (the counterpart of {@link #deleteDtNode}).
     *
     * @return 0, or -ENOENT when configure-connector failed, or -EINVAL when it cannot be attached
     */
    int addDtNode(String parentPath, int drcIndex) {
        CcNode node = dlparConfigureConnector(drcIndex);
        if (node == null) {
            return Errno.ENOENT.negative();
        }
        byte[] type = nodeType(node);
        if (type != null && PLATFORM_FACILITIES.equals(asString(type))) {
            LOG.info("ignoring add operation for {}/{}", parentPath, node.name());
            return 0;
        }
        try {
            List<String> added = tree.attach(parentPath, node, drcIndex);
            nodesAdded.addAndGet(added.size());
            return 0;
        } catch (IllegalArgumentException e) {
            LOG.error("cannot attach node {} under {}: {}", node.name(), parentPath, e.getMessage());
            return Errno.EINVAL.negative();
        }
    }

    /**
     * {@code dlpar_configure_connector}: calls {@code ibm,configure-connector} with the DRC index until it
     * answers COMPLETE, rebuilding the subtree from the steps. A busy (-2) or extended-delay (990x) answer is
     * consumed by {@link KernelCalls#rtasBusyDelay} and the call repeated with the work area as the firmware left
     * it, as the kernel has done since its configure-connector loop went through {@code rtas_busy_delay} (older
     * kernels repeated -2 at once and treated 990x as an error).
     *
     * @return the subtree, or null on any other RTAS error (MORE_MEMORY included) or a malformed sequence
     */
    public CcNode dlparConfigureConnector(int drcIndex) {
        byte[] workArea = ConfigureConnectorWorkArea.initial(drcIndex);
        ConfigureConnectorWorkArea.Assembler asm = new ConfigureConnectorWorkArea.Assembler();
        while (true) {
            RtasResult r;
            do {
                r = calls.rtas(RtasService.CONFIGURE_CONNECTOR, new long[] {WORK_AREA_PA, 0}, workArea);
                workArea = sized(r.workArea(), workArea);
            } while (calls.rtasBusyDelay(r.status()));
            int status = r.status();
            if (status < RtasStatus.CC_COMPLETE || status > RtasStatus.CC_PREV_PARENT) {
                LOG.error("Unexpected Error ({}) returned from configure-connector (drc 0x{})", status,
                        Integer.toHexString(drcIndex));
                return null;
            }
            try {
                if (asm.accept(ConfigureConnectorWorkArea.decodeStep(status, workArea))) {
                    return asm.result();
                }
            } catch (IllegalArgumentException | IllegalStateException e) {
                LOG.error("configure-connector (drc 0x{}) returned a bad step: {}", Integer.toHexString(drcIndex), e.getMessage());
                return null;
            }
        }
    }

    private boolean isPlatformFacilities(String path) {
        if (path == null) {
            return false;
        }
        byte[] t = tree.property(path, "device_type");
        return t != null && PLATFORM_FACILITIES.equals(asString(t));
    }

    private static byte[] nodeType(CcNode node) {
        Map<String, byte[]> p = node.properties();
        return p.get("device_type");
    }

    private static String asString(byte[] v) {
        int n = v.length;
        while (n > 0 && v[n - 1] == 0) {
            n--;
        }
        return new String(v, 0, n, StandardCharsets.US_ASCII);
    }

    /** The work area the call returned, or the one passed in when the port returned none. */
    private static byte[] sized(byte[] returned, byte[] passed) {
        if (returned.length == passed.length) {
            return returned.clone();
        }
        if (returned.length == 0) {
            return passed;
        }
        byte[] b = new byte[passed.length];
        System.arraycopy(returned, 0, b, 0, Math.min(returned.length, b.length));
        return b;
    }

    public long nodesDeleted() {
        return nodesDeleted.get();
    }

    public long nodesUpdated() {
        return nodesUpdated.get();
    }

    public long nodesAdded() {
        return nodesAdded.get();
    }

    public long propertiesChanged() {
        return propertiesChanged.get();
    }

    public long unknownPhandles() {
        return unknownPhandles.get();
    }
}
