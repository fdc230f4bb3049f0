package org.lparemu.kernel;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the kernel files come from: Debian's {@code linux-source-<version>} tarball, or a Linux tree the user
 * names (patched or not). Either way only the members listed in {@code kernel-files.txt} are read, into the
 * build directory.
 */
public sealed interface KernelSource {
    /** The build directory's name under {@code target/kharness}: {@code debian-6.1}, {@code ksrc-<hash>}. */
    String flavour();

    /** The make variables that select this source. */
    List<String> makeArguments();

    /** One line for humans: "Debian linux-source-6.1", "tree /home/me/linux". */
    String describe();

    /** Debian's package {@code linux-source-<version>} (its tarball in /usr/src). */
    record Debian(String version) implements KernelSource {
        private static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+");

        public Debian {
            Objects.requireNonNull(version, "version");
            if (!VERSION.matcher(version).matches()) {
                throw new IllegalArgumentException("a Debian kernel version looks like 6.1 or 6.12, not '" + version + "'");
            }
        }

        @Override
        public String flavour() {
            return "debian-" + version;
        }

        @Override
        public List<String> makeArguments() {
            return List.of("DEBIAN=" + version);
        }

        @Override
        public String describe() {
            return "Debian linux-source-" + version;
        }

        /** The tarball the package installs (in /usr/src, or $DEBIAN_SRC_DIR as for the Makefile and build.sh). */
        public Path tarball() {
            String dir = System.getenv().getOrDefault("DEBIAN_SRC_DIR", "/usr/src");
            return Path.of(dir.isEmpty() ? "/usr/src" : dir, "linux-source-" + version + ".tar.xz");
        }
    }

    /** A Linux source tree on disk. */
    record Tree(Path dir) implements KernelSource {
        public Tree {
            dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
        }

        @Override
        public String flavour() {
            try {
                byte[] d = MessageDigest.getInstance("SHA-256").digest(dir.toString().getBytes(StandardCharsets.UTF_8));
                return "ksrc-" + HexFormat.of().formatHex(d, 0, 5);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public List<String> makeArguments() {
            return List.of("KSRC=" + dir, "FLAVOUR=" + flavour());
        }

        @Override
        public String describe() {
            return "tree " + dir;
        }

        /** True when the directory has the file this harness exists for. */
        public boolean looksLikeLinux() {
            return Files.isRegularFile(dir.resolve("arch/powerpc/platforms/pseries/vas.c"));
        }
    }

    /** "6.1" or "6.12" for Debian, otherwise a path to a tree. */
    static KernelSource parse(String debianVersion, Path tree) {
        if ((debianVersion == null) == (tree == null)) {
            throw new IllegalArgumentException("name exactly one kernel: --debian VERSION or --ksrc DIR");
        }
        return debianVersion != null ? new Debian(debianVersion) : new Tree(tree);
    }
}
