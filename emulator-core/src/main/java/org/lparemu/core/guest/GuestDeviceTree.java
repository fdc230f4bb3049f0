package org.lparemu.core.guest;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.port.DeviceTree;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest kernel's own device tree: a copy of the tree firmware handed over at boot, changed only by the
 * guest (device-tree updates after migration and PRRN, DLPAR), plus the OF reconfig notifier chain.
 *
 * <p>{@link #treeLock} (the kernel's of_mutex / devtree_lock, "the device-tree update lock") guards the tree;
 * every change is one short critical section. Notifiers run after the lock is released, on the thread that made
 * the change, so the tree lock is never held while a notifier takes another lock (the VAS mutex, for one).
 * Whole update sequences are not serialised here: that is a {@link PrrnPolicy} decision.
 */
public final class GuestDeviceTree {
    private static final Logger LOG = LoggerFactory.getLogger(GuestDeviceTree.class);

    /** The OF reconfig actions the guest emits. */
    public enum ReconfigAction {
        ATTACH_NODE,
        DETACH_NODE,
        ADD_PROPERTY,
        UPDATE_PROPERTY,
        REMOVE_PROPERTY
    }

    /** An OF reconfig notifier ({@code of_reconfig_notifier_register}). */
    @FunctionalInterface
    public interface ReconfigNotifier {
        /**
         * Called after a change, without the tree lock. {@code properties} are the node's properties after an
         * attach or property change, before a detach; a read-only copy.
         */
        void onReconfig(ReconfigAction action, String path, Map<String, byte[]> properties);

        /**
         * The same call with the property a property action concerns ({@code of_reconfig_data.prop}; null for node
         * actions). The chain calls this one; by default it forgets the property.
         */
        default void onReconfig(ReconfigAction action, String path, String property, Map<String, byte[]> properties) {
            onReconfig(action, path, properties);
        }
    }

    private record Notification(ReconfigAction action, String path, String property, Map<String, byte[]> properties) {
        Notification(ReconfigAction action, String path, Map<String, byte[]> properties) {
            this(action, path, null, properties);
        }
    }

    /** Device-tree lock: guards {@link #tree}. */
    private final ReentrantLock treeLock = new ReentrantLock();
    @GuardedBy("treeLock")
    private final DeviceTree tree;
    private final CopyOnWriteArrayList<ReconfigNotifier> notifiers = new CopyOnWriteArrayList<>();

    /** Takes a private copy of {@code bootTree}. */
    public GuestDeviceTree(DeviceTree bootTree) {
        this.tree = Objects.requireNonNull(bootTree, "bootTree").copy();
    }

    public void addReconfigNotifier(ReconfigNotifier n) {
        notifiers.add(Objects.requireNonNull(n));
    }

    public void removeReconfigNotifier(ReconfigNotifier n) {
        notifiers.remove(n);
    }

    /** An independent copy of the current tree. */
    public DeviceTree snapshot() {
        return read(DeviceTree::copy);
    }

    /** Runs {@code f} on the tree under the lock; {@code f} must not keep references to nodes. */
    public <T> T read(Function<DeviceTree, T> f) {
        treeLock.lock();
        try {
            return f.apply(tree);
        } finally {
            treeLock.unlock();
        }
    }

    public long generation() {
        return read(DeviceTree::generation);
    }

    /** Path of the node with this phandle ({@code of_find_node_by_phandle}), or null. */
    public String pathOfPhandle(int phandle) {
        return read(t -> {
            DeviceTree.Node n = t.nodeByPhandle(phandle);
            return n == null ? null : n.path();
        });
    }

    /** Path of the node with this DRC index, or null. */
    public String pathOfDrcIndex(int drcIndex) {
        return read(t -> {
            DeviceTree.Node n = t.nodeByDrcIndex(drcIndex);
            return n == null ? null : n.path();
        });
    }

    /** A copy of a node's properties, or null when there is no such node. */
    public Map<String, byte[]> properties(String path) {
        return read(t -> {
            DeviceTree.Node n = t.node(path);
            return n == null ? null : copy(n.properties());
        });
    }

    /** A copy of one property's value, or null. */
    public byte[] property(String path, String name) {
        return read(t -> {
            DeviceTree.Node n = t.node(path);
            return n == null ? null : n.property(name);
        });
    }

    /** Direct children's paths. */
    public List<String> children(String path) {
        return read(t -> {
            List<String> out = new ArrayList<>();
            for (DeviceTree.Node n : t.children(path)) {
                out.add(n.path());
            }
            return out;
        });
    }

    /**
     * Sets a property ({@code of_update_property}, or {@code of_add_property} when new).
     *
     * @return false when the node no longer exists
     */
    public boolean setProperty(String path, String name, byte[] value) {
        Notification note;
        treeLock.lock();
        try {
            DeviceTree.Node n = tree.node(path);
            if (n == null) {
                return false;
            }
            boolean existed = n.properties().containsKey(name);
            tree.setProperty(path, name, value);
            note = new Notification(existed ? ReconfigAction.UPDATE_PROPERTY : ReconfigAction.ADD_PROPERTY, path, name,
                    copy(n.properties()));
        } finally {
            treeLock.unlock();
        }
        notifyAll(List.of(note));
        return true;
    }

    /**
     * Removes a property ({@code of_remove_property}).
     *
     * @return whether the node had it
     */
    public boolean removeProperty(String path, String name) {
        Notification note;
        treeLock.lock();
        try {
            DeviceTree.Node n = tree.node(path);
            if (n == null || !tree.deleteProperty(path, name)) {
                return false;
            }
            note = new Notification(ReconfigAction.REMOVE_PROPERTY, path, name, copy(n.properties()));
        } finally {
            treeLock.unlock();
        }
        notifyAll(List.of(note));
        return true;
    }

    /**
     * Attaches a configure-connector subtree under {@code parentPath} ({@code dlpar_attach_node}), parents
     * first, then notifies ATTACH_NODE for each new node.
     *
     * <p>A node's phandle comes from its {@code phandle}, {@code linux,phandle} or {@code ibm,phandle} property
     * (the order the kernel's attach looks in); a node with none gets the next free phandle, which the platform
     * cannot know, so it is logged. A node's DRC index comes from {@code ibm,my-drc-index}, else
     * {@code drcIndex} for the subtree's root.
     *
     * @return the attached paths, root first
     * @throws IllegalArgumentException when the parent is missing or a node or phandle already exists (nothing
     *                                  is attached then)
     */
    public List<String> attach(String parentPath, CcNode subtree, int drcIndex) {
        List<Notification> notes = new ArrayList<>();
        treeLock.lock();
        try {
            if (tree.node(parentPath) == null) {
                throw new IllegalArgumentException("no parent node " + parentPath);
            }
            List<String> added = new ArrayList<>();
            try {
                attachLocked(parentPath, subtree, drcIndex, added, notes);
            } catch (IllegalArgumentException e) {
                if (!added.isEmpty()) {
                    tree.removeSubtree(added.get(0));
                }
                throw e;
            }
        } finally {
            treeLock.unlock();
        }
        notifyAll(notes);
        List<String> paths = new ArrayList<>();
        for (Notification n : notes) {
            paths.add(n.path());
        }
        return paths;
    }

    @GuardedBy("treeLock")
    private void attachLocked(String parentPath, CcNode node, int drcIndex, List<String> added, List<Notification> notes) {
        String path = DeviceTree.childPath(parentPath, node.name());
        int phandle = cell(node, "phandle");
        if (phandle == 0) {
            phandle = cell(node, "linux,phandle");
        }
        if (phandle == 0) {
            phandle = cell(node, "ibm,phandle");
        }
        if (phandle == 0) {
            phandle = tree.maxPhandle() + 1;
            LOG.warn("node {} came without a phandle property; using guest-local phandle {}", path, phandle);
        }
        int drc = cell(node, "ibm,my-drc-index");
        if (drc == 0) {
            drc = drcIndex;
        }
        tree.addNode(path, phandle, drc);
        added.add(path);
        for (Map.Entry<String, byte[]> p : node.properties().entrySet()) {
            tree.setProperty(path, p.getKey(), p.getValue());
        }
        notes.add(new Notification(ReconfigAction.ATTACH_NODE, path, copy(node.properties())));
        for (CcNode c : node.children()) {
            attachLocked(path, c, 0, added, notes);
        }
    }

    /**
     * Detaches a node and its subtree ({@code dlpar_detach_node}), then notifies DETACH_NODE for each removed
     * node, children before parents as the kernel detaches them.
     *
     * @return the number of nodes removed (0 when the node did not exist)
     */
    public int detach(String path) {
        List<Notification> notes = new ArrayList<>();
        treeLock.lock();
        try {
            if (tree.node(path) == null) {
                return 0;
            }
            List<DeviceTree.Node> doomed = new ArrayList<>();
            for (DeviceTree.Node n : tree.nodes()) {
                if (n.path().equals(path) || n.path().startsWith(path + "/")) {
                    doomed.add(n);
                }
            }
            for (int i = doomed.size() - 1; i >= 0; i--) {
                DeviceTree.Node n = doomed.get(i);
                notes.add(new Notification(ReconfigAction.DETACH_NODE, n.path(), copy(n.properties())));
            }
            tree.removeSubtree(path);
        } finally {
            treeLock.unlock();
        }
        notifyAll(notes);
        return notes.size();
    }

    private void notifyAll(List<Notification> notes) {
        for (Notification n : notes) {
            for (ReconfigNotifier r : notifiers) {
                try {
                    r.onReconfig(n.action(), n.path(), n.property(), n.properties());
                } catch (RuntimeException e) {
                    // A notifier's failure must not undo or hide the tree change (the kernel ignores the chain's
                    // result on attach and detach).
                    LOG.error("reconfig notifier failed on {} {}", n.action(), n.path(), e);
                }
            }
        }
    }

    private static int cell(CcNode node, String name) {
        byte[] v = node.properties().get(name);
        if (v == null || v.length < 4) {
            return 0;
        }
        return ((v[0] & 0xFF) << 24) | ((v[1] & 0xFF) << 16) | ((v[2] & 0xFF) << 8) | (v[3] & 0xFF);
    }

    private static Map<String, byte[]> copy(Map<String, byte[]> props) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        props.forEach((k, v) -> m.put(k, v.clone()));
        return Collections.unmodifiableMap(m);
    }
}
