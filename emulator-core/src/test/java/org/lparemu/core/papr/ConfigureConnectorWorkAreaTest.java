package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.Assembler;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.CcNode;
import org.lparemu.core.papr.ConfigureConnectorWorkArea.Step;

class ConfigureConnectorWorkAreaTest {

    private static Map<String, byte[]> props(Object... kv) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (byte[]) kv[i + 1]);
        }
        return m;
    }

    private static CcNode leaf(String name, Object... kv) {
        return new CcNode(name, props(kv), List.of());
    }

    @Test
    void initialAreaCarriesTheDrcIndexAndZeroState() {
        byte[] wa = ConfigureConnectorWorkArea.initial(0x10000008);
        assertEquals(0x10000008, ConfigureConnectorWorkArea.drcIndex(wa));
        assertEquals(0, ConfigureConnectorWorkArea.state(wa));
        ConfigureConnectorWorkArea.setState(wa, 42);
        assertEquals(42, ConfigureConnectorWorkArea.state(wa));
        assertEquals(0x10000008, ByteBuffer.wrap(wa).getInt(0));
    }

    @Test
    void eachStepRoundTripsThroughTheWorkArea() {
        List<Step> all = List.of(Step.child("PowerPC,POWER10@8"), Step.property("ibm,my-drc-index", new byte[] {0x10, 0, 0, 8}),
                Step.property("empty", new byte[0]), Step.sibling("l2-cache@2008"), Step.prevParent(), Step.complete());
        byte[] wa = ConfigureConnectorWorkArea.initial(7);
        ConfigureConnectorWorkArea.setState(wa, 3);
        for (Step s : all) {
            ConfigureConnectorWorkArea.encodeStep(wa, s);
            assertEquals(s, ConfigureConnectorWorkArea.decodeStep(s.status(), wa));
            // The header words the OS and firmware own are untouched.
            assertEquals(7, ConfigureConnectorWorkArea.drcIndex(wa));
            assertEquals(3, ConfigureConnectorWorkArea.state(wa));
        }
    }

    @Test
    void propertyLayoutUsesTheOffsets() {
        byte[] wa = ConfigureConnectorWorkArea.initial(1);
        ConfigureConnectorWorkArea.encodeStep(wa, Step.property("abc", new byte[] {1, 2, 3, 4, 5}));
        ByteBuffer b = ByteBuffer.wrap(wa);
        int nameOff = b.getInt(8);
        int len = b.getInt(12);
        int valOff = b.getInt(16);
        assertEquals(20, nameOff);
        assertEquals('a', wa[nameOff]);
        assertEquals(0, wa[nameOff + 3]);
        assertEquals(5, len);
        assertTrue(valOff >= nameOff + 4 && valOff % 4 == 0, "value after the name, aligned: " + valOff);
        assertEquals(1, wa[valOff]);
        assertEquals(5, wa[valOff + 4]);

        // A decoder must follow the offsets wherever the firmware put things.
        byte[] moved = ConfigureConnectorWorkArea.initial(1);
        ByteBuffer m = ByteBuffer.wrap(moved);
        m.put(3000, (byte) 'z').put(3001, (byte) 0);
        m.put(2000, (byte) 9);
        m.putInt(8, 3000).putInt(12, 1).putInt(16, 2000);
        Step s = ConfigureConnectorWorkArea.decodeStep(RtasStatus.CC_NEXT_PROPERTY, moved);
        assertEquals("z", s.name());
        assertArrayEquals(new byte[] {9}, s.value());
    }

    @Test
    void stepsWithoutPayloadZeroTheOffsets() {
        byte[] wa = ConfigureConnectorWorkArea.initial(1);
        ConfigureConnectorWorkArea.encodeStep(wa, Step.property("p", new byte[] {1}));
        ConfigureConnectorWorkArea.encodeStep(wa, Step.prevParent());
        ByteBuffer b = ByteBuffer.wrap(wa);
        assertEquals(0, b.getInt(8));
        assertEquals(0, b.getInt(12));
        assertEquals(0, b.getInt(16));
        ConfigureConnectorWorkArea.encodeStep(wa, Step.child("n"));
        assertEquals(20, b.getInt(8));
        assertEquals(0, b.getInt(16));
        assertNull(ConfigureConnectorWorkArea.decodeStep(RtasStatus.CC_NEXT_CHILD, wa).value());
    }

    @Test
    void subtreeFlattensAndReassembles() {
        CcNode core = new CcNode("PowerPC,POWER10@8",
                props("ibm,my-drc-index", new byte[] {0x10, 0, 0, 8}, "ibm,ppc-interrupt-server#s", new byte[] {0, 0, 0, 8}),
                List.of(new CcNode("a@1", props("x", new byte[] {1}), List.of(leaf("g@1"), leaf("g@2", "y", new byte[] {2}))),
                        leaf("b@2"), leaf("c@3", "z", new byte[] {3})));
        List<Step> steps = ConfigureConnectorWorkArea.steps(core);

        assertEquals(Step.child("PowerPC,POWER10@8"), steps.get(0));
        assertEquals(Step.complete(), steps.get(steps.size() - 1));
        assertEquals(List.of(Step.child("PowerPC,POWER10@8"), Step.property("ibm,my-drc-index", new byte[] {0x10, 0, 0, 8}),
                Step.property("ibm,ppc-interrupt-server#s", new byte[] {0, 0, 0, 8}), Step.child("a@1"),
                Step.property("x", new byte[] {1}), Step.child("g@1"), Step.sibling("g@2"), Step.property("y", new byte[] {2}),
                Step.prevParent(), Step.sibling("b@2"), Step.sibling("c@3"), Step.property("z", new byte[] {3}),
                Step.prevParent(), Step.complete()), steps);

        // Through the work area, one call at a time, as the OS sees it.
        Assembler asm = new Assembler();
        byte[] wa = ConfigureConnectorWorkArea.initial(0x10000008);
        boolean done = false;
        for (Step s : steps) {
            assertFalse(done);
            ConfigureConnectorWorkArea.encodeStep(wa, s);
            done = asm.accept(ConfigureConnectorWorkArea.decodeStep(s.status(), wa));
        }
        assertTrue(done);
        CcNode back = asm.result();
        assertEquals(core, back);
        assertEquals(6, back.size());
    }

    @Test
    void singleNodeNeedsNoPrevParent() {
        List<Step> steps = ConfigureConnectorWorkArea.steps(leaf("cpu@4", "reg", new byte[] {0, 0, 0, 4}));
        assertEquals(List.of(Step.child("cpu@4"), Step.property("reg", new byte[] {0, 0, 0, 4}), Step.complete()), steps);
    }

    @Test
    void assemblerRejectsSequencesThatDoNotDescribeATree() {
        Assembler a = new Assembler();
        assertThrows(IllegalStateException.class, () -> a.accept(Step.property("p", new byte[0])));
        Assembler b = new Assembler();
        b.accept(Step.child("root"));
        assertThrows(IllegalStateException.class, () -> b.accept(Step.sibling("root2")));
        Assembler c = new Assembler();
        assertThrows(IllegalStateException.class, () -> c.accept(Step.complete()));
        Assembler d = new Assembler();
        d.accept(Step.child("r"));
        assertThrows(IllegalStateException.class, d::result);
        d.accept(Step.complete());
        assertThrows(IllegalStateException.class, () -> d.accept(Step.child("late")));
    }

    @Test
    void decodeRejectsErrorsAndBadOffsets() {
        byte[] wa = ConfigureConnectorWorkArea.initial(1);
        assertThrows(IllegalArgumentException.class, () -> ConfigureConnectorWorkArea.decodeStep(RtasStatus.CC_MORE_MEMORY, wa));
        assertThrows(IllegalArgumentException.class, () -> ConfigureConnectorWorkArea.decodeStep(-9003, wa));
        ByteBuffer.wrap(wa).putInt(8, 5000);
        assertThrows(IllegalArgumentException.class, () -> ConfigureConnectorWorkArea.decodeStep(RtasStatus.CC_NEXT_CHILD, wa));
        byte[] wb = ConfigureConnectorWorkArea.initial(1);
        ConfigureConnectorWorkArea.encodeStep(wb, Step.property("p", new byte[] {1}));
        ByteBuffer.wrap(wb).putInt(12, 4090);
        assertThrows(IllegalArgumentException.class, () -> ConfigureConnectorWorkArea.decodeStep(RtasStatus.CC_NEXT_PROPERTY, wb));
        assertThrows(IllegalArgumentException.class, () -> ConfigureConnectorWorkArea.encodeStep(new byte[4096],
                Step.property("p", new byte[4080])));
        assertThrows(IllegalArgumentException.class, () -> Step.child("a/b"));
        assertThrows(IllegalArgumentException.class, () -> new Step(RtasStatus.CC_PREV_PARENT, "x", null));
    }
}
