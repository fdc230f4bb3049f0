package org.lparemu.core.papr;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The 4 KiB work area of RTAS {@code ibm,configure-connector}, which hands the OS a newly added node's subtree
 * (by DRC index) one step per call: the OS calls again with the work area it got back until the status is
 * {@link RtasStatus#CC_COMPLETE}.
 *
 * <p>Layout, big-endian words:
 * <pre>
 *   0    drc_index     the connector being configured (written by the OS before the first call)
 *   4    state         firmware continuation, 0 on the first call, passed back unchanged
 *   8    name_offset   offset (from the start of the work area) of the NUL-terminated node or property name
 *   12   prop_length   length of the property value
 *   16   prop_offset   offset of the property value
 *   20.. strings and values, located only through the offsets
 * </pre>
 * What a status means:
 * <ul>
 *   <li>{@link RtasStatus#CC_NEXT_CHILD}: a new node, child of the current one (the first step names the
 *       configured node itself); it becomes the current node;</li>
 *   <li>{@link RtasStatus#CC_NEXT_SIBLING}: a new node, sibling of the current one; it becomes current;</li>
 *   <li>{@link RtasStatus#CC_NEXT_PROPERTY}: a property of the current node;</li>
 *   <li>{@link RtasStatus#CC_PREV_PARENT}: the current node is finished, its parent becomes current;</li>
 *   <li>{@link RtasStatus#CC_COMPLETE}: the subtree is complete.</li>
 * </ul>
 * {@link #steps(CcNode)} turns a subtree into that sequence (platform side) and {@link Assembler} rebuilds the
 * subtree from it (guest side).
 */
public final class ConfigureConnectorWorkArea {

    public static final int SIZE = RtasService.WORK_AREA_SIZE;
    public static final int DRC_INDEX_OFFSET = 0;
    public static final int STATE_OFFSET = 4;
    public static final int NAME_OFFSET_OFFSET = 8;
    public static final int PROP_LENGTH_OFFSET = 12;
    public static final int PROP_OFFSET_OFFSET = 16;
    /** Where {@link #encodeStep} places the name; the value follows it, 4-byte aligned. */
    public static final int DATA_OFFSET = 20;

    /** One step of the sequence. {@code name} is null for PREV_PARENT and COMPLETE; {@code value} only for properties. */
    public record Step(int status, String name, byte[] value) {
        public Step {
            switch (status) {
                case RtasStatus.CC_NEXT_CHILD, RtasStatus.CC_NEXT_SIBLING -> {
                    requireName(name);
                    if (value != null) {
                        throw new IllegalArgumentException("a node step carries no value");
                    }
                }
                case RtasStatus.CC_NEXT_PROPERTY -> {
                    requireName(name);
                    value = value == null ? new byte[0] : value.clone();
                }
                case RtasStatus.CC_PREV_PARENT, RtasStatus.CC_COMPLETE -> {
                    if (name != null || value != null) {
                        throw new IllegalArgumentException("status " + status + " carries no name or value");
                    }
                }
                default -> throw new IllegalArgumentException("not an ibm,configure-connector step status: " + status);
            }
        }

        public static Step child(String name) {
            return new Step(RtasStatus.CC_NEXT_CHILD, name, null);
        }

        public static Step sibling(String name) {
            return new Step(RtasStatus.CC_NEXT_SIBLING, name, null);
        }

        public static Step property(String name, byte[] value) {
            return new Step(RtasStatus.CC_NEXT_PROPERTY, name, value);
        }

        public static Step prevParent() {
            return new Step(RtasStatus.CC_PREV_PARENT, null, null);
        }

        public static Step complete() {
            return new Step(RtasStatus.CC_COMPLETE, null, null);
        }

        @Override
        public byte[] value() {
            return value == null ? null : value.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Step s && s.status == status && Objects.equals(s.name, name) && Arrays.equals(s.value, value);
        }

        @Override
        public int hashCode() {
            return (status * 31 + Objects.hashCode(name)) * 31 + Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return switch (status) {
                case RtasStatus.CC_NEXT_CHILD -> "child " + name;
                case RtasStatus.CC_NEXT_SIBLING -> "sibling " + name;
                case RtasStatus.CC_NEXT_PROPERTY -> "property " + name + " (" + value.length + "B)";
                case RtasStatus.CC_PREV_PARENT -> "prev-parent";
                default -> "complete";
            };
        }

        private static void requireName(String name) {
            if (name == null || name.isEmpty() || name.indexOf('\0') >= 0 || name.indexOf('/') >= 0) {
                throw new IllegalArgumentException("bad node or property name: '" + name + "'");
            }
        }
    }

    /**
     * A subtree as configure-connector describes it: node name (the last path component, e.g.
     * {@code PowerPC,POWER10@8}), properties in order, children in order. Immutable.
     */
    public record CcNode(String name, Map<String, byte[]> properties, List<CcNode> children) {
        public CcNode {
            Objects.requireNonNull(name, "name");
            LinkedHashMap<String, byte[]> p = new LinkedHashMap<>();
            properties.forEach((k, v) -> p.put(k, v.clone()));
            properties = Collections.unmodifiableMap(p);
            children = List.copyOf(children);
        }

        /** A property value (a copy), or null. */
        public byte[] property(String name) {
            byte[] v = properties.get(name);
            return v == null ? null : v.clone();
        }

        /** Deep equality: names, property names and bytes (in any order), children in order. */
        @Override
        public boolean equals(Object o) {
            if (!(o instanceof CcNode n) || !n.name.equals(name) || !n.properties.keySet().equals(properties.keySet())) {
                return false;
            }
            for (Map.Entry<String, byte[]> e : properties.entrySet()) {
                if (!Arrays.equals(e.getValue(), n.properties.get(e.getKey()))) {
                    return false;
                }
            }
            return n.children.equals(children);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + children.hashCode();
        }

        /** Nodes in this subtree, this one included. */
        public int size() {
            int n = 1;
            for (CcNode c : children) {
                n += c.size();
            }
            return n;
        }
    }

    private ConfigureConnectorWorkArea() {
    }

    /** The work area for the first call: drc index set, state 0, everything else zero. */
    public static byte[] initial(int drcIndex) {
        byte[] wa = new byte[SIZE];
        Be.putInt(wa, DRC_INDEX_OFFSET, drcIndex);
        return wa;
    }

    public static int drcIndex(byte[] wa) {
        check(wa);
        return Be.getInt(wa, DRC_INDEX_OFFSET);
    }

    public static int state(byte[] wa) {
        check(wa);
        return Be.getInt(wa, STATE_OFFSET);
    }

    public static void setState(byte[] wa, int state) {
        check(wa);
        Be.putInt(wa, STATE_OFFSET, state);
    }

    /**
     * Writes one step's name and value into the work area and sets the three offset words (zero for steps
     * without a name or value). The drc index and state words are untouched; the caller returns
     * {@code step.status()} as the RTAS status.
     *
     * @throws IllegalArgumentException when the name and value do not fit
     */
    public static void encodeStep(byte[] wa, Step step) {
        check(wa);
        Be.putInt(wa, NAME_OFFSET_OFFSET, 0);
        Be.putInt(wa, PROP_LENGTH_OFFSET, 0);
        Be.putInt(wa, PROP_OFFSET_OFFSET, 0);
        if (step.name() == null) {
            return;
        }
        byte[] name = step.name().getBytes(StandardCharsets.UTF_8);
        int valueAt = align4(DATA_OFFSET + name.length + 1);
        byte[] value = step.status() == RtasStatus.CC_NEXT_PROPERTY ? step.value : null;
        int end = value == null ? DATA_OFFSET + name.length + 1 : valueAt + value.length;
        if (end > SIZE) {
            throw new IllegalArgumentException(step + " needs " + end + " bytes, the work area has " + SIZE);
        }
        System.arraycopy(name, 0, wa, DATA_OFFSET, name.length);
        wa[DATA_OFFSET + name.length] = 0;
        Be.putInt(wa, NAME_OFFSET_OFFSET, DATA_OFFSET);
        if (value != null) {
            System.arraycopy(value, 0, wa, valueAt, value.length);
            Be.putInt(wa, PROP_LENGTH_OFFSET, value.length);
            Be.putInt(wa, PROP_OFFSET_OFFSET, valueAt);
        }
    }

    /**
     * Reads the step a call returned with {@code status}.
     *
     * @throws IllegalArgumentException for a status that is not a step (an error, or MORE_MEMORY) or offsets
     *                                  that point outside the work area
     */
    public static Step decodeStep(int status, byte[] wa) {
        check(wa);
        return switch (status) {
            case RtasStatus.CC_NEXT_CHILD -> Step.child(readName(wa));
            case RtasStatus.CC_NEXT_SIBLING -> Step.sibling(readName(wa));
            case RtasStatus.CC_NEXT_PROPERTY -> Step.property(readName(wa), readValue(wa));
            case RtasStatus.CC_PREV_PARENT -> Step.prevParent();
            case RtasStatus.CC_COMPLETE -> Step.complete();
            default -> throw new IllegalArgumentException("ibm,configure-connector status " + status + " is not a step");
        };
    }

    /**
     * The step sequence that describes {@code root}: the root as the first child, its properties, each child
     * (the first as a child, later ones as siblings of the previous) with a prev-parent after a node's last
     * child, and a final complete.
     */
    public static List<Step> steps(CcNode root) {
        List<Step> out = new ArrayList<>();
        appendSteps(root, true, out);
        out.add(Step.complete());
        return out;
    }

    private static void appendSteps(CcNode node, boolean firstChild, List<Step> out) {
        out.add(firstChild ? Step.child(node.name()) : Step.sibling(node.name()));
        node.properties().forEach((k, v) -> out.add(Step.property(k, v)));
        for (int i = 0; i < node.children().size(); i++) {
            appendSteps(node.children().get(i), i == 0, out);
        }
        if (!node.children().isEmpty()) {
            // The current node is now the last child; move back up to this node.
            out.add(Step.prevParent());
        }
    }

    /**
     * Rebuilds a subtree from the step sequence, one step at a time, as the OS does while it calls
     * configure-connector. Not thread-safe; one per sequence.
     */
    public static final class Assembler {
        private static final class Building {
            final String name;
            final LinkedHashMap<String, byte[]> properties = new LinkedHashMap<>();
            final List<Building> children = new ArrayList<>();

            Building(String name) {
                this.name = name;
            }

            CcNode freeze() {
                List<CcNode> c = new ArrayList<>(children.size());
                for (Building b : children) {
                    c.add(b.freeze());
                }
                return new CcNode(name, properties, c);
            }
        }

        private final Deque<Building> path = new ArrayDeque<>();
        private Building root;
        private boolean complete;

        /**
         * Applies one step.
         *
         * @return true when the step was COMPLETE and {@link #result()} is ready
         * @throws IllegalStateException when the step does not fit the sequence so far (a sibling of the root,
         *                               a property with no current node, a step after COMPLETE, ...)
         */
        public boolean accept(Step step) {
            if (complete) {
                throw new IllegalStateException("step " + step + " after complete");
            }
            switch (step.status()) {
                case RtasStatus.CC_NEXT_CHILD -> {
                    Building b = new Building(step.name());
                    if (root == null) {
                        root = b;
                    } else if (path.isEmpty()) {
                        throw new IllegalStateException("child " + step.name() + " after the root was closed");
                    } else {
                        path.peek().children.add(b);
                    }
                    path.push(b);
                }
                case RtasStatus.CC_NEXT_SIBLING -> {
                    if (path.size() < 2) {
                        throw new IllegalStateException("sibling " + step.name() + " has no parent");
                    }
                    path.pop();
                    Building b = new Building(step.name());
                    path.peek().children.add(b);
                    path.push(b);
                }
                case RtasStatus.CC_NEXT_PROPERTY -> {
                    if (path.isEmpty()) {
                        throw new IllegalStateException("property " + step.name() + " with no current node");
                    }
                    path.peek().properties.put(step.name(), step.value);
                }
                case RtasStatus.CC_PREV_PARENT -> {
                    if (path.isEmpty()) {
                        throw new IllegalStateException("prev-parent with no current node");
                    }
                    path.pop();
                }
                default -> {
                    if (root == null) {
                        throw new IllegalStateException("complete before any node");
                    }
                    complete = true;
                }
            }
            return complete;
        }

        /** The subtree. @throws IllegalStateException before COMPLETE */
        public CcNode result() {
            if (!complete) {
                throw new IllegalStateException("configure-connector sequence not complete");
            }
            return root.freeze();
        }
    }

    private static String readName(byte[] wa) {
        int off = Be.getInt(wa, NAME_OFFSET_OFFSET);
        if (off < DATA_OFFSET || off >= SIZE) {
            throw new IllegalArgumentException("name_offset " + off + " outside the work area data");
        }
        int nul = off;
        while (nul < SIZE && wa[nul] != 0) {
            nul++;
        }
        if (nul == SIZE) {
            throw new IllegalArgumentException("name at " + off + " is not NUL-terminated");
        }
        return new String(wa, off, nul - off, StandardCharsets.UTF_8);
    }

    private static byte[] readValue(byte[] wa) {
        int len = Be.getInt(wa, PROP_LENGTH_OFFSET);
        int off = Be.getInt(wa, PROP_OFFSET_OFFSET);
        if (len == 0) {
            return new byte[0];
        }
        if (len < 0 || off < DATA_OFFSET || off > SIZE || len > SIZE - off) {
            throw new IllegalArgumentException("property value at " + off + " length " + len + " outside the work area");
        }
        return Arrays.copyOfRange(wa, off, off + len);
    }

    private static int align4(int n) {
        return (n + 3) & ~3;
    }

    private static void check(byte[] wa) {
        if (wa == null || wa.length != SIZE) {
            throw new IllegalArgumentException("ibm,configure-connector work area must be " + SIZE + " bytes, got "
                    + (wa == null ? "null" : wa.length));
        }
    }
}
