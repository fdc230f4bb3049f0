package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class VphnTest {
    @Test
    void smallDomainsTakeOneFieldEachAndTheRestIsPadding() {
        long[] regs = Vphn.pack(16, 17, 1028);
        assertEquals(0x8010_8011_8404_FFFFL, regs[0]);
        assertEquals(-1L, regs[1]);
        assertArrayEquals(new int[] {16, 17, 1028}, Vphn.unpack(regs));
    }

    @Test
    void largeDomainsTakeTwoFields() {
        long[] regs = Vphn.pack(0x12345, 3);
        assertEquals(0x0001_2345_8003_FFFFL, regs[0]);
        assertArrayEquals(new int[] {0x12345, 3}, Vphn.unpack(regs));
    }

    @Test
    void refusesWhatDoesNotFit() {
        assertThrows(IllegalArgumentException.class, () -> Vphn.pack(new int[25]));
        assertThrows(IllegalArgumentException.class, () -> Vphn.pack(-1));
    }
}
