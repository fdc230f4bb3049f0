package org.lparemu.kernel;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Builds the C guest for a kernel source with the module's Makefile (only what is out of date: a tree is
 * extracted once, objects are rebuilt when their sources change), and says what was built.
 */
public final class KernelBuild {
    /** How long one make may take (an extraction is about 12 s, a full compile about 10 s on 2 cores). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    private static final Pattern VERSION = Pattern.compile("#define KH_KERNEL_VERSION \"([^\"]*)\"");
    private static final Pattern COUNTER = Pattern.compile("#define KH_VAS_HAS_OPEN_WINS_PROGRESS (\\d)");

    private KernelBuild() {
    }

    /**
     * A built guest.
     *
     * @param inProgressCounter whether the tree's vas.c has nr_open_wins_progress, the 2023 fix (0cf72f7f14d1)
     * @param extractSeconds    time spent extracting or copying the tree (0 when it was already there)
     * @param compileSeconds    time spent compiling and linking (0 when nothing was out of date)
     */
    public record Built(KernelSource source, Path dir, Path guest, Path selftest, String kernelVersion,
                        boolean inProgressCounter, double extractSeconds, double compileSeconds) {
        /** The Java port's policy whose algorithm this kernel's vas.c has: UPSTREAM with the fix, else PRE_FIX. */
        public String equivalentPolicy() {
            return inProgressCounter ? "UPSTREAM" : "PRE_FIX";
        }

        /** The matrix column: "linux-6.1.192". */
        public String column() {
            return "linux-" + kernelVersion;
        }
    }

    /**
     * The kernel-harness module directory (where the Makefile is): the system property {@code kharness.home},
     * else {@code ./kernel-harness} or {@code .} or a parent of the working directory that has one.
     */
    public static Path harnessHome() {
        String prop = System.getProperty("kharness.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            for (Path candidate : List.of(p.resolve("kernel-harness"), p)) {
                if (Files.isRegularFile(candidate.resolve("kernel-files.txt"))
                        && Files.isRegularFile(candidate.resolve("Makefile"))) {
                    return candidate;
                }
            }
        }
        throw new KernelHarnessException(KernelHarnessException.Kind.UNAVAILABLE,
                "cannot find the kernel-harness directory (its Makefile): run from the repository or set -Dkharness.home");
    }

    /** The build directory of a source. */
    public static Path buildDir(Path home, KernelSource source) {
        return home.resolve("target/kharness").resolve(source.flavour());
    }

    /** Why this source cannot be built here, or empty when everything it needs is installed. */
    public static Optional<String> unavailable(KernelSource source) {
        List<String> why = new ArrayList<>();
        if (findOnPath(System.getenv().getOrDefault("CC", "gcc")).isEmpty()) {
            why.add("no C compiler (gcc)");
        }
        if (findOnPath("make").isEmpty()) {
            why.add("no make");
        }
        if (findOnPath("protoc-c").isEmpty()) {
            why.add("no protoc-c (package protobuf-c-compiler)");
        }
        if (!Files.isRegularFile(Path.of("/usr/include/protobuf-c/protobuf-c.h"))) {
            why.add("no protobuf-c headers (package libprotobuf-c-dev)");
        }
        String pkg = "";
        if (source instanceof KernelSource.Debian d) {
            if (findOnPath("xz").isEmpty()) {
                why.add("no xz (package xz-utils)");
            }
            if (!Files.isRegularFile(d.tarball())) {
                why.add("no " + d.tarball() + " (package linux-source-" + d.version() + ")");
            }
            pkg = " linux-source-" + d.version();
        } else if (source instanceof KernelSource.Tree t && !t.looksLikeLinux()) {
            why.add(t.dir() + " is not a Linux tree (no arch/powerpc/platforms/pseries/vas.c)");
        }
        if (why.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.join("; ", why) + "; install with: apt-get install gcc make libprotobuf-c-dev "
                + "protobuf-c-compiler xz-utils" + pkg);
    }

    /** Builds (or brings up to date) the guest and the self-test for a source. */
    public static synchronized Built ensureBuilt(Path home, KernelSource source, Duration timeout, Consumer<String> log) {
        unavailable(source).ifPresent(why -> {
            throw new KernelHarnessException(KernelHarnessException.Kind.UNAVAILABLE, source.describe() + ": " + why);
        });
        Path dir = buildDir(home, source);
        long t0 = System.nanoTime();
        make(home, source, dir, "extract", timeout, log);
        long t1 = System.nanoTime();
        make(home, source, dir, "all", timeout, log);
        long t2 = System.nanoTime();
        return describe(source, dir, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    /** What a build directory holds, without building (for the tests, after build.sh). */
    public static Built existing(Path home, KernelSource source) {
        Path dir = buildDir(home, source);
        Properties times = new Properties();
        try (InputStream in = Files.newInputStream(dir.resolve("build-times.properties"))) {
            times.load(in);
        } catch (IOException e) {
            // build.sh writes it; a guest built by make alone has no timings
        }
        return describe(source, dir, Double.parseDouble(times.getProperty("extract.seconds", "0")),
                Double.parseDouble(times.getProperty("compile.seconds", "0")));
    }

    private static Built describe(KernelSource source, Path dir, double extract, double compile) {
        Path guest = dir.resolve("kguest");
        Path selftest = dir.resolve("kh-selftest");
        Path features = dir.resolve("gen/kh_features.h");
        if (!Files.isExecutable(guest) || !Files.isRegularFile(features)) {
            throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED,
                    "no guest in " + dir + " (run build.sh or make " + String.join(" ", source.makeArguments()) + ")");
        }
        String text;
        try {
            text = Files.readString(features, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED, "cannot read " + features, e);
        }
        Matcher v = VERSION.matcher(text);
        Matcher c = COUNTER.matcher(text);
        if (!v.find() || !c.find()) {
            throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED, features + " is incomplete");
        }
        return new Built(source, dir, guest, selftest, v.group(1), c.group(1).equals("1"), extract, compile);
    }

    private static void make(Path home, KernelSource source, Path dir, String target, Duration timeout,
                             Consumer<String> log) {
        List<String> cmd = new ArrayList<>(List.of("make", "-s", "-C", home.toString()));
        cmd.addAll(source.makeArguments());
        cmd.add("O=" + dir);
        cmd.add(target);
        Path logFile = dir.resolve("make-" + target + ".log");
        try {
            Files.createDirectories(dir);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED,
                        String.join(" ", cmd) + " did not finish within " + timeout);
            }
            String out = Files.readString(logFile, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED, String.join(" ", cmd)
                        + " failed (exit " + p.exitValue() + "):\n" + tail(out, 40));
            }
            out.lines().filter(l -> l.startsWith("kharness:")).forEach(log);
        } catch (IOException e) {
            throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED, "cannot run make: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KernelHarnessException(KernelHarnessException.Kind.BUILD_FAILED, "interrupted while building", e);
        }
    }

    static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    static Optional<Path> findOnPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String d : path.split(File.pathSeparator)) {
            Path p = Path.of(d, program);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
