import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Turns PIT's mutations.xml files (every module's target/pit-reports/) into docs/mutation.md: the score per package
 * and per class, and every survivor of the classes issue 12 names with the reason it is left (from
 * mutation/survivors.tsv), or flagged when no reason is written down. Run by the pit profile after each module's
 * run (a single-file program: {@code java mutation/PitReport.java docs/mutation.md}, from the repository root).
 */
public final class PitReport {
    /** The classes whose survivors are listed one by one (issue 12's list, and the cross-module predictions). */
    static final List<String> FOCUS = List.of("org.lparemu.core.guest.PseriesVas", "org.lparemu.core.guest.PseriesMobility",
            "org.lparemu.core.hypervisor.MobilityRtas", "org.lparemu.core.hypervisor.JoinHcalls",
            "org.lparemu.core.hypervisor.VasHcalls", "org.lparemu.core.fault.FaultPlan",
            "org.lparemu.core.check.InvariantChecker", "org.lparemu.wire.FaultMapping", "org.lparemu.cli.CtlOps");
    static final String NOTES = "mutation/survivors.tsv";

    /** One mutant as PIT reported it. */
    record Mutant(String module, String clazz, String method, int line, String mutator, String description,
                  String status, boolean detected) {
        String outer() {
            int d = clazz.indexOf('$');
            return d < 0 ? clazz : clazz.substring(0, d);
        }

        String pkg() {
            return clazz.substring(0, clazz.lastIndexOf('.'));
        }

        /** The key survivors.tsv uses: class, method, line and PIT's description. */
        String key() {
            return clazz + "\t" + method + "\t" + line + "\t" + description;
        }
    }

    /** Counts of one group of mutants. */
    static final class Tally {
        int total;
        int detected;
        int survived;
        int noCoverage;

        void add(Mutant m) {
            total++;
            if (m.detected()) {
                detected++;
            } else if (m.status().equals("NO_COVERAGE")) {
                noCoverage++;
            } else {
                survived++;
            }
        }

        String row(String name) {
            return "| " + name + " | " + total + " | " + detected + " | " + survived + " | " + noCoverage + " | "
                    + score() + " |";
        }

        String score() {
            return total == 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100.0 * detected / total);
        }
    }

    private PitReport() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/mutation.md");
        List<Mutant> all = new ArrayList<>();
        List<String> modules = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(Path.of("."))) {
            for (Path d : dirs.sorted().toList()) {
                Path xml = d.resolve("target/pit-reports/mutations.xml");
                if (Files.isRegularFile(xml) && Files.size(xml) > 0) {
                    String module = d.getFileName().toString();
                    try {
                        all.addAll(read(module, xml));
                        modules.add(module);
                    } catch (SAXException e) {
                        System.out.println("mutation report: " + xml + " skipped (a run still writing it?): " + e.getMessage());
                    }
                }
            }
        }
        Map<String, String> notes = notes(Path.of(NOTES));
        Files.writeString(out, render(all, modules, notes), StandardCharsets.UTF_8);
        long unexplained = all.stream().filter(m -> survivor(m) && FOCUS.contains(m.outer()) && note(notes, m) == null)
                .count();
        System.out.println("mutation report: " + all.size() + " mutants from " + modules + " -> " + out
                + (unexplained > 0 ? "; " + unexplained + " survivor(s) of the focus classes without a reason" : ""));
    }

    static boolean survivor(Mutant m) {
        return !m.detected();
    }

    static List<Mutant> read(String module, Path xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        NodeList ms = f.newDocumentBuilder().parse(xml.toFile()).getElementsByTagName("mutation");
        List<Mutant> out = new ArrayList<>();
        for (int i = 0; i < ms.getLength(); i++) {
            Element e = (Element) ms.item(i);
            String mutator = text(e, "mutator");
            out.add(new Mutant(module, text(e, "mutatedClass"), text(e, "mutatedMethod"),
                    Integer.parseInt(text(e, "lineNumber")), mutator.substring(mutator.lastIndexOf('.') + 1),
                    text(e, "description"), e.getAttribute("status"), Boolean.parseBoolean(e.getAttribute("detected"))));
        }
        return out;
    }

    private static String text(Element e, String tag) {
        NodeList l = e.getElementsByTagName(tag);
        return l.getLength() == 0 ? "" : l.item(0).getTextContent().strip();
    }

    /** survivors.tsv: class, method, line, PIT description, reason; tab-separated; '#' starts a comment line. */
    static Map<String, String> notes(Path tsv) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (!Files.exists(tsv)) {
            return out;
        }
        for (String line : Files.readAllLines(tsv, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", 5);
            if (f.length == 5) {
                out.put(f[0] + "\t" + f[1] + "\t" + f[2] + "\t" + f[3], f[4].strip());
            }
        }
        return out;
    }

    static String note(Map<String, String> notes, Mutant m) {
        return notes.get(m.key());
    }

    static String render(List<Mutant> all, List<String> modules, Map<String, String> notes) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Mutation testing\n\n")
                .append("Generated by `./mutation/run` (the `pit` Maven profile, PIT 1.20.0 with its default mutators and the\n")
                .append("JUnit 5 plugin 1.2.3, then `mutation/PitReport.java`); do not edit by hand: reasons for survivors live in\n")
                .append("`mutation/survivors.tsv`. Modules run: ").append(String.join(", ", modules)).append(".\n\n")
                .append("A mutant is killed when a test fails (or times out) with it in place; \"no coverage\" means no test\n")
                .append("reached its line. Score = killed / mutants. A package's row counts the classes mutated in it (the\n")
                .append("profile's `targetClasses`), not the whole package. Survivors are marked equivalent (no behaviour can\n")
                .append("tell them apart), harmless (only a log line, a counter or a trace differs) or gap (a path no test\n")
                .append("takes yet).\n\n");
        Tally total = new Tally();
        Map<String, Tally> byPackage = new TreeMap<>();
        Map<String, Tally> byClass = new TreeMap<>();
        for (Mutant m : all) {
            total.add(m);
            byPackage.computeIfAbsent(m.pkg() + " (" + m.module() + ")", k -> new Tally()).add(m);
            byClass.computeIfAbsent(m.outer(), k -> new Tally()).add(m);
        }
        sb.append("## Per package\n\n| package (module) | mutants | killed | survived | no coverage | score |\n")
                .append("|---|---:|---:|---:|---:|---:|\n");
        byPackage.forEach((k, t) -> sb.append(t.row(k)).append('\n'));
        sb.append(total.row("**all**")).append("\n\n");

        sb.append("## The classes issue 12 names\n\n| class | mutants | killed | survived | no coverage | score |\n")
                .append("|---|---:|---:|---:|---:|---:|\n");
        for (String c : FOCUS) {
            Tally t = byClass.get(c);
            if (t != null) {
                sb.append(t.row(c.substring(c.lastIndexOf('.') + 1))).append('\n');
            }
        }
        sb.append("\n## Survivors of those classes, and why each is left\n\n");
        for (String c : FOCUS) {
            List<Mutant> left = all.stream().filter(m -> m.outer().equals(c) && survivor(m)).toList();
            if (left.isEmpty()) {
                continue;
            }
            sb.append("### ").append(c.substring(c.lastIndexOf('.') + 1)).append("\n\n");
            for (Mutant m : left) {
                String why = note(notes, m);
                sb.append("- line ").append(m.line()).append(", `").append(m.method()).append("`: ").append(m.description())
                        .append(" (").append(m.status().toLowerCase(Locale.ROOT).replace('_', ' ')).append(")")
                        .append(why == null ? " - **no reason recorded**" : " - " + why).append('\n');
            }
            sb.append('\n');
        }
        sb.append("## Every class\n\n| class | mutants | killed | survived | no coverage | score |\n")
                .append("|---|---:|---:|---:|---:|---:|\n");
        byClass.forEach((k, t) -> sb.append(t.row(k.substring(k.lastIndexOf('.') + 1))).append('\n'));
        return sb.toString();
    }
}
