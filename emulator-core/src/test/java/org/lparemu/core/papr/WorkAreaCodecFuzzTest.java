package org.lparemu.core.papr;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Timeout;

/**
 * Coverage-guided fuzzing of the three RTAS work-area codecs the guest and the hypervisor share: ibm,update-nodes,
 * ibm,update-properties and ibm,configure-connector. Byte 0 of an input picks the codec (low two bits: nodes,
 * properties, configure-connector, or a work area of the wrong size) and, for configure-connector, the status the
 * step is read with (bits 2-4, minus one: -1 to 6, the five step statuses and three that are not); the rest is the
 * work area, zero-padded to 4096 bytes. Invariants after every input: decode returns a value or throws
 * IllegalArgumentException, nothing else; where the value can be written back, encode(decode(x)) decodes to the
 * same value. Without JAZZER_FUZZ=1 (mvn verify) this runs the stored inputs in WorkAreaCodecFuzzTestInputs/ only.
 */
class WorkAreaCodecFuzzTest {
    private static final int SIZE = RtasService.WORK_AREA_SIZE;

    @FuzzTest(maxDuration = "10m", maxExecutions = 1_000_000)
    @Timeout(900)
    void anyWorkAreaDecodesOrFailsTypedAndRoundTrips(byte[] input) {
        int selector = input.length == 0 ? 0 : input[0] & 0xff;
        byte[] wa = Arrays.copyOfRange(input, Math.min(1, input.length), Math.min(1, input.length) + SIZE);
        try {
            switch (selector & 3) {
                case 0 -> updateNodes(wa);
                case 1 -> updateProperties(wa);
                case 2 -> configureConnector(((selector >>> 2) & 7) - 1, wa);
                default -> {
                    byte[] wrong = Arrays.copyOfRange(input, 1, input.length);
                    if (wrong.length == SIZE) {
                        return;
                    }
                    updateNodes(wrong);
                }
            }
        } catch (IllegalArgumentException expected) {
            // The typed refusal: the caller answers the RTAS call with a parameter error.
        }
    }

    private static void updateNodes(byte[] wa) {
        List<UpdateNodesWorkArea.Entry> entries = UpdateNodesWorkArea.decode(wa);
        byte[] again = new byte[SIZE];
        int written = UpdateNodesWorkArea.encodeEntries(again, entries);
        // Re-encoding merges neighbouring records of one action and always writes a terminator, which an area
        // filled to its last word had no room for: at most the last entry moves to a later call.
        assertTrue(written >= entries.size() - 1 && written <= entries.size(), written + " of " + entries.size());
        assertEquals(entries.subList(0, written), UpdateNodesWorkArea.decode(again));
    }

    private static void updateProperties(byte[] wa) {
        UpdatePropertiesWorkArea.Decoded d = UpdatePropertiesWorkArea.decode(wa);
        byte[] again;
        try {
            again = UpdatePropertiesWorkArea.encode(d.phandle(), d.state(), d.descriptors());
        } catch (IllegalArgumentException tooBig) {
            // Only a name that was not UTF-8 can grow (each bad byte becomes a three-byte U+FFFD).
            assertTrue(d.descriptors().stream().anyMatch(x -> x.name().indexOf('\uFFFD') >= 0), tooBig.getMessage());
            return;
        }
        assertEquals(d, UpdatePropertiesWorkArea.decode(again));
    }

    private static void configureConnector(int status, byte[] wa) {
        ConfigureConnectorWorkArea.Step step = ConfigureConnectorWorkArea.decodeStep(status, wa);
        assertEquals(status, step.status());
        byte[] again = ConfigureConnectorWorkArea.initial(ConfigureConnectorWorkArea.drcIndex(wa));
        try {
            ConfigureConnectorWorkArea.encodeStep(again, step);
        } catch (IllegalArgumentException tooBig) {
            // A value read from late in the area no longer fits behind the name, which encode places first.
            return;
        }
        assertEquals(step, ConfigureConnectorWorkArea.decodeStep(status, again));
    }
}
