package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code examples/} is a project a lparemu user would write, outside the reactor. This builds and runs it with Maven,
 * offline, against the artifacts this build produced: what {@code mvn install} would put in the local repository.
 *
 * <p>The shared local repository is not written to. The example gets a repository of its own under
 * {@code target/example-repo}: lparemu's artifacts (this reactor's jars and poms, in the layout {@code install}
 * uses) in {@code org/lparemu}, and everything else (JUnit, Netty, Maven's plugins) linked from the build's local
 * repository, where this build already resolved it. So the example compiles against exactly this commit's jars,
 * even when another build installed different ones meanwhile.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ExampleProjectTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    /** The modules lparemu-junit needs at run time, plus the parent pom (the directory "." ). */
    private static final List<String> MODULES = List.of(".", "proto", "emulator-core", "wire", "client", "server",
            "demo", "junit");
    private static final Pattern ARTIFACT_ID = Pattern.compile("</parent>\\s*<artifactId>([^<]+)</artifactId>");
    private static final Pattern TESTS_RUN = Pattern.compile("Tests run: (\\d+), Failures: (\\d+), Errors: (\\d+)");

    @Test
    void theExampleProjectBuildsOfflineAgainstTheInstalledArtifactsAndItsTestsPass() throws Exception {
        String version = property("lparemu.version");
        Path target = Path.of("target").toAbsolutePath();
        Path repo = target.resolve("example-repo");
        Path project = target.resolve("example-project");
        deleteTree(repo);
        deleteTree(project);
        linkForest(Path.of(property("lparemu.localRepository")), repo);
        for (String module : MODULES) {
            installFromReactor(ROOT.resolve(module).normalize(), repo, version);
        }
        copyTree(ROOT.resolve("examples"), project);

        Path log = target.resolve("example-project.log");
        Path mvn = Path.of(property("lparemu.mavenHome"), "bin", "mvn");
        Process p = new ProcessBuilder(mvn.toString(), "-B", "-o", "test", "-Dmaven.repo.local=" + repo)
                .directory(project.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = p.waitFor(8, TimeUnit.MINUTES);
        if (!exited) {
            p.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited, "the example build did not finish; " + log);
        assertEquals(0, p.exitValue(), "the example build failed (" + log + "):\n" + tail(output));
        Matcher m = TESTS_RUN.matcher(output);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        assertEquals("Tests run: 2, Failures: 0, Errors: 0", last, "the example's two tests ran and passed:\n"
                + tail(output));
        assertTrue(output.contains("com.example.lpar.SuspendRefusedTest")
                && output.contains("com.example.lpar.MigrationReopensWindowsTest"), tail(output));
    }

    /** {@code module/target/<artifactId>-<version>.jar} and its pom, where {@code mvn install} would put them. */
    static void installFromReactor(Path module, Path repo, String version) throws IOException {
        String pom = Files.readString(module.resolve("pom.xml"), StandardCharsets.UTF_8);
        Matcher m = ARTIFACT_ID.matcher(pom);
        String artifactId = m.find() ? m.group(1) : "lparemu-parent";
        Path dir = repo.resolve("org/lparemu").resolve(artifactId).resolve(version);
        Files.createDirectories(dir);
        Files.copy(module.resolve("pom.xml"), dir.resolve(artifactId + "-" + version + ".pom"),
                StandardCopyOption.REPLACE_EXISTING);
        if (!artifactId.equals("lparemu-parent")) {
            Path jar = module.resolve("target").resolve(artifactId + "-" + version + ".jar");
            assertTrue(Files.isRegularFile(jar), jar + " is missing: package the reactor first (mvn -B package)");
            Files.copy(jar, dir.resolve(jar.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** {@code repo} mirrors {@code local} through symbolic links, except {@code org/lparemu}, which stays empty. */
    static void linkForest(Path local, Path repo) throws IOException {
        Files.createDirectories(repo.resolve("org/lparemu"));
        try (Stream<Path> top = Files.list(local)) {
            for (Path p : top.toList()) {
                if (!p.getFileName().toString().equals("org")) {
                    Files.createSymbolicLink(repo.resolve(p.getFileName().toString()), p);
                }
            }
        }
        Path org = local.resolve("org");
        if (Files.isDirectory(org)) {
            try (Stream<Path> children = Files.list(org)) {
                for (Path p : children.toList()) {
                    if (!p.getFileName().toString().equals("lparemu")) {
                        Files.createSymbolicLink(repo.resolve("org").resolve(p.getFileName().toString()), p);
                    }
                }
            }
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path rel = from.relativize(p);
                if (rel.startsWith("target")) {
                    continue;
                }
                Path dest = to.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /** Deletes a tree without following its links (the forest's links point into the shared repository). */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir)) { // does not follow links: a link is deleted, never its target
            all = new ArrayList<>(walk.toList());
        }
        all.sort(Comparator.reverseOrder());
        for (Path p : all) {
            Files.delete(p);
        }
    }

    private static String property(String name) {
        String v = System.getProperty(name);
        assertTrue(v != null && !v.isEmpty() && !v.contains("${"), "system property " + name + " is not set by the pom");
        return v;
    }

    private static String tail(String output) {
        String[] lines = output.split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - 60), lines.length));
    }
}
