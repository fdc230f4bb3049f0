package org.lparemu.core.hypervisor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdateNodesWorkArea.Entry;
import org.lparemu.core.port.DeviceTree;

/**
 * The ibm,update-nodes records of one device-tree change (a migration or a PRRN scope): which nodes were
 * deleted, updated or added, and which properties an updated node lost. The values themselves are not kept:
 * ibm,update-properties and ibm,configure-connector read them from the partition's current tree, so a fresh
 * fetch on another system returns that system's values.
 *
 * <p>Immutable.
 */
final class TreeUpdate {
    /**
     * The entries, in the order the OS gets them: for DELETE and UPDATE the node's phandle; for ADD the
     * parent's phandle and the new node's DRC index (its subtree comes from ibm,configure-connector).
     */
    final List<Entry> records;
    /** Properties each updated node lost, by phandle. */
    final Map<Integer, Set<String>> deletedProperties;

    static final TreeUpdate EMPTY = new TreeUpdate(List.of(), Map.of());

    private TreeUpdate(List<Entry> records, Map<Integer, Set<String>> deletedProperties) {
        this.records = List.copyOf(records);
        this.deletedProperties = Map.copyOf(deletedProperties);
    }

    /** The phandles of the UPDATE records (the nodes ibm,update-properties may be asked about). */
    Set<Integer> updatedPhandles() {
        Set<Integer> out = new TreeSet<>();
        for (Entry r : records) {
            if (r.action() == UpdateNodesWorkArea.Action.UPDATE) {
                out.add(r.phandle());
            }
        }
        return out;
    }

    /**
     * The records that turn {@code from} into {@code to}: deletes (children before parents, so each is still
     * found when the OS processes it), updates, then adds of the topmost new nodes (parents before
     * children; a new node under a new node arrives inside its parent's configure-connector subtree).
     */
    static TreeUpdate between(DeviceTree from, DeviceTree to) {
        List<Entry> deletes = new ArrayList<>();
        List<Entry> updates = new ArrayList<>();
        List<Entry> adds = new ArrayList<>();
        Map<Integer, Set<String>> lost = new LinkedHashMap<>();
        List<DeviceTree.Node> gone = new ArrayList<>();
        for (DeviceTree.Node n : from.nodes()) {
            DeviceTree.Node m = to.node(n.path());
            if (m == null || m.phandle() != n.phandle()) {
                gone.add(n);
                continue;
            }
            Set<String> deleted = new TreeSet<>();
            boolean changed = false;
            for (Map.Entry<String, byte[]> p : n.properties().entrySet()) {
                byte[] v = m.properties().get(p.getKey());
                if (v == null) {
                    deleted.add(p.getKey());
                    changed = true;
                } else if (!Arrays.equals(v, p.getValue())) {
                    changed = true;
                }
            }
            for (String name : m.properties().keySet()) {
                if (!n.properties().containsKey(name)) {
                    changed = true;
                }
            }
            if (changed) {
                updates.add(Entry.update(n.phandle()));
                if (!deleted.isEmpty()) {
                    lost.put(n.phandle(), deleted);
                }
            }
        }
        gone.sort(Comparator.comparing((DeviceTree.Node n) -> depth(n.path())).reversed()
                .thenComparing(DeviceTree.Node::path));
        for (DeviceTree.Node n : gone) {
            deletes.add(Entry.delete(n.phandle()));
        }
        for (DeviceTree.Node m : to.nodes()) {
            DeviceTree.Node n = from.node(m.path());
            if (n != null && n.phandle() == m.phandle()) {
                continue;
            }
            DeviceTree.Node parentInFrom = from.node(DeviceTree.parentPath(m.path()));
            DeviceTree.Node parentInTo = to.node(DeviceTree.parentPath(m.path()));
            if (parentInFrom != null && parentInTo != null && parentInFrom.phandle() == parentInTo.phandle()) {
                adds.add(Entry.add(parentInTo.phandle(), m.drcIndex()));
            }
        }
        List<Entry> all = new ArrayList<>(deletes);
        all.addAll(updates);
        all.addAll(adds);
        return new TreeUpdate(all, lost);
    }

    private static int depth(String path) {
        int d = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/') {
                d++;
            }
        }
        return d;
    }

    @Override
    public String toString() {
        return records.size() + " record(s)";
    }
}
