package org.lparemu.core.hypervisor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A partition's processors: cores x 1, 2, 4 or 8 threads; whichever of the two is unset follows the other. */
@Timeout(10)
class PartitionSpecTest {
    private static final PlatformConfig.PartitionDefaults D = PlatformConfig.PartitionDefaults.DEFAULT;

    private static PartitionSpec spec(Integer vcpus, Integer cores) {
        return new PartitionSpec("p", vcpus, cores, false, null, null).withDefaults(D, "source");
    }

    @ParameterizedTest
    @CsvSource({
        ",,4,2",        // the defaults: 2 cores of SMT2
        ",16,32,16",    // cores alone: the defaults' two threads per core
        "8,,8,4",       // vcpus alone: as many SMT2 cores as divide evenly
        "3,,3,3",       // ... or SMT1
        "16,2,16,2",    // SMT8
        "6,6,6,6",      // SMT1
    })
    void vcpusAndCores(Integer vcpus, Integer cores, int wantVcpus, int wantCores) {
        PartitionSpec s = spec(vcpus, cores);
        assertEquals(wantVcpus, s.vcpus());
        assertEquals(wantCores, s.cores());
        assertEquals(wantVcpus / wantCores, s.threadsPerCore());
    }

    @ParameterizedTest
    @CsvSource({"2,3", "6,4", "32,2", "12,4"})
    void raggedOrOversizedThreadCountsAreRefused(int vcpus, int cores) {
        ControlException e = assertThrows(ControlException.class, () -> spec(vcpus, cores));
        assertEquals(ControlError.BAD_SPEC, e.code());
        assertTrue(e.getMessage().contains("threads per core") && e.getMessage().contains(vcpus + " vcpus on " + cores),
                e.getMessage());
    }

    @Test
    void boundsAreChecked() {
        assertThrows(ControlException.class, () -> spec(PartitionSpec.MAX_VCPUS + 1, null));
        assertThrows(ControlException.class, () -> spec(null, PartitionSpec.MAX_CORES + 1));
        assertThrows(ControlException.class, () -> spec(-1, 1));
    }
}
