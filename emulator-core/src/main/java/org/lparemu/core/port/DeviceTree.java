package org.lparemu.core.port;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A device tree: nodes addressed by path and by phandle, each with named byte-string properties, and a
 * generation that grows on every change.
 *
 * <p>The platform keeps one per partition (authoritative, per managed system) and the guest kernel keeps its
 * own copy; after quiescence the two must be equal, which {@link #diff(DeviceTree)} checks.
 *
 * <p>Not thread-safe: the owner guards it (the partition lock on the platform side, the device-tree update
 * lock on the guest side). {@link #copy()} gives an independent snapshot.
 */
public final class DeviceTree {

    /** One node. Mutable only through its tree. */
    public static final class Node {
        private final String path;
        private final int phandle;
        private final int drcIndex;
        private final TreeMap<String, byte[]> properties = new TreeMap<>();

        Node(String path, int phandle, int drcIndex) {
            this.path = path;
            this.phandle = phandle;
            this.drcIndex = drcIndex;
        }

        public String path() {
            return path;
        }

        public int phandle() {
            return phandle;
        }

        public int drcIndex() {
            return drcIndex;
        }

        /** Name after the last '/' ("PowerPC,POWER10@0"); "/" for the root. */
        public String name() {
            return path.equals("/") ? "/" : path.substring(path.lastIndexOf('/') + 1);
        }

        /** Read-only view of the properties, by name. */
        public NavigableMap<String, byte[]> properties() {
            return Collections.unmodifiableNavigableMap(properties);
        }

        public byte[] property(String name) {
            byte[] v = properties.get(name);
            return v == null ? null : v.clone();
        }
    }

    /** One difference between two trees, located by node path and property (null for a whole node). */
    public record Difference(String path, String property, String kind, String mine, String theirs) {
        @Override
        public String toString() {
            return path + (property != null ? " " + property : "") + ": " + kind
                    + (mine != null || theirs != null ? " (this=" + mine + ", other=" + theirs + ")" : "");
        }
    }

    private final TreeMap<String, Node> byPath = new TreeMap<>(DeviceTree::comparePaths);
    private final HashMap<Integer, Node> byPhandle = new HashMap<>();
    private long generation;

    /** Properties through which a node can carry its own phandle (the order the kernel's attach looks in). */
    public static final List<String> PHANDLE_PROPERTIES = List.of("phandle", "linux,phandle", "ibm,phandle");

    public DeviceTree() {
        addNode("/", 1, 0);
        generation = 0;
    }

    /** Parents sort before children, siblings by name. */
    private static int comparePaths(String a, String b) {
        return a.compareTo(b);
    }

    public long generation() {
        return generation;
    }

    /** Sets the generation (used when a tree is rebuilt from a snapshot). */
    public void setGeneration(long generation) {
        this.generation = generation;
    }

    public int size() {
        return byPath.size();
    }

    public Node node(String path) {
        return byPath.get(path);
    }

    public Node nodeByPhandle(int phandle) {
        return byPhandle.get(phandle);
    }

    public Node nodeByDrcIndex(int drcIndex) {
        if (drcIndex == 0) {
            return null;
        }
        for (Node n : byPath.values()) {
            if (n.drcIndex == drcIndex) {
                return n;
            }
        }
        return null;
    }

    /** All nodes, parents before children. */
    public Collection<Node> nodes() {
        return Collections.unmodifiableCollection(byPath.values());
    }

    /** Direct children of a node, by path. */
    public List<Node> children(String path) {
        String prefix = path.equals("/") ? "/" : path + "/";
        List<Node> out = new ArrayList<>();
        for (Node n : byPath.tailMap(prefix, false).values()) {
            if (!n.path.startsWith(prefix)) {
                break;
            }
            if (n.path.indexOf('/', prefix.length()) < 0) {
                out.add(n);
            }
        }
        return out;
    }

    public static String parentPath(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    public static String childPath(String parent, String name) {
        return parent.equals("/") ? "/" + name : parent + "/" + name;
    }

    /** Largest phandle in use (to hand out new ones). */
    public int maxPhandle() {
        int max = 0;
        for (int p : byPhandle.keySet()) {
            max = Math.max(max, p);
        }
        return max;
    }

    /**
     * Adds a node. Its parent must exist, and neither path nor phandle may be taken.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public Node addNode(String path, int phandle, int drcIndex) {
        validatePath(path);
        if (byPath.containsKey(path)) {
            throw new IllegalArgumentException("node exists: " + path);
        }
        if (!path.equals("/") && !byPath.containsKey(parentPath(path))) {
            throw new IllegalArgumentException("no parent for " + path);
        }
        if (phandle == 0 || byPhandle.containsKey(phandle)) {
            throw new IllegalArgumentException("phandle " + phandle + " invalid or taken (adding " + path + ")");
        }
        Node n = new Node(path, phandle, drcIndex);
        byPath.put(path, n);
        byPhandle.put(phandle, n);
        generation++;
        return n;
    }

    /** Removes a node and its subtree; returns the removed nodes (parents first), empty if absent. */
    public List<Node> removeSubtree(String path) {
        if (path.equals("/")) {
            throw new IllegalArgumentException("cannot remove the root");
        }
        List<Node> removed = new ArrayList<>();
        Node n = byPath.get(path);
        if (n == null) {
            return removed;
        }
        removed.add(n);
        String prefix = path + "/";
        for (Node c : byPath.tailMap(prefix, true).values()) {
            if (!c.path.startsWith(prefix)) {
                break;
            }
            removed.add(c);
        }
        for (Node r : removed) {
            byPath.remove(r.path);
            byPhandle.remove(r.phandle);
        }
        generation++;
        return removed;
    }

    /** Sets (adds or replaces) a property; no generation change when the value is the same. */
    public void setProperty(String path, String name, byte[] value) {
        Node n = require(path);
        byte[] old = n.properties.get(name);
        if (old != null && Arrays.equals(old, value)) {
            return;
        }
        n.properties.put(name, value.clone());
        generation++;
    }

    /** Deletes a property; returns whether it existed. */
    public boolean deleteProperty(String path, String name) {
        Node n = require(path);
        boolean existed = n.properties.remove(name) != null;
        if (existed) {
            generation++;
        }
        return existed;
    }

    private Node require(String path) {
        Node n = byPath.get(path);
        if (n == null) {
            throw new IllegalArgumentException("no node " + path);
        }
        return n;
    }

    private static void validatePath(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/") || (path.length() > 1 && path.endsWith("/")) || path.contains("//")) {
            throw new IllegalArgumentException("bad node path: '" + path + "'");
        }
    }

    /**
     * An independent copy with the same generation. Property values are shared, not cloned: a tree never writes
     * into a value it holds (a set stores a clone of its argument, {@link Node#property} hands out a clone).
     */
    public DeviceTree copy() {
        DeviceTree t = new DeviceTree();
        t.byPath.clear();
        t.byPhandle.clear();
        for (Node n : byPath.values()) {
            Node c = new Node(n.path, n.phandle, n.drcIndex);
            for (Map.Entry<String, byte[]> p : n.properties.entrySet()) {
                c.properties.put(p.getKey(), p.getValue());
            }
            t.byPath.put(c.path, c);
            t.byPhandle.put(c.phandle, c);
        }
        t.generation = generation;
        return t;
    }

    /**
     * Every difference between this tree and {@code other}: nodes present on one side only (with phandle),
     * phandle mismatches, and properties missing or different. Generations are not compared. A phandle
     * property ({@link #PHANDLE_PROPERTIES}) present on one side only is no difference when it holds the node's
     * phandle: it is how ibm,configure-connector hands the OS the phandle, which is compared on its own.
     */
    public List<Difference> diff(DeviceTree other) {
        List<Difference> out = new ArrayList<>();
        for (Node n : byPath.values()) {
            Node o = other.byPath.get(n.path);
            if (o == null) {
                out.add(new Difference(n.path, null, "node only in this tree", "phandle " + n.phandle, null));
                continue;
            }
            if (o.phandle != n.phandle) {
                out.add(new Difference(n.path, null, "phandle differs", Integer.toString(n.phandle),
                        Integer.toString(o.phandle)));
            }
            for (Map.Entry<String, byte[]> p : n.properties.entrySet()) {
                byte[] ov = o.properties.get(p.getKey());
                if (ov == null) {
                    if (isOwnPhandle(n, p.getKey(), p.getValue())) {
                        continue;
                    }
                    out.add(new Difference(n.path, p.getKey(), "property only in this tree", render(p.getValue()), null));
                } else if (!Arrays.equals(ov, p.getValue())) {
                    out.add(new Difference(n.path, p.getKey(), "value differs", render(p.getValue()), render(ov)));
                }
            }
            for (Map.Entry<String, byte[]> p : o.properties.entrySet()) {
                if (!n.properties.containsKey(p.getKey()) && !isOwnPhandle(o, p.getKey(), p.getValue())) {
                    out.add(new Difference(n.path, p.getKey(), "property only in other tree", null, render(p.getValue())));
                }
            }
        }
        for (Node o : other.byPath.values()) {
            if (!byPath.containsKey(o.path)) {
                out.add(new Difference(o.path, null, "node only in other tree", null, "phandle " + o.phandle));
            }
        }
        return out;
    }

    private static boolean isOwnPhandle(Node n, String property, byte[] value) {
        return PHANDLE_PROPERTIES.contains(property) && value.length == 4
                && ByteBuffer.wrap(value).getInt() == n.phandle;
    }

    /** Human-readable rendering of a property value: a string when printable, else 32-bit cells or hex. */
    public static String render(byte[] v) {
        if (v == null) {
            return "null";
        }
        if (v.length > 1 && v[v.length - 1] == 0) {
            boolean printable = true;
            for (int i = 0; i < v.length - 1; i++) {
                if (v[i] < 0x20 || v[i] > 0x7e) {
                    printable = false;
                    break;
                }
            }
            if (printable) {
                return '"' + new String(v, 0, v.length - 1, StandardCharsets.US_ASCII) + '"';
            }
        }
        StringBuilder sb = new StringBuilder("<");
        if (v.length % 4 == 0) {
            for (int i = 0; i < v.length; i += 4) {
                int cell = ((v[i] & 0xFF) << 24) | ((v[i + 1] & 0xFF) << 16) | ((v[i + 2] & 0xFF) << 8) | (v[i + 3] & 0xFF);
                sb.append(i == 0 ? "" : " ").append("0x").append(Integer.toHexString(cell));
            }
        } else {
            for (byte b : v) {
                sb.append(String.format("%02x", b & 0xFF));
            }
        }
        return sb.append('>').toString();
    }

    /** A NUL-terminated string property value. */
    public static byte[] string(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return Arrays.copyOf(b, b.length + 1);
    }

    /** Big-endian 32-bit cells. */
    public static byte[] cells(int... cells) {
        byte[] b = new byte[cells.length * 4];
        for (int i = 0; i < cells.length; i++) {
            b[4 * i] = (byte) (cells[i] >>> 24);
            b[4 * i + 1] = (byte) (cells[i] >>> 16);
            b[4 * i + 2] = (byte) (cells[i] >>> 8);
            b[4 * i + 3] = (byte) cells[i];
        }
        return b;
    }
}
