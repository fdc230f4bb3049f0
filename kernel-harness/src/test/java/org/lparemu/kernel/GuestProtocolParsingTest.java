package org.lparemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Java side's parsing of kguest's answers and of kernel sources (no C, no daemon). */
@Timeout(10)
class GuestProtocolParsingTest {
    @Test
    void answersAreKeyValueLines() {
        KernelGuest.Reply r = KernelGuest.parse("7 open handle=2 rc=0 win=1048577 pid=1006 mmap=0");
        assertEquals("7", r.id());
        assertEquals("open", r.verb());
        assertEquals(2, r.getInt("handle"));
        assertEquals("1048577", r.get("win"));
        assertThrows(KernelHarnessException.class, () -> r.get("missing"));
    }

    @Test
    void aSysfsValueKeepsItsSpaces() {
        assertEquals("a b c", KernelGuest.parse("3 sysfs-read rc=0 value=a b c").get("value"));
    }

    @Test
    void unsolicitedLinesHaveNoId() {
        KernelGuest.Reply r = KernelGuest.parse("!ready kernel=6.1.192 flavour=debian-6.1 vcpus=4");
        assertEquals("6.1.192", r.get("kernel"));
        assertEquals("4", r.get("vcpus"));
    }

    @Test
    void sourcesNameTheirBuildDirectory() {
        assertEquals("debian-6.12", new KernelSource.Debian("6.12").flavour());
        assertThrows(IllegalArgumentException.class, () -> new KernelSource.Debian("6.1; rm -rf /"));
        String f = new KernelSource.Tree(Path.of("/src/linux")).flavour();
        assertEquals(f, new KernelSource.Tree(Path.of("/src/./linux")).flavour(), "the same tree, the same directory");
        assertThrows(IllegalArgumentException.class, () -> KernelSource.parse("6.1", Path.of("/x")));
        assertThrows(IllegalArgumentException.class, () -> KernelSource.parse(null, null));
    }
}
