package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class HcallNameTest {
    @Test
    void everyNamedOpcodeDecodesAndOthersFallBackToHex() {
        for (Map.Entry<Long, String> e : Hcall.names().entrySet()) {
            assertEquals(e.getValue(), Hcall.name(e.getKey()));
            assertEquals(e.getKey(), Hcall.opcode(e.getValue()));
        }
        assertEquals("H_QUERY_VAS_WINDOW", Hcall.name(Hcall.H_QUERY_VAS_WINDOW));
        assertEquals("hcall 0x3a8", Hcall.name(0x3A8));
        assertEquals("hcall 0xffffffffffffffff", Hcall.name(-1));
        assertEquals("hcall 0x0", Hcall.name(0));
    }
}
