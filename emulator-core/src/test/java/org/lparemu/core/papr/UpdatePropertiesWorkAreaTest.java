package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.lparemu.core.papr.UpdatePropertiesWorkArea.Decoded;
import org.lparemu.core.papr.UpdatePropertiesWorkArea.Descriptor;

class UpdatePropertiesWorkAreaTest {

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i);
        }
        return b;
    }

    @Test
    void roundTripsEveryDescriptorKind() {
        List<Descriptor> d = List.of(Descriptor.nodePath("/cpus/PowerPC,POWER10@0"),
                Descriptor.full("ibm,associativity", bytes(24, 1)), Descriptor.nameOnly("name-only"),
                Descriptor.delete("obsolete"), Descriptor.partial("ibm,big", bytes(100, 7)));
        byte[] wa = UpdatePropertiesWorkArea.encode(0x1234, 0, d);

        Decoded back = UpdatePropertiesWorkArea.decode(wa);
        assertEquals(0x1234, back.phandle());
        assertEquals(0, back.state());
        assertEquals(d, back.descriptors());

        Descriptor path = back.descriptors().get(0);
        assertEquals("", path.name());
        assertEquals("/cpus/PowerPC,POWER10@0\0", new String(path.value(), StandardCharsets.US_ASCII));
        assertTrue(back.descriptors().get(1).isFull());
        assertTrue(back.descriptors().get(2).isNameOnly());
        assertTrue(back.descriptors().get(3).isDelete());
        Descriptor partial = back.descriptors().get(4);
        assertTrue(partial.isPartial());
        assertEquals(-100, partial.vd());
        assertArrayEquals(bytes(100, 7), partial.value());
    }

    @Test
    void headerLayoutIsBigEndianAtTheDocumentedOffsets() {
        byte[] wa = UpdatePropertiesWorkArea.encode(0x01020304, 0x0A0B0C0D, List.of(Descriptor.full("ab", new byte[] {9, 8})));
        ByteBuffer b = ByteBuffer.wrap(wa);
        assertEquals(0x01020304, b.getInt(0));
        assertEquals(0x0A0B0C0D, b.getInt(4));
        assertEquals(0L, b.getLong(8));
        assertEquals(1, b.getInt(16));
        assertEquals('a', wa[20]);
        assertEquals('b', wa[21]);
        assertEquals(0, wa[22]);
        assertEquals(2, b.getInt(23));
        assertEquals(9, wa[27]);
        assertEquals(8, wa[28]);
    }

    @Test
    void valueDescriptorBoundaries() {
        assertEquals(0, UpdatePropertiesWorkArea.valueLength(0));
        assertEquals(0, UpdatePropertiesWorkArea.valueLength(0x80000000));
        assertEquals(1, UpdatePropertiesWorkArea.valueLength(0xFFFFFFFF));
        assertEquals(0x7FFFFFFF, UpdatePropertiesWorkArea.valueLength(0x80000001));
        assertEquals(4076, UpdatePropertiesWorkArea.valueLength(4076));
        Descriptor one = Descriptor.partial("p", new byte[] {1});
        assertEquals(0xFFFFFFFF, one.vd());
        assertFalse(one.isDelete());
        assertThrows(IllegalArgumentException.class, () -> Descriptor.full("empty", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> Descriptor.partial("empty", new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("x", 3, new byte[2]));
        assertThrows(IllegalArgumentException.class, () -> new Descriptor("a\0b", 0, null));
    }

    @Test
    void descriptorBytesAndCapacityAreExact() {
        Descriptor d = Descriptor.full("name", bytes(10, 0));
        assertEquals(4 + 1 + 4 + 10, UpdatePropertiesWorkArea.descriptorBytes(d));
        assertEquals(1 + 4, UpdatePropertiesWorkArea.descriptorBytes(Descriptor.delete("")));

        // Exactly fills the area: name "v" (2 bytes) + vd (4) + value.
        int value = UpdatePropertiesWorkArea.CAPACITY - 2 - 4;
        Descriptor fits = Descriptor.full("v", bytes(value, 3));
        byte[] wa = UpdatePropertiesWorkArea.encode(1, 2, List.of(fits));
        assertEquals(List.of(fits), UpdatePropertiesWorkArea.decode(wa).descriptors());

        Descriptor tooBig = Descriptor.full("v", bytes(value + 1, 3));
        assertThrows(IllegalArgumentException.class, () -> UpdatePropertiesWorkArea.encode(1, 2, List.of(tooBig)));
    }

    @Test
    void partialValueSplitAcrossCallsReassembles() {
        byte[] whole = bytes(6000, 5);
        List<Descriptor> first = List.of(Descriptor.nodePath("/x"), Descriptor.partial("big", Arrays.copyOf(whole, 4000)));
        List<Descriptor> second = List.of(Descriptor.full("big", Arrays.copyOfRange(whole, 4000, 6000)));

        Decoded a = UpdatePropertiesWorkArea.decode(UpdatePropertiesWorkArea.encode(7, 1, first));
        Decoded b = UpdatePropertiesWorkArea.decode(UpdatePropertiesWorkArea.encode(7, 2, second));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a.descriptors().get(1).value());
        out.writeBytes(b.descriptors().get(0).value());
        assertTrue(a.descriptors().get(1).isPartial());
        assertTrue(b.descriptors().get(0).isFull());
        assertArrayEquals(whole, out.toByteArray());
    }

    @Test
    void initialAreaCarriesOnlyThePhandle() {
        byte[] wa = UpdatePropertiesWorkArea.initial(0xBEEF);
        Decoded d = UpdatePropertiesWorkArea.decode(wa);
        assertEquals(0xBEEF, d.phandle());
        assertEquals(0, d.state());
        assertEquals(List.of(), d.descriptors());
    }

    @Test
    void decodeRejectsMalformedAreas() {
        byte[] wa = UpdatePropertiesWorkArea.encode(1, 0, List.of(Descriptor.full("p", bytes(8, 0))));
        ByteBuffer.wrap(wa).putInt(16, 2); // claims a second descriptor of NULs: empty name, vd 0 -> fine
        assertEquals(2, UpdatePropertiesWorkArea.decode(wa).descriptors().size());

        byte[] overrun = UpdatePropertiesWorkArea.encode(1, 0, List.of(Descriptor.full("p", bytes(8, 0))));
        ByteBuffer.wrap(overrun).putInt(22, 5000);
        assertThrows(IllegalArgumentException.class, () -> UpdatePropertiesWorkArea.decode(overrun));

        byte[] negative = new byte[UpdatePropertiesWorkArea.SIZE];
        ByteBuffer.wrap(negative).putInt(16, -1);
        assertThrows(IllegalArgumentException.class, () -> UpdatePropertiesWorkArea.decode(negative));

        byte[] noNul = new byte[UpdatePropertiesWorkArea.SIZE];
        Arrays.fill(noNul, 20, noNul.length, (byte) 'a');
        ByteBuffer.wrap(noNul).putInt(16, 1);
        assertThrows(IllegalArgumentException.class, () -> UpdatePropertiesWorkArea.decode(noNul));

        assertThrows(IllegalArgumentException.class, () -> UpdatePropertiesWorkArea.decode(new byte[10]));
    }

    @Test
    void manySmallDescriptorsRoundTrip() {
        List<Descriptor> d = new ArrayList<>();
        int used = 0;
        for (int i = 0; ; i++) {
            Descriptor x = i % 3 == 0 ? Descriptor.delete("p" + i) : i % 3 == 1 ? Descriptor.nameOnly("p" + i)
                    : Descriptor.full("p" + i, bytes(i % 17 + 1, i));
            int n = UpdatePropertiesWorkArea.descriptorBytes(x);
            if (used + n > UpdatePropertiesWorkArea.CAPACITY) {
                break;
            }
            used += n;
            d.add(x);
        }
        assertEquals(d, UpdatePropertiesWorkArea.decode(UpdatePropertiesWorkArea.encode(3, 4, d)).descriptors());
    }
}
