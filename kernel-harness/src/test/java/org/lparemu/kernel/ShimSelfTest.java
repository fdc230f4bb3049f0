package org.lparemu.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.opentest4j.TestAbortedException;

/**
 * The runtime's own tests (src/test/c), built with each kernel's tree: CPU iteration (the prototype's
 * unsigned-index H_PROD storm), the vCPU contract against a fake platform that checks every call, stop_machine,
 * sleeping and contended locks, RTAS serialization, sysfs, the device tree. Each TAP line becomes a test.
 */
class ShimSelfTest {
    @TestFactory
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    Stream<DynamicNode> selfTest() {
        return Kernels.DEBIAN.stream().map(v -> DynamicContainer.dynamicContainer("linux " + v, runFor(v)));
    }

    private static Stream<DynamicNode> runFor(String version) {
        KernelBuild.Built built;
        try {
            built = Kernels.debian(version);
        } catch (TestAbortedException | AssertionError e) {
            // Skipped (or failed, when required) as one visible test rather than an empty container.
            return Stream.of(DynamicTest.dynamicTest("Linux " + version + " is available", () -> {
                throw e;
            }));
        }
        String out;
        int exit;
        try {
            Process p = new ProcessBuilder(built.selftest().toString()).redirectErrorStream(true).start();
            if (!p.waitFor(90, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Stream.of(DynamicTest.dynamicTest("kh-selftest finishes", () -> {
                    throw new AssertionError("kh-selftest did not finish within 90 s");
                }));
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            exit = p.exitValue();
        } catch (Exception e) {
            throw new IllegalStateException("cannot run " + built.selftest(), e);
        }
        List<DynamicNode> tests = new ArrayList<>();
        List<String> lines = out.lines().toList();
        long planned = lines.stream().filter(l -> l.startsWith("1..")).findFirst()
                .map(l -> Long.parseLong(l.substring(3).trim())).orElse(-1L);
        long reported = lines.stream().filter(l -> l.startsWith("ok ") || l.startsWith("not ok ")).count();
        for (String line : lines) {
            if (line.startsWith("ok ") || line.startsWith("not ok ")) {
                boolean ok = line.startsWith("ok ");
                String name = line.replaceFirst("^(not )?ok \\d+ - ", "").replaceFirst(":.*", "");
                // The C test ran (with its own bound) while the factory ran; this only reports its result.
                tests.add(DynamicTest.dynamicTest(name, () -> assertTrue(ok, line)));
            }
        }
        final String output = out;
        final int status = exit;
        tests.add(DynamicTest.dynamicTest("every planned test reported, exit status 0", () -> {
            assertTrue(planned > 0, "no TAP plan in:\n" + output);
            assertEquals(planned, reported >= planned ? planned : reported, "tests reported:\n" + output);
            assertEquals(0, status, output);
            assertFalse(output.contains("PANIC"), output);
        }));
        return tests.stream();
    }
}
