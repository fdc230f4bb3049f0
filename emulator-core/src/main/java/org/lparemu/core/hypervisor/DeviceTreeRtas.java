package org.lparemu.core.hypervisor;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.lparemu.core.papr.ConfigureConnectorWorkArea;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.Step;
import org.lparemu.core.papr.RtasService;
import org.lparemu.core.papr.RtasStatus;
import org.lparemu.core.papr.UpdateNodesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea;
import org.lparemu.core.papr.UpdatePropertiesWorkArea.Descriptor;
import org.lparemu.core.port.DeviceTree;
import org.lparemu.core.port.RtasResult;
import org.lparemu.core.trace.TraceKind;

/**
 * The device-tree update RTAS services (papr-notes 6.3, prrn-model.md): ibm,update-nodes lists the nodes a
 * change touched, ibm,update-properties returns one node's current properties, ibm,configure-connector hands
 * over a new node's subtree. Work areas are encoded with the shared codecs in {@code papr}.
 *
 * <h2>Sequences and system binding</h2>
 * An ibm,update-nodes call with zeroed firmware-state words starts a <em>sequence</em> for its scope, bound
 * to the partition's current system. The four state words then hold lparemu's continuation:
 * {@code [0] = 'LPSU' magic, [1] = sequence id, [2] = entries already returned, [3] = system index}. A
 * continuation whose sequence is unknown (never started, evicted, or from before a Reset) or belongs to another
 * scope answers -3 (PARAMETER_ERROR). ibm,update-properties with state 0 refers to the latest sequence of its
 * scope, which must list the node as updated; its own continuation tokens are bound to that sequence in the same
 * way. A call that continues a sequence begun on another system (the partition migrated in between) gets what
 * {@link PlatformConfig.UpdateContinuation} says (papr-notes leaves it open): -3 by default, as the destination
 * firmware knows nothing of the source's sequence; a restart as a fresh sequence on the current system; or the
 * old system's data. ibm,configure-connector continuations are always bound to their system (-3 elsewhere): a
 * restarted subtree could not be told from a continuation by the OS.
 *
 * <p>What a scope lists: scope 1 = the latest migration's records; scope -s = the operator's PRRN scope s.
 * Both are lists of phandles (and deleted property names); values are read from the partition's current tree
 * when ibm,update-properties runs, so a fresh fetch on the destination gets the destination's values.
 * UNCONFIRMED choices: an unknown PRRN scope and any scope other than 1 or negative answer -3; property values
 * are snapshotted at a node's first ibm,update-properties call so a node's pieces stay consistent; an empty
 * property value, which the descriptor format cannot carry, is sent name-only.
 *
 * <p>Tables are bounded ({@link #MAX_SEQUENCES}, {@link #MAX_CURSORS}); the oldest entry is evicted.
 * Handlers run under the partition lock.
 */
final class DeviceTreeRtas {
    /** "LPSU": marks update-nodes state words written by lparemu. */
    static final int SEQUENCE_MAGIC = 0x4C505355;
    static final int MAX_SEQUENCES = 64;
    static final int MAX_CURSORS = 64;

    /** One ibm,update-nodes sequence: its scope, the system it began on and the entries it lists. */
    record Sequence(int id, int scope, ManagedSystem system, TreeUpdate update) {
    }

    /** A node's ibm,update-properties in progress: the descriptors still to send. */
    static final class PropertyCursor {
        final int token;
        final int sequenceId;
        final int phandle;
        final List<Descriptor> descriptors;
        int next;
        /** Value bytes of descriptors[next] already sent as partial pieces. */
        int sent;

        PropertyCursor(int token, int sequenceId, int phandle, List<Descriptor> descriptors) {
            this.token = token;
            this.sequenceId = sequenceId;
            this.phandle = phandle;
            this.descriptors = descriptors;
        }
    }

    /** An ibm,configure-connector in progress. */
    static final class ConnectorCursor {
        final int token;
        final int drcIndex;
        final ManagedSystem system;
        final List<Step> steps;
        int next;
        /** The configured delay status was answered for steps[next]: the next call gets the step. */
        boolean delayed;

        ConnectorCursor(int token, int drcIndex, ManagedSystem system, List<Step> steps) {
            this.token = token;
            this.drcIndex = drcIndex;
            this.system = system;
            this.steps = steps;
        }
    }

    /** The property configure-connector adds to every node: its phandle. */
    static final String PHANDLE_PROPERTY = "ibm,phandle";

    private DeviceTreeRtas() {
    }

    // The pipeline calls every handler with the caller's partition lock held (CallPipeline.invoke); Error Prone
    // cannot see that through the table, so the registration is the one place its GuardedBy check is waived.
    @SuppressWarnings("GuardedBy")
    static void register(DispatchTable table) {
        table.registerRtas(RtasService.UPDATE_NODES, DeviceTreeRtas::ibmUpdateNodes);
        table.registerRtas(RtasService.UPDATE_PROPERTIES, DeviceTreeRtas::ibmUpdateProperties);
        table.registerRtas(RtasService.CONFIGURE_CONNECTOR, DeviceTreeRtas::ibmConfigureConnector);
    }

    /**
     * ibm,update-nodes(work area, scope): -3 for a work area that is not 4096 bytes, a scope that is neither 1
     * nor a recorded PRRN scope (negated), or a continuation that is not live on this system (see the class
     * comment). Writes at most {@code updateNodesBatch} entries (0 = as many as fit); status 1 while entries
     * remain, 0 when the list is done.
     */
    @GuardedBy("p.lock")
    static RtasResult ibmUpdateNodes(Partition p, CallContext ctx) {
        byte[] workArea = ctx.data();
        int scope = (int) ctx.arg(1);

        if (workArea.length != RtasService.WORK_AREA_SIZE) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        TreeUpdate update = updateForScopeLocked(p, scope);
        if (update == null) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        int[] state = new int[UpdateNodesWorkArea.STATE_WORDS];
        boolean fresh = true;
        for (int i = 0; i < state.length; i++) {
            state[i] = UpdateNodesWorkArea.stateWord(workArea, i);
            fresh &= state[i] == 0;
        }
        Sequence seq;
        int position;
        if (fresh) {
            seq = freshSequenceLocked(p, scope, update);
            position = 0;
        } else {
            seq = state[0] == SEQUENCE_MAGIC ? p.sequences.get(state[1]) : null;
            position = state[2];
            if (seq == null || seq.scope() != scope || position < 0 || position > seq.update().records.size()) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
            if (seq.system() != p.systemLocked()) {
                switch (crossSystemLocked(p, ctx, seq)) {
                    case RESTART -> {
                        seq = freshSequenceLocked(p, scope, update);
                        position = 0;
                    }
                    case SERVE_OLD_SYSTEM -> {
                        // the records name phandles only: the sequence goes on as it would have on its system
                    }
                    default -> {
                        return RtasResult.of(RtasStatus.PARAMETER_ERROR);
                    }
                }
            }
        }
        List<UpdateNodesWorkArea.Entry> rest = seq.update().records.subList(position, seq.update().records.size());
        int batch = ctx.services().hypervisor().updateNodesBatch();
        if (batch > 0 && rest.size() > batch) {
            rest = rest.subList(0, batch);
        }
        byte[] out = workArea.clone();
        position += UpdateNodesWorkArea.encodeEntries(out, rest);
        UpdateNodesWorkArea.setStateWord(out, 0, SEQUENCE_MAGIC);
        UpdateNodesWorkArea.setStateWord(out, 1, seq.id());
        UpdateNodesWorkArea.setStateWord(out, 2, position);
        UpdateNodesWorkArea.setStateWord(out, 3, seq.system().index());
        boolean more = position < seq.update().records.size();
        return RtasResult.withWorkArea(more ? RtasStatus.CALL_AGAIN : RtasStatus.SUCCESS, out);
    }

    /** Starts a sequence for {@code scope} on the partition's current system; it becomes the scope's latest. */
    @GuardedBy("p.lock")
    private static Sequence freshSequenceLocked(Partition p, int scope, TreeUpdate update) {
        Sequence seq = new Sequence(p.newTokenLocked(), scope, p.systemLocked(), update);
        put(p.sequences, seq.id(), seq, MAX_SEQUENCES);
        p.latestSequenceByScope.put(scope, seq.id());
        return seq;
    }

    /**
     * What to do with a call that continues {@code seq}, begun on another system: the configured
     * {@link PlatformConfig.UpdateContinuation}, except that SERVE_OLD_SYSTEM can serve only the system the
     * partition last left (REJECT for an older one). A restart or an old-system answer is noted in the trace.
     */
    @GuardedBy("p.lock")
    private static PlatformConfig.UpdateContinuation crossSystemLocked(Partition p, CallContext ctx, Sequence seq) {
        PlatformConfig.UpdateContinuation c = ctx.services().hypervisor().updateContinuation();
        if (c == PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM
                && (seq.system() != p.departedSystem || p.departedTree == null)) {
            c = PlatformConfig.UpdateContinuation.REJECT;
        }
        if (c == PlatformConfig.UpdateContinuation.RESTART) {
            ctx.services().trace().note(TraceKind.STATE, p.name, c.traceNote, ctx.service() + " scope "
                    + seq.scope() + ": sequence " + seq.id() + " of " + seq.system().name() + " restarted on "
                    + p.systemLocked().name());
        } else if (c == PlatformConfig.UpdateContinuation.SERVE_OLD_SYSTEM) {
            ctx.services().trace().note(TraceKind.STATE, p.name, c.traceNote, ctx.service() + " scope "
                    + seq.scope() + ": sequence " + seq.id() + " served from " + seq.system().name() + "'s data on "
                    + p.systemLocked().name());
        }
        return c;
    }

    @GuardedBy("p.lock")
    private static TreeUpdate updateForScopeLocked(Partition p, int scope) {
        if (scope == RtasService.MIGRATION_SCOPE) {
            return p.migrationUpdate;
        }
        if (scope < 0 && scope != Integer.MIN_VALUE) {
            return p.prrnScopes.get(-scope);
        }
        return null;
    }

    /**
     * ibm,update-properties(work area, scope): phandle @0, state @4. State 0 starts the node within the latest
     * sequence of that scope (live on this system, listing the node as updated); otherwise it is the token
     * this service returned. Returns the node's path descriptor first, then every current property, then a
     * delete descriptor for each property the change removed; a value that does not fit the call (the work
     * area, or {@code updatePropertiesBytes}) is sent in partial pieces, a partial piece always last in its
     * call. Status 1 while more remains, 0 when the node is done; -3 for anything not live here.
     */
    @GuardedBy("p.lock")
    static RtasResult ibmUpdateProperties(Partition p, CallContext ctx) {
        byte[] workArea = ctx.data();
        int scope = (int) ctx.arg(1);

        if (workArea.length != RtasService.WORK_AREA_SIZE) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        int phandle = ByteBuffer.wrap(workArea).getInt(UpdatePropertiesWorkArea.PHANDLE_OFFSET);
        int state = ByteBuffer.wrap(workArea).getInt(UpdatePropertiesWorkArea.STATE_OFFSET);
        PropertyCursor c;
        if (state == 0) {
            Integer seqId = p.latestSequenceByScope.get(scope);
            Sequence seq = seqId == null ? null : p.sequences.get(seqId);
            if (seq == null) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
            DeviceTree tree = p.deviceTreeLocked();
            if (seq.system() != p.systemLocked()) {
                switch (crossSystemLocked(p, ctx, seq)) {
                    case RESTART -> {
                        TreeUpdate update = updateForScopeLocked(p, scope);
                        if (update == null) {
                            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
                        }
                        seq = freshSequenceLocked(p, scope, update);
                    }
                    case SERVE_OLD_SYSTEM -> tree = p.departedTree;
                    default -> {
                        return RtasResult.of(RtasStatus.PARAMETER_ERROR);
                    }
                }
            }
            c = startNodeLocked(p, seq, tree, phandle);
            if (c == null) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
        } else {
            c = p.propertyCursors.get(state);
            Sequence seq = c == null ? null : p.sequences.get(c.sequenceId);
            if (c == null || c.phandle != phandle || seq == null || seq.scope() != scope) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
            if (seq.system() != p.systemLocked()) {
                switch (crossSystemLocked(p, ctx, seq)) {
                    case RESTART -> {
                        // The node again from its path descriptor, with this system's values, in a fresh sequence.
                        TreeUpdate update = updateForScopeLocked(p, scope);
                        p.propertyCursors.remove(c.token);
                        c = update == null ? null
                                : startNodeLocked(p, freshSequenceLocked(p, scope, update), p.deviceTreeLocked(), phandle);
                        if (c == null) {
                            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
                        }
                    }
                    case SERVE_OLD_SYSTEM -> {
                        // the cursor holds the values snapshotted on the old system: go on with them
                    }
                    default -> {
                        return RtasResult.of(RtasStatus.PARAMETER_ERROR);
                    }
                }
            }
        }
        int cap = ctx.services().hypervisor().updatePropertiesBytes();
        int budget = cap > 0 ? Math.min(cap, UpdatePropertiesWorkArea.CAPACITY) : UpdatePropertiesWorkArea.CAPACITY;
        List<Descriptor> out = fill(c, budget);
        boolean more = c.next < c.descriptors.size();
        if (more) {
            put(p.propertyCursors, c.token, c, MAX_CURSORS);
        } else {
            p.propertyCursors.remove(c.token);
        }
        byte[] reply = UpdatePropertiesWorkArea.encode(phandle, more ? c.token : 0, out);
        return RtasResult.withWorkArea(more ? RtasStatus.CALL_AGAIN : RtasStatus.SUCCESS, reply);
    }

    /**
     * A cursor over node {@code phandle} of sequence {@code seq}, its values read from {@code tree}; null when the
     * tree has no such node or the sequence does not list it as updated.
     */
    @GuardedBy("p.lock")
    private static PropertyCursor startNodeLocked(Partition p, Sequence seq, DeviceTree tree, int phandle) {
        DeviceTree.Node node = tree.nodeByPhandle(phandle);
        if (node == null || !seq.update().updatedPhandles().contains(phandle)) {
            return null;
        }
        return new PropertyCursor(p.newTokenLocked(), seq.id(), phandle,
                descriptorsFor(node, seq.update().deletedProperties.getOrDefault(phandle, Set.of())));
    }

    private static List<Descriptor> descriptorsFor(DeviceTree.Node node, Set<String> deleted) {
        List<Descriptor> d = new ArrayList<>();
        d.add(Descriptor.nodePath(node.path()));
        for (Map.Entry<String, byte[]> prop : node.properties().entrySet()) {
            d.add(prop.getValue().length == 0 ? Descriptor.nameOnly(prop.getKey())
                    : Descriptor.full(prop.getKey(), prop.getValue()));
        }
        for (String name : deleted) {
            if (!node.properties().containsKey(name)) {
                d.add(Descriptor.delete(name));
            }
        }
        return d;
    }

    /** Takes the next descriptors that fit {@code budget} bytes; always makes progress. */
    private static List<Descriptor> fill(PropertyCursor c, int budget) {
        List<Descriptor> out = new ArrayList<>();
        int used = 0;
        while (c.next < c.descriptors.size()) {
            Descriptor d = c.descriptors.get(c.next);
            if (!d.isFull() || d.name().isEmpty()) {
                int size = UpdatePropertiesWorkArea.descriptorBytes(d);
                if (used + size > budget && !out.isEmpty()) {
                    break;
                }
                out.add(d);
                used += size;
                c.next++;
                continue;
            }
            byte[] value = d.value();
            byte[] rest = Arrays.copyOfRange(value, c.sent, value.length);
            int header = UpdatePropertiesWorkArea.descriptorBytes(Descriptor.nameOnly(d.name()));
            if (used + header + rest.length <= budget) {
                out.add(Descriptor.full(d.name(), rest));
                used += header + rest.length;
                c.next++;
                c.sent = 0;
                continue;
            }
            int room = Math.max(budget - used - header, out.isEmpty() ? 1 : 0);
            if (room >= 1) {
                out.add(Descriptor.partial(d.name(), Arrays.copyOf(rest, room)));
                c.sent += room;
            }
            break; // a partial piece ends the call (the kernel can only resume a value that came last)
        }
        return out;
    }

    /**
     * ibm,configure-connector(work area): drc index @0, state @4 (0 = start). Returns one step of the
     * subtree of the node with that DRC index in the partition's current tree per call (status = the step,
     * {@link RtasStatus#CC_COMPLETE} at the end). Each node's properties begin with {@code ibm,phandle} (the
     * node's phandle, as PowerVM firmware supplies it) so the OS can attach the node under its phandle.
     * -3 for an unknown DRC index, a bad work area, or a continuation that is unknown or began on another
     * system. With a {@code configureConnectorDelayStatus} configured, each step is preceded by one call answered
     * with that status (-2 busy or 990x extended delay: PAPR lets the firmware ask the OS to call again, after the
     * hinted time, with the same work area), whose work area already names the continuation.
     */
    @GuardedBy("p.lock")
    static RtasResult ibmConfigureConnector(Partition p, CallContext ctx) {
        byte[] workArea = ctx.data();

        if (workArea.length != RtasService.WORK_AREA_SIZE) {
            return RtasResult.of(RtasStatus.PARAMETER_ERROR);
        }
        int drcIndex = ConfigureConnectorWorkArea.drcIndex(workArea);
        int state = ConfigureConnectorWorkArea.state(workArea);
        ConnectorCursor c;
        if (state == 0) {
            DeviceTree.Node node = p.deviceTreeLocked().nodeByDrcIndex(drcIndex);
            if (node == null) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
            c = new ConnectorCursor(p.newTokenLocked(), drcIndex, p.systemLocked(),
                    ConfigureConnectorWorkArea.steps(ccNode(p.deviceTreeLocked(), node)));
            put(p.connectorCursors, c.token, c, MAX_CURSORS);
        } else {
            c = p.connectorCursors.get(state);
            if (c == null || c.drcIndex != drcIndex || c.system != p.systemLocked()) {
                return RtasResult.of(RtasStatus.PARAMETER_ERROR);
            }
        }
        int delay = ctx.services().hypervisor().configureConnectorDelayStatus();
        if (delay != 0 && !c.delayed) {
            // Busy or extended delay: call again with this work area (its state word names the cursor).
            c.delayed = true;
            byte[] out = workArea.clone();
            ConfigureConnectorWorkArea.setState(out, c.token);
            return RtasResult.withWorkArea(delay, out);
        }
        c.delayed = false;
        Step step = c.steps.get(c.next++);
        byte[] out = workArea.clone();
        ConfigureConnectorWorkArea.encodeStep(out, step);
        boolean done = step.status() == RtasStatus.CC_COMPLETE;
        if (done) {
            p.connectorCursors.remove(c.token);
        }
        ConfigureConnectorWorkArea.setState(out, done ? 0 : c.token);
        return RtasResult.withWorkArea(step.status(), out);
    }

    static CcNode ccNode(DeviceTree tree, DeviceTree.Node node) {
        Map<String, byte[]> props = new LinkedHashMap<>();
        props.put(PHANDLE_PROPERTY, DeviceTree.cells(node.phandle()));
        props.putAll(node.properties());
        List<CcNode> children = new ArrayList<>();
        for (DeviceTree.Node child : tree.children(node.path())) {
            children.add(ccNode(tree, child));
        }
        return new CcNode(node.name(), props, children);
    }

    @SuppressWarnings("NonApiType") // insertion order is the contract: the oldest entry is evicted first
    private static <V> void put(LinkedHashMap<Integer, V> map, int key, V value, int max) {
        map.put(key, value);
        Iterator<Integer> it = map.keySet().iterator();
        while (map.size() > max && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    /** Forgets every continuation (the partition is retired). Caller holds the lock. */
    @GuardedBy("p.lock")
    static void retireLocked(Partition p) {
        p.sequences.clear();
        p.latestSequenceByScope.clear();
        p.propertyCursors.clear();
        p.connectorCursors.clear();
    }
}
