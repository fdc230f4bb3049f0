package org.lparemu.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The rules of the house, enforced over every Java file of the repository (after TigerBeetle's {@code tidy.zig}).
 * Each rule is a function from a file's text to its violations; {@link #everyRuleFiresOnABadSample} proves that each
 * one can fire, so a rule that silently stopped matching would fail the build too.
 *
 * <ul>
 *   <li>{@code sleep}: no {@code Thread.sleep}: tests synchronise on holds, latches and awaited conditions, and the
 *       product's time goes through the injectable clocks;</li>
 *   <li>{@code logger}: one logger naming, {@code private static final Logger LOG = LoggerFactory.getLogger(X.class)}
 *       with X the enclosing class;</li>
 *   <li>{@code qualified-name}: imports instead of inline qualified class names (allowed only where the simple name
 *       clashes with one the file already uses, as the wire mapping's proto and core twins do);</li>
 *   <li>{@code fields-first}: a type's fields come before its constructors and methods;</li>
 *   <li>{@code unused-import}: every single-type import is used;</li>
 *   <li>{@code marker}: no to-do or fix-me markers and no disabled tests;</li>
 *   <li>{@code jcstress-forbidden}: every class annotated {@code @JCStressTest}, each nested variant on its own, has an
 *       {@code @Outcome} that is FORBIDDEN (a test without one cannot fail). The one exception is a shape demo, a
 *       {@code *ShapeDemo.java} file of the jcstress module that shows a memory-model shape on fields of its own: it
 *       may not import product code, and the gate runs it without counting it (jcstress/README.md);</li>
 *   <li>{@code whitespace}: no tabs, no trailing blanks, lines of at most 140 characters;</li>
 *   <li>{@code console}: {@code System.out} / {@code System.err} only in the command-line and tool modules.</li>
 * </ul>
 * And one rule for the shell scripts ({@code .ci/run} and every script that sets {@code pipefail}):
 * <ul>
 *   <li>{@code pipefail-head}: no pipe into {@code head}. Under pipefail the pipeline fails when the writer dies of
 *       the pipe {@code head} closed early: {@code mvn -v | head -1} failed CI after one second (Maven's console
 *       library raises an error on the broken pipe). {@code sed -n 1p} reads to the end instead.</li>
 * </ul>
 */
class TidyTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final int MAX_LINE = 140;
    /** Modules whose product code may print: the command line and the tools. */
    private static final Set<String> CONSOLE_MODULES = Set.of("cli", "benchmarks", "jcstress", "kernel-harness", "fray-bench");

    private static final Pattern SLEEP = Pattern.compile("\\bThread\\.sleep\\s*\\(");
    private static final Pattern LOGGER_FIELD = Pattern.compile(
            "\\bLogger\\s+(\\w+)\\s*=\\s*LoggerFactory\\.getLogger\\((\\w+)\\.class\\)");
    private static final Pattern QUALIFIED = Pattern.compile(
            "(?<![\\w.])((?:java|javax|jdk|sun|org|com|io|ch|picocli)(?:\\.[a-z][a-z0-9_]*)+)\\.([A-Z]\\w*)");
    private static final Pattern IMPORT = Pattern.compile("^import (static )?([\\w.]+?)(\\.\\*)?;", Pattern.MULTILINE);
    private static final Pattern TYPE_DECL = Pattern.compile("\\b(class|interface|enum|record)\\s+(\\w+)");
    private static final Pattern JCSTRESS_TEST = Pattern.compile("@JCStressTest\\b");
    private static final Pattern FORBIDDEN_OUTCOME = Pattern.compile("@Outcome\\s*\\([^)]*\\bFORBIDDEN\\b");
    private static final Pattern PRODUCT_IMPORT = Pattern.compile("^import (static )?org\\.lparemu\\.", Pattern.MULTILINE);
    private static final Pattern MARKER = Pattern.compile("\\b(" + "TO" + "DO|" + "FIX" + "ME|" + "X" + "XX)\\b|@"
            + "Disabled\\b");

    /** One broken rule at a place. */
    record Violation(String rule, String file, int line, String what) {
        @Override
        public String toString() {
            return file + ":" + line + ": [" + rule + "] " + what;
        }
    }

    @Test
    void theRepositoryKeepsTheRulesOfTheHouse() throws IOException {
        List<Violation> all = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(ROOT)) {
            for (Path p : paths.filter(TidyTest::isSource).toList()) {
                files++;
                all.addAll(check(ROOT.relativize(p).toString(), Files.readString(p, StandardCharsets.UTF_8)));
            }
        }
        assertTrue(files > 200, "the walk found only " + files + " Java files under " + ROOT);
        assertEquals(List.of(), all, all.size() + " violation(s):\n"
                + String.join("\n", all.stream().map(Violation::toString).toList()));
    }

    @Test
    void scriptsUnderPipefailNeverPipeIntoHead() throws IOException {
        List<Violation> all = new ArrayList<>();
        int scripts = 0;
        try (Stream<Path> paths = Files.walk(ROOT)) {
            for (Path p : paths.filter(TidyTest::isShellScript).toList()) {
                String text = Files.readString(p, StandardCharsets.UTF_8);
                if (text.contains("pipefail")) {
                    scripts++;
                    all.addAll(pipefailHeads(ROOT.relativize(p).toString(), text));
                }
            }
        }
        assertTrue(scripts >= 5, "found only " + scripts + " scripts with pipefail (.ci/run among them)");
        assertEquals(List.of(), all, String.join("\n", all.stream().map(Violation::toString).toList()));
        assertEquals(1, pipefailHeads("x/run", "set -euo pipefail\nmvn -v | head -1\n").size(), "the rule fires");
        assertEquals(List.of(), pipefailHeads("x/run", "set -euo pipefail\nmvn -v 2>&1 | sed -n 1p\n"));
    }

    @Test
    void everyRuleFiresOnABadSample() {
        Map<String, String> bad = new LinkedHashMap<>();
        bad.put("sleep", "class A {\n    void f() throws Exception {\n        Thread.sleep(10);\n    }\n}\n");
        bad.put("logger", "class A {\n    private static final Logger log = LoggerFactory.getLogger(A.class);\n}\n");
        bad.put("qualified-name", "import java.util.List;\n\nclass A {\n    List<String> a;\n    java.util.List<String> b;\n}\n");
        bad.put("fields-first", "class A {\n    void f() {\n    }\n\n    private int late;\n}\n");
        bad.put("unused-import", "import java.util.List;\n\nclass A {\n}\n");
        bad.put("marker", "class A {\n    // " + "TO" + "DO finish\n}\n");
        bad.put("jcstress-forbidden", "@JCStressTest\n@Outcome(id = \"0\", expect = Expect.ACCEPTABLE)\nclass A {\n}\n");
        bad.put("whitespace", "class A {\n\tint x;\n}\n");
        bad.put("console", "class A {\n    void f() {\n        System.out.println(1);\n    }\n}\n");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            List<Violation> v = check("emulator-core/src/main/java/A.java", e.getValue());
            assertTrue(v.stream().anyMatch(x -> x.rule().equals(e.getKey())), e.getKey() + " did not fire: " + v);
        }
        String good = """
                import java.util.List;

                class A {
                    private static final Logger LOG = LoggerFactory.getLogger(A.class);
                    private final List<String> names = List.of("x");

                    A() {
                    }

                    void f() {
                        LOG.info("{}", names);
                    }

                    static final class B {
                        int inner;

                        void g() {
                        }
                    }
                }
                """;
        assertEquals(List.of(), check("emulator-core/src/main/java/A.java", good));
    }

    @Test
    void jcstressForbiddenIsCheckedPerAnnotatedClass() {
        String file = "jcstress/src/main/java/org/lparemu/core/guest/XTest.java";
        // The file as a whole has a FORBIDDEN outcome (and imports it); its second variant has none.
        String oneVariantUnguarded = """
                import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
                import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

                public final class XTest {
                    @JCStressTest
                    @Outcome(id = "1", expect = ACCEPTABLE, desc = "fine")
                    @Outcome(id = "0", expect = FORBIDDEN, desc = "lost")
                    @State
                    public static class Guarded {
                    }

                    @JCStressTest
                    @Description("FORBIDDEN in a string is no outcome")
                    @Outcome(id = "1", expect = ACCEPTABLE, desc = "not FORBIDDEN")
                    @SuppressWarnings({"GuardedBy", "unused"})
                    @State
                    public static class Unguarded {
                    }
                }
                """;
        List<Violation> v = jcstressRule(file, oneVariantUnguarded);
        assertEquals(1, v.size(), v.toString());
        assertTrue(v.get(0).what().contains("Unguarded") && v.get(0).line() == 17, v.toString());

        String topLevelAndCatchAll = """
                @Description("x")
                @JCStressTest
                @Outcome(id = "1", expect = ACCEPTABLE, desc = "fine")
                @Outcome(expect = Expect.FORBIDDEN, desc = "anything else")
                @State
                public class XTest {
                    static final class Helper {
                    }
                }
                """;
        assertEquals(List.of(), jcstressRule(file, topLevelAndCatchAll));

        String demo = """
                package org.lparemu.jcstress;

                public final class XShapeDemo {
                    @JCStressTest
                    @Outcome(id = "0", expect = ACCEPTABLE_INTERESTING)
                    public static class Sb {
                    }
                }
                """;
        assertEquals(List.of(), jcstressRule("jcstress/src/main/java/org/lparemu/jcstress/XShapeDemo.java", demo));
        assertEquals(1, jcstressRule("emulator-core/src/main/java/org/lparemu/core/XShapeDemo.java", demo).size(),
                "a shape demo outside the jcstress module");
        String demoOnProduct = demo.replace("\n\npublic", "\n\nimport org.lparemu.core.guest.PseriesVas;\n\npublic");
        List<Violation> onProduct = jcstressRule("jcstress/src/main/java/org/lparemu/jcstress/XShapeDemo.java", demoOnProduct);
        assertEquals(1, onProduct.size(), onProduct.toString());
        assertEquals(3, onProduct.get(0).line(), onProduct.toString());
    }

    private static List<Violation> jcstressRule(String file, String text) {
        return check(file, text).stream().filter(x -> x.rule().equals("jcstress-forbidden")).toList();
    }

    /** {@code .ci/run}, the launcher and the run / build scripts of the modules (outside build output). */
    private static boolean isShellScript(Path p) {
        String s = p.toString();
        String name = p.getFileName().toString();
        return !s.contains("/target/") && !s.contains("/.git/") && !s.contains("/node_modules/") && Files.isRegularFile(p)
                && (name.equals("run") || name.endsWith(".sh") || name.equals("lparemu"));
    }

    /** The {@code pipefail-head} rule over one script's lines (comments skipped). */
    static List<Violation> pipefailHeads(String file, String text) {
        List<Violation> out = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.startsWith("#") && line.matches(".*\\|\\s*head\\b.*")) {
                out.add(new Violation("pipefail-head", file, i + 1, line));
            }
        }
        return out;
    }

    private static boolean isSource(Path p) {
        String s = p.toString();
        return s.endsWith(".java") && !s.contains("/target/") && !s.contains("/.git/") && !s.contains("/examples/")
                && !s.contains("/generated-sources/");
    }

    static List<Violation> check(String file, String text) {
        List<Violation> out = new ArrayList<>();
        String code = stripCommentsAndStrings(text);
        String[] raw = text.split("\n", -1);
        String[] lines = code.split("\n", -1);
        boolean product = file.contains("/src/main/");
        String module = file.contains("/") ? file.substring(0, file.indexOf('/')) : "";

        for (int i = 0; i < lines.length; i++) {
            int n = i + 1;
            if (SLEEP.matcher(lines[i]).find()) {
                out.add(new Violation("sleep", file, n, "Thread.sleep"));
            }
            if (product && !CONSOLE_MODULES.contains(module) && lines[i].matches(".*\\bSystem\\.(out|err)\\b.*")) {
                out.add(new Violation("console", file, n, "System.out/err outside the command-line modules"));
            }
            if (MARKER.matcher(raw[i]).find()) {
                out.add(new Violation("marker", file, n, raw[i].strip()));
            }
            if (raw[i].indexOf('\t') >= 0 || (!raw[i].isEmpty() && Character.isWhitespace(raw[i].charAt(raw[i].length() - 1)))) {
                out.add(new Violation("whitespace", file, n, "tab or trailing blank"));
            }
            if (raw[i].length() > MAX_LINE) {
                out.add(new Violation("whitespace", file, n, "line of " + raw[i].length() + " characters"));
            }
        }
        loggers(file, code, out);
        qualifiedNames(file, text, code, out);
        unusedImports(file, text, code, out);
        fieldsFirst(file, code, out);
        jcstressForbidden(file, text, code, out);
        return out;
    }

    /**
     * Per annotated class: the annotations of a type are the code between the previous member's end (a semicolon or
     * a brace outside parentheses, so array-valued annotation arguments do not cut them short) and its {@code class}
     * keyword. Comments and strings are blanked first, so an outcome's description cannot fake it.
     */
    private static void jcstressForbidden(String file, String text, String code, List<Violation> out) {
        if (file.endsWith("ShapeDemo.java")) {
            Matcher im = PRODUCT_IMPORT.matcher(text);
            boolean importsProduct = im.find();
            if (!file.startsWith("jcstress/") || importsProduct) {
                out.add(new Violation("jcstress-forbidden", file, importsProduct ? lineOf(text, im.start()) : 1,
                        "a shape demo lives in the jcstress module and touches no product code"));
            }
            return;
        }
        Matcher td = TYPE_DECL.matcher(code);
        while (td.find()) {
            String annotations = code.substring(annotationsStart(code, td.start()), td.start());
            if (JCSTRESS_TEST.matcher(annotations).find() && !FORBIDDEN_OUTCOME.matcher(annotations).find()) {
                out.add(new Violation("jcstress-forbidden", file, lineOf(code, td.start()), "@JCStressTest "
                        + td.group(2) + " has no FORBIDDEN @Outcome, so it cannot fail"));
            }
        }
    }

    /** Where the modifiers and annotations before {@code pos} begin: after the previous member, skipping (...). */
    private static int annotationsStart(String code, int pos) {
        int depth = 0;
        for (int i = pos - 1; i >= 0; i--) {
            char c = code.charAt(i);
            if (c == ')') {
                depth++;
            } else if (c == '(') {
                depth--;
            } else if (depth == 0 && (c == ';' || c == '{' || c == '}')) {
                return i + 1;
            }
        }
        return 0;
    }

    private static void loggers(String file, String code, List<Violation> out) {
        Matcher m = LOGGER_FIELD.matcher(code);
        while (m.find()) {
            int line = lineOf(code, m.start());
            String enclosing = enclosingType(code, m.start());
            String decl = code.substring(code.lastIndexOf('\n', m.start()) + 1, m.start());
            if (!m.group(1).equals("LOG") || !decl.contains("private static final")
                    || (enclosing != null && !enclosing.equals(m.group(2)))) {
                out.add(new Violation("logger", file, line, "expected private static final Logger LOG = "
                        + "LoggerFactory.getLogger(" + enclosing + ".class)"));
            }
        }
    }

    private static void qualifiedNames(String file, String text, String code, List<Violation> out) {
        Set<String> imported = new HashSet<>();
        Set<String> importedFq = new HashSet<>();
        Matcher im = IMPORT.matcher(text);
        while (im.find()) {
            if (im.group(1) == null && im.group(3) == null) {
                String fq = im.group(2);
                imported.add(fq.substring(fq.lastIndexOf('.') + 1));
                importedFq.add(fq);
            }
        }
        Matcher td = TYPE_DECL.matcher(code);
        while (td.find()) {
            imported.add(td.group(2));
        }
        String[] lines = code.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (l.startsWith("import ") || l.startsWith("package ")) {
                continue;
            }
            Matcher m = QUALIFIED.matcher(lines[i]);
            while (m.find()) {
                // A clash is another class of the same simple name; the imported class itself, spelled out, is none.
                if (!imported.contains(m.group(2)) || importedFq.contains(m.group(1) + "." + m.group(2))) {
                    out.add(new Violation("qualified-name", file, i + 1, m.group(1) + "." + m.group(2)
                            + ": import it (a qualified name is only for a simple name that clashes)"));
                }
            }
        }
    }

    private static void unusedImports(String file, String text, String code, List<Violation> out) {
        String body = IMPORT.matcher(code).replaceAll("");
        // Javadoc references count as uses ({@link X}), as javac's own doclint would see them.
        String docs = text;
        Matcher im = IMPORT.matcher(text);
        while (im.find()) {
            if (im.group(3) != null) {
                continue;
            }
            String fq = im.group(2);
            String simple = fq.substring(fq.lastIndexOf('.') + 1);
            Pattern use = Pattern.compile("(?<![\\w$])" + Pattern.quote(simple) + "(?![\\w$])");
            boolean inCode = use.matcher(body).find();
            boolean inDoc = Pattern.compile("\\{@(link|linkplain|code) [^}]*\\b" + Pattern.quote(simple) + "\\b").matcher(docs).find()
                    || Pattern.compile("@(see|throws) [^\\n]*\\b" + Pattern.quote(simple) + "\\b").matcher(docs).find();
            if (!inCode && !inDoc) {
                out.add(new Violation("unused-import", file, lineOf(text, im.start()), fq));
            }
        }
    }

    /**
     * Tracks the members of every type body: once a constructor or method has been seen at a type's own depth, a
     * later field declaration at that depth is out of place. Enum constants, nested types and initializer blocks
     * (which set the fields just above them) are neither.
     */
    private static void fieldsFirst(String file, String code, List<Violation> out) {
        Deque<int[]> types = new ArrayDeque<>(); // {depth of the type's body, 1 once a method was seen}
        int depth = 0;
        StringBuilder stmt = new StringBuilder();
        int stmtStart = -1;
        for (int i = 0; i < code.length(); i++) {
            char c = code.charAt(i);
            if (stmtStart < 0 && !Character.isWhitespace(c)) {
                stmtStart = i;
            }
            if (c == '{') {
                // Annotations (@Outcome(id = "1", ...)) say nothing about what the block is.
                String head = stmt.toString().replaceAll("@\\w+(\\.\\w+)*(\\([^)]*\\))?", "").strip();
                boolean atTypeLevel = !types.isEmpty() && types.peek()[0] == depth;
                if (TYPE_DECL.matcher(head).find() && !head.contains("=") && !head.contains("->")) {
                    types.push(new int[] {depth + 1, 0});
                } else if (atTypeLevel && !head.contains("=") && head.matches("(?s).*\\)\\s*(throws [\\w., ]+)?")) {
                    types.peek()[1] = 1;
                }
                depth++;
                stmt.setLength(0);
                stmtStart = -1;
            } else if (c == '}') {
                depth--;
                if (!types.isEmpty() && types.peek()[0] == depth + 1) {
                    types.pop();
                }
                stmt.setLength(0);
                stmtStart = -1;
            } else if (c == ';') {
                String s = stmt.toString().strip();
                if (!types.isEmpty() && types.peek()[0] == depth && types.peek()[1] == 1 && isField(s)) {
                    out.add(new Violation("fields-first", file, lineOf(code, stmtStart), "field after a method: "
                            + firstLine(s)));
                }
                stmt.setLength(0);
                stmtStart = -1;
            } else {
                stmt.append(c);
            }
        }
    }

    private static boolean isField(String s) {
        if (s.isEmpty() || s.startsWith("import ") || s.startsWith("package ") || (s.startsWith("@")
                && !s.contains(" "))) {
            return false;
        }
        String beforeInit = s.contains("=") ? s.substring(0, s.indexOf('=')) : s;
        String noAnnotations = beforeInit.replaceAll("@\\w+(\\([^)]*\\))?", "").strip();
        return !noAnnotations.contains("(") && !noAnnotations.contains(",") && noAnnotations.matches("(?s)[\\w<>\\[\\]?.,\\s]+\\s\\w+");
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String enclosingType(String code, int pos) {
        Matcher m = TYPE_DECL.matcher(code);
        String last = null;
        while (m.find() && m.start() < pos) {
            last = m.group(2);
        }
        return last;
    }

    private static int lineOf(String text, int pos) {
        int n = 1;
        for (int i = 0; i < pos && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    /** Blanks out comments, string and char literals and text blocks, keeping every newline where it was. */
    static String stripCommentsAndStrings(String t) {
        StringBuilder b = new StringBuilder(t.length());
        int i = 0;
        while (i < t.length()) {
            char c = t.charAt(i);
            if (t.startsWith("//", i)) {
                while (i < t.length() && t.charAt(i) != '\n') {
                    b.append(' ');
                    i++;
                }
            } else if (t.startsWith("/*", i)) {
                int end = t.indexOf("*/", i + 2);
                end = end < 0 ? t.length() : end + 2;
                for (; i < end; i++) {
                    b.append(t.charAt(i) == '\n' ? '\n' : ' ');
                }
            } else if (t.startsWith("\"\"\"", i)) {
                int end = t.indexOf("\"\"\"", i + 3);
                end = end < 0 ? t.length() : end + 3;
                for (; i < end; i++) {
                    b.append(t.charAt(i) == '\n' ? '\n' : ' ');
                }
                b.append("\"\"");
            } else if (c == '"' || c == '\'') {
                b.append(c);
                i++;
                while (i < t.length() && t.charAt(i) != c && t.charAt(i) != '\n') {
                    if (t.charAt(i) == '\\') {
                        b.append(' ');
                        i++;
                    }
                    b.append(' ');
                    i++;
                }
                if (i < t.length()) {
                    b.append(t.charAt(i));
                    i++;
                }
            } else {
                b.append(c);
                i++;
            }
        }
        return b.toString();
    }
}
