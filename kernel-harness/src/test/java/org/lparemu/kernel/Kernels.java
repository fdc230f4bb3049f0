package org.lparemu.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The kernels the tests run: Debian 6.1 (before the 2023 fix) and 6.12 (with it), as build.sh built them in
 * the build's process-test-classes phase. A kernel whose packages are missing skips its tests with the reason
 * printed, or fails them when -Dkharness.required=true (CI).
 */
final class Kernels {
    static final List<String> DEBIAN = List.of("6.1", "6.12");

    private Kernels() {
    }

    static boolean required() {
        return Boolean.getBoolean("kharness.required");
    }

    /** build.sh's reason, as it wrote it. */
    private static String marker(Path marker) {
        try {
            return Files.readString(marker).strip();
        } catch (IOException e) {
            return "(" + marker + " unreadable: " + e.getMessage() + ")";
        }
    }

    /** The built guest for Debian {@code version}, or the test is skipped (or fails, when required). */
    static KernelBuild.Built debian(String version) {
        return built(new KernelSource.Debian(version));
    }

    static KernelBuild.Built built(KernelSource source) {
        Path home = KernelBuild.harnessHome();
        Optional<String> why = KernelBuild.unavailable(source);
        Path marker = KernelBuild.buildDir(home, source).resolve("UNAVAILABLE");
        if (why.isEmpty() && Files.isRegularFile(marker)) {
            why = Optional.of("build.sh found it unavailable: " + marker(marker));
        }
        if (why.isPresent()) {
            String reason = source.describe() + " cannot be built here: " + why.get();
            if (required()) {
                Assertions.fail(reason + " (kharness.required=true)");
            }
            System.out.println("kharness: SKIPPED: " + reason);
            Assumptions.abort(reason);
        }
        Path guest = KernelBuild.buildDir(home, source).resolve("kguest");
        if (Files.isExecutable(guest) && Files.isExecutable(guest.resolveSibling("kh-selftest"))) {
            return KernelBuild.existing(home, source);
        }
        // Not built by the Maven build (an IDE run): build it now.
        return KernelBuild.ensureBuilt(home, source, KernelBuild.DEFAULT_TIMEOUT, System.out::println);
    }
}
